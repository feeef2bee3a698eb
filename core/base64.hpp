#pragma once
// Standard base64 (RFC 4648 §4, with padding): keys in the configuration and sealed secrets in
// the store are written this way.
#include <optional>
#include <string>
#include <string_view>

namespace dunning {

std::string base64_encode(std::string_view bytes);

// Nothing unless `text` is canonical standard base64: alphabet A–Z a–z 0–9 + /, length a
// multiple of 4, "=" padding only at the end, no whitespace, unused bits zero.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace dunning
