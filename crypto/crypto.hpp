#pragma once
// OpenSSL's SHA-256, HMAC-SHA256 and random bytes, each as lowercase hex: the webhook signatures,
// the signed promise links and OAuth states, the API and session tokens and their hashes.
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace dunning::crypto {

std::string hex(std::span<const unsigned char> bytes);

// HMAC-SHA256 under `key` of `parts`, one after the other (as if they were one string).
std::string hmac_sha256_hex(std::string_view key, std::initializer_list<std::string_view> parts);

std::string sha256_hex(std::string_view text);

// `bytes` bytes from OpenSSL's generator, as twice as many hex digits. Throws
// std::runtime_error when the generator fails.
std::string random_hex(std::size_t bytes);

} // namespace dunning::crypto
