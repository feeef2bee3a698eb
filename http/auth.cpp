// Bearer tokens: the admin's ([platform] admin_token) and each creator's (kept as SHA-256 only).
#include "crypto/crypto.hpp"
#include "http/services.hpp"
#include "store/creators.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>
#include <string_view>

namespace dunning::http {

namespace {

// Compares digests, so neither the bytes nor the length of a configured token shows in the time
// an answer takes.
bool same_secret(const std::string& a, const std::string& b) {
    unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
    SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
    return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

// "Bearer <token>"; the scheme's case does not matter (RFC 9110, 11.1). A token with bytes no
// token has (controls such as NUL, CR or LF, spaces) is no token, even if a configured one is its
// prefix.
std::optional<std::string> bearer_token(const std::string& header) {
    constexpr std::string_view scheme = "bearer ";
    if (header.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return std::nullopt;
    for (std::size_t i = scheme.size(); i < header.size(); ++i) {
        const auto c = static_cast<unsigned char>(header[i]);
        if (c <= 0x20 || c >= 0x7f) return std::nullopt;
    }
    return header.substr(scheme.size());
}

} // namespace

namespace {

bool same_hash(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

bool token_matches(const std::string& token, const std::string& hash_hex) {
    return same_hash(crypto::sha256_hex(token), hash_hex);
}

std::optional<Caller> identify(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto token = bearer_token(req.get_header_value("Authorization"));
    if (!token) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, 401, "missing Authorization: Bearer <api_token>");
        return std::nullopt;
    }
    std::optional<Caller> found;
    const auto& admin = m.config.platform.admin_token;
    if (!admin.empty() && same_secret(admin, *token)) found = Caller{true, ""};
    const auto hash = crypto::sha256_hex(*token);
    for (const auto& c : m.creators.all()) // every token is compared: no early exit
        if (same_hash(hash, c->api_token_hash)) found = Caller{false, c->id};
    if (!found) {
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        send_error(res, 401, "invalid api token");
    }
    return found;
}

bool authorize(Services& m, const httplib::Request& req, httplib::Response& res,
               const std::string& creator_id) {
    const auto caller = identify(m, req, res);
    if (!caller) return false;
    if (caller->admin || caller->creator != creator_id) {
        send_error(res, 403, "this token does not grant access to creator " + creator_id);
        return false;
    }
    return true;
}

} // namespace dunning::http
