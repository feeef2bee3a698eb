#include "crypto/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

namespace dunning::crypto {

namespace {

// A context for HMAC-SHA256 on this thread, or null where OpenSSL cannot give one. OpenSSL 3's
// one-shot HMAC() fetches the algorithm and the digest, and makes and frees a context, at every
// call (a third of its cost on a 5 KB webhook body); this context keeps them and only takes a new
// key. It holds the last key until the next call, as the configuration holds every secret anyway.
EVP_MAC_CTX* thread_hmac() {
    struct Context {
        EVP_MAC_CTX* ctx = nullptr;
        Context() {
            EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
            if (!mac) return;
            ctx = EVP_MAC_CTX_new(mac);
            EVP_MAC_free(mac); // the context holds its own reference
            char digest[] = "SHA256";
            const OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_end()};
            if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
                EVP_MAC_CTX_free(ctx);
                ctx = nullptr;
            }
        }
        ~Context() { EVP_MAC_CTX_free(ctx); }
        Context(const Context&) = delete;
        Context& operator=(const Context&) = delete;
    };
    thread_local Context context;
    return context.ctx;
}

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

} // namespace

std::string hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * bytes.size());
    for (const unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string hmac_sha256_hex(std::string_view key, std::initializer_list<std::string_view> parts) {
    // A null key would make OpenSSL keep the previous call's key (EVP_MAC_init) or fail (HMAC).
    static constexpr unsigned char no_key = 0;
    const unsigned char* key_bytes = key.empty() ? &no_key : bytes_of(key);
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    EVP_MAC_CTX* ctx = thread_hmac();
    bool done = ctx && EVP_MAC_init(ctx, key_bytes, key.size(), nullptr) == 1;
    for (const auto part : parts)
        done = done && EVP_MAC_update(ctx, bytes_of(part), part.size()) == 1;
    done = done && EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) == 1;
    if (!done) {
        ERR_clear_error(); // what failed above is not this thread's next caller's error
        std::string message;
        for (const auto part : parts)
            message += part;
        unsigned int len = 0;
        if (!HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), bytes_of(message),
                  message.size(), mac, &len))
            throw std::runtime_error("HMAC-SHA256 failed");
        mac_len = len;
    }
    return hex({mac, mac_len});
}

std::string sha256_hex(std::string_view text) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes_of(text), text.size(), digest);
    return hex(digest);
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> random(bytes);
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return hex(random);
}

} // namespace dunning::crypto
