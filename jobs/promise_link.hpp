#pragma once
// The promise-to-pay link in dunning emails: public_url + "/promise/" + a token that names the
// creator, the case and an expiry, signed with [server] link_secret (HMAC-SHA256). The token is
// the member's only credential: whoever holds the email may promise once for that case.
#include "core/time.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dunning::jobs {

// A link stays valid this long after its email was rendered; the page also refuses a case that
// no longer takes a promise (paid, escalated, objected, promised already).
inline constexpr std::chrono::days promise_link_lifetime{30};

struct PromiseToken {
    std::string creator;
    std::int64_t case_id = 0;
    Timestamp expires{};
};

// "<creator>.<case id>.<expiry, Unix seconds>.<64 hex digits of the HMAC over the first three>".
std::string sign_promise_token(const PromiseToken& token, std::string_view secret);

enum class TokenCheck { valid, malformed, bad_signature, expired };
struct VerifiedToken {
    TokenCheck check = TokenCheck::malformed;
    PromiseToken token; // set when the signature holds (valid or expired)
};
VerifiedToken verify_promise_token(std::string_view text, std::string_view secret, Timestamp now);

// The whole link, or "" when [server] public_url or link_secret is not set.
std::string promise_url(std::string_view public_url, std::string_view secret,
                        const std::string& creator, std::int64_t case_id, Timestamp now);

} // namespace dunning::jobs
