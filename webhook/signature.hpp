#pragma once
// Stripe-Signature verification, a pure function of (body, header, secrets, now), matching
// stripe-go's webhook/client.go and stripe-node's Webhooks.signature.verifyHeader.
#include "core/result.hpp"
#include "core/time.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::webhook {

enum class SignatureError {
    not_signed,         // header missing or empty
    invalid_header,     // no usable timestamp, or no v1 signature at all
    no_valid_signature, // no v1 matches any of the secrets
    too_old,            // timestamp older than the tolerance
};

const char* to_string(SignatureError e); // "not_signed", … (also used as metric label)

inline constexpr std::chrono::seconds default_tolerance{300};

// Returns the index of the secret that matched. Several secrets are active while one is
// being rolled; a timestamp in the future is accepted, exactly as Stripe's libraries do.
// A tolerance of zero or less disables the age check (again as Stripe's libraries do).
Result<std::size_t, SignatureError>
verify_signature(std::string_view body, std::string_view header,
                 const std::vector<std::string>& secrets, Timestamp now,
                 std::chrono::seconds tolerance = default_tolerance);

// Builds a header the way Stripe does ("t=<unix>,v1=<hex>"), for tests, fakes and benchmarks.
std::string sign_payload(std::string_view body, std::string_view secret, Timestamp at);

// Lowercase hex HMAC-SHA256 of "<t>.<body>" keyed with the whole secret string.
std::string compute_signature(std::string_view body, std::string_view secret, std::int64_t t);

} // namespace dunning::webhook
