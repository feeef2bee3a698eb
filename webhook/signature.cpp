#include "webhook/signature.hpp"

#include "crypto/crypto.hpp"

#include <algorithm>
#include <cstdint>
#include <openssl/crypto.h>
#include <optional>

// Accept/reject follows stripe-node's Webhooks.js (the oracle of the differential test) where it
// and stripe-go's webhook/client.go disagree:
// - items are split on ',' and a value ends at the next '=': empty items, unknown keys and a
//   trailing "=…" are ignored (go refuses the whole header); the last `t` wins in both;
// - `t` is read like parseInt(v, 10): leading whitespace, a sign, leading digits ("12abc" is
//   12), and the HMAC covers the number re-printed ("t=007" signs "7.<body>");
// - v1 must equal the lowercase hex string exactly (go decodes hex, so accepts uppercase);
// - an empty v1 makes node's secureCompare throw even when another v1 matches; go skips it;
// - the signature is checked before the age (go reports too_old first), tolerance <= 0
//   disables the age check, and a header without v1 is invalid_header (go: no_valid_signature);
// - an empty body is refused before anything else, as node does (go signs "<t>.").
// Where node would accept something odd we refuse instead (never accepted by go either): a
// non-numeric `t` (node goes on with NaN and signs "NaN.<body>"), a `t` beyond 2^53 (node
// rounds it), an explicit t=-1 (node's "missing" marker), and any non-ASCII byte in a v1
// (node throws on some of them, depending on how the header was decoded).

namespace dunning::webhook {
namespace {

struct ParsedHeader {
    std::optional<std::int64_t> timestamp; // nullopt: missing or not a number
    std::vector<std::string_view> signatures;
    bool has_malformed_signature = false;
};

bool is_js_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// parseInt(s, 10) for the values a timestamp can sensibly take.
std::optional<std::int64_t> parse_js_int(std::string_view s) {
    constexpr std::int64_t max_exact = std::int64_t{1} << 53; // beyond it, node rounds
    std::size_t i = 0;
    while (i < s.size() && is_js_space(s[i]))
        ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    const std::size_t first_digit = i;
    std::int64_t value = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        value = value * 10 + (s[i] - '0');
        if (value > max_exact) return std::nullopt;
    }
    if (i == first_digit) return std::nullopt;
    return negative ? -value : value;
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

void parse_item(std::string_view item, ParsedHeader& out) {
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) {
        const std::string_view rest = item.substr(eq + 1);
        value = rest.substr(0, rest.find('='));
    }
    if (key == "t") {
        out.timestamp = value ? parse_js_int(*value) : std::nullopt;
    } else if (key == "v1") {
        if (value && !value->empty() && is_ascii(*value))
            out.signatures.push_back(*value);
        else
            out.has_malformed_signature = true;
    }
}

ParsedHeader parse_header(std::string_view header) {
    ParsedHeader parsed;
    while (true) {
        const auto comma = header.find(',');
        parse_item(header.substr(0, comma), parsed);
        if (comma == std::string_view::npos) return parsed;
        header.remove_prefix(comma + 1);
    }
}

// A blank secret is refused by node rather than used as an HMAC key.
bool is_usable_secret(const std::string& secret) {
    return !std::all_of(secret.begin(), secret.end(), is_js_space);
}

bool contains_signature(const std::vector<std::string_view>& signatures,
                        const std::string& expected) {
    return std::any_of(signatures.begin(), signatures.end(), [&](std::string_view sig) {
        return sig.size() == expected.size() &&
               CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0;
    });
}

std::optional<std::size_t> matching_secret(std::string_view body, const ParsedHeader& header,
                                           const std::vector<std::string>& secrets) {
    for (std::size_t i = 0; i < secrets.size(); ++i) {
        if (!is_usable_secret(secrets[i])) continue;
        const auto expected = compute_signature(body, secrets[i], *header.timestamp);
        if (contains_signature(header.signatures, expected)) return i;
    }
    return std::nullopt;
}

// now - t > tolerance without overflow: |t| <= 2^53, so a positive gap fits in 64 unsigned bits.
bool is_too_old(std::int64_t now, std::int64_t t, std::chrono::seconds tolerance) {
    if (tolerance.count() <= 0 || now <= t) return false;
    const std::uint64_t age = static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(t);
    return age > static_cast<std::uint64_t>(tolerance.count());
}

} // namespace

const char* to_string(SignatureError e) {
    switch (e) {
    case SignatureError::not_signed:
        return "not_signed";
    case SignatureError::invalid_header:
        return "invalid_header";
    case SignatureError::no_valid_signature:
        return "no_valid_signature";
    case SignatureError::too_old:
        return "too_old";
    }
    return "unknown";
}

Result<std::size_t, SignatureError> verify_signature(std::string_view body, std::string_view header,
                                                     const std::vector<std::string>& secrets,
                                                     Timestamp now,
                                                     std::chrono::seconds tolerance) {
    if (body.empty()) return err(SignatureError::no_valid_signature);
    if (header.empty()) return err(SignatureError::not_signed);
    const ParsedHeader parsed = parse_header(header);
    // -1 is node's "no timestamp seen" marker, so an explicit t=-1 counts as missing there too.
    if (!parsed.timestamp || *parsed.timestamp == -1) return err(SignatureError::invalid_header);
    if (parsed.signatures.empty() && !parsed.has_malformed_signature)
        return err(SignatureError::invalid_header);
    if (std::none_of(secrets.begin(), secrets.end(), is_usable_secret))
        return err(SignatureError::no_valid_signature);
    // node only reaches its comparison, which throws on an empty v1, with a usable secret.
    if (parsed.has_malformed_signature) return err(SignatureError::invalid_header);
    const auto index = matching_secret(body, parsed, secrets);
    if (!index) return err(SignatureError::no_valid_signature);
    if (is_too_old(to_unix(now), *parsed.timestamp, tolerance)) return err(SignatureError::too_old);
    return *index;
}

std::string compute_signature(std::string_view body, std::string_view secret, std::int64_t t) {
    return crypto::hmac_sha256_hex(secret, {std::to_string(t) + '.', body});
}

std::string sign_payload(std::string_view body, std::string_view secret, Timestamp at) {
    const std::int64_t t = to_unix(at);
    return "t=" + std::to_string(t) + ",v1=" + compute_signature(body, secret, t);
}

} // namespace dunning::webhook
