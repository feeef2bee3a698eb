#include "jobs/promise_link.hpp"

#include "crypto/crypto.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <vector>

namespace dunning::jobs {

namespace {

std::string payload_of(const PromiseToken& t) {
    return t.creator + "." + std::to_string(t.case_id) + "." + std::to_string(to_unix(t.expires));
}

std::optional<std::int64_t> number(std::string_view s) {
    std::int64_t v = 0;
    if (s.empty() || s.size() > 18 || s.front() == '-' || s.front() == '+') return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> parts;
    for (std::size_t from = 0;;) {
        const auto dot = text.find('.', from);
        parts.push_back(text.substr(from, dot - from));
        if (dot == std::string_view::npos) return parts;
        from = dot + 1;
    }
}

} // namespace

std::string sign_promise_token(const PromiseToken& token, std::string_view secret) {
    const auto payload = payload_of(token);
    return payload + "." + crypto::hmac_sha256_hex(secret, {payload});
}

VerifiedToken verify_promise_token(std::string_view text, std::string_view secret, Timestamp now) {
    VerifiedToken out;
    if (secret.empty() || text.size() > 512) return out;
    const auto parts = split(text);
    if (parts.size() != 4 || parts[0].empty() || parts[3].size() != 64) return out;
    const auto case_id = number(parts[1]), expires = number(parts[2]);
    if (!case_id || !expires) return out;
    const auto payload = text.substr(0, text.size() - 65);
    const auto expected = crypto::hmac_sha256_hex(secret, {payload});
    if (CRYPTO_memcmp(expected.data(), parts[3].data(), expected.size()) != 0) {
        out.check = TokenCheck::bad_signature;
        return out;
    }
    out.token = PromiseToken{std::string(parts[0]), *case_id, from_unix(*expires)};
    out.check = now < out.token.expires ? TokenCheck::valid : TokenCheck::expired;
    return out;
}

std::string promise_url(std::string_view public_url, std::string_view secret,
                        const std::string& creator, std::int64_t case_id, Timestamp now) {
    if (public_url.empty() || secret.empty()) return "";
    std::string base(public_url);
    while (base.ends_with('/'))
        base.pop_back();
    return base + "/promise/" +
           sign_promise_token({creator, case_id, now + promise_link_lifetime}, secret);
}

} // namespace dunning::jobs
