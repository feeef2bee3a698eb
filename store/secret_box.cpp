#include "store/secret_box.hpp"

#include "core/base64.hpp"
#include "crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <span>

namespace dunning::store {

namespace {

constexpr std::string_view version = "v1";
constexpr int nonce_size = 12;
constexpr int tag_size = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
    return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The header is authenticated with the caller's associated data: "v1:<kid>:" + associated.
std::string header(std::string_view kid) {
    return std::string(version) + ":" + std::string(kid) + ":";
}

bool add_associated(EVP_CIPHER_CTX* ctx, std::string_view kid, std::string_view associated,
                    bool encrypt) {
    const auto aad = header(kid) + std::string(associated);
    int len = 0;
    const auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    return update(ctx, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1;
}

} // namespace

std::optional<SecretKey> secret_key_from_bytes(std::string_view raw) {
    if (raw.size() != SecretKey{}.size()) return std::nullopt;
    SecretKey key;
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<unsigned char>(raw[i]);
    return key;
}

std::string key_id(const SecretKey& key) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(key.data(), key.size(), digest);
    return crypto::hex(std::span(digest, 4));
}

SecretBox::SecretBox(std::optional<SecretKey> current, std::vector<SecretKey> previous) {
    if (current) current_ = Entry{*current, key_id(*current)};
    for (const auto& key : previous)
        previous_.push_back(Entry{key, key_id(key)});
}

SecretBox::~SecretBox() {
    if (current_) OPENSSL_cleanse(current_->key.data(), current_->key.size());
    for (auto& entry : previous_)
        OPENSSL_cleanse(entry.key.data(), entry.key.size());
}

std::string SecretBox::sealing_key_id() const {
    return current_ ? current_->kid : std::string();
}

const SecretBox::Entry* SecretBox::find(std::string_view kid) const {
    if (current_ && current_->kid == kid) return &*current_;
    for (const auto& entry : previous_)
        if (entry.kid == kid) return &entry;
    return nullptr;
}

bool SecretBox::knows(std::string_view kid) const {
    return find(kid) != nullptr;
}

Result<std::string, std::string> SecretBox::seal(std::string_view plaintext,
                                                 std::string_view associated) const {
    if (!current_) return err(std::string("no secrets key configured ([storage] secrets_key)"));
    std::string out(nonce_size + plaintext.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    auto* cipher = nonce + nonce_size;
    if (RAND_bytes(nonce, nonce_size) != 1) return err(std::string("no random bytes for a nonce"));
    auto ctx = new_context();
    int len = 0;
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, current_->key.data(), nonce) == 1 &&
        add_associated(ctx.get(), current_->kid, associated, true) &&
        EVP_EncryptUpdate(ctx.get(), cipher, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, cipher + plaintext.size()) ==
            1;
    if (!ok) return err(std::string("sealing failed (OpenSSL)"));
    return header(current_->kid) + base64_encode(out);
}

Result<std::string, std::string> SecretBox::open(std::string_view sealed,
                                                 std::string_view associated) const {
    const auto kid = sealed_key_id(sealed);
    if (kid.empty()) return err(std::string("not a sealed value of a known format"));
    const auto* entry = find(kid);
    if (!entry) return err("sealed under key " + kid + ", which is not configured");
    const auto raw = base64_decode(sealed.substr(header(kid).size()));
    if (!raw || raw->size() < static_cast<std::size_t>(nonce_size + tag_size))
        return err(std::string("sealed value is damaged"));
    const auto* nonce = bytes(*raw);
    const auto* cipher = nonce + nonce_size;
    const auto cipher_size = static_cast<int>(raw->size()) - nonce_size - tag_size;
    std::string plain(static_cast<std::size_t>(cipher_size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    unsigned char tag[tag_size];
    std::copy(cipher + cipher_size, cipher + cipher_size + tag_size, tag);
    auto ctx = new_context();
    int len = 0;
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, entry->key.data(), nonce) == 1 &&
        add_associated(ctx.get(), kid, associated, false) &&
        EVP_DecryptUpdate(ctx.get(), out, &len, cipher, cipher_size) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return err(std::string(
            "sealed value does not open: altered, or sealed for another row or with another key"));
    }
    return plain;
}

std::string sealed_key_id(std::string_view sealed) {
    const auto prefix = std::string(version) + ":";
    if (!sealed.starts_with(prefix)) return {};
    const auto kid = sealed.substr(prefix.size(), 8);
    if (kid.size() != 8 || sealed.size() <= prefix.size() + 8 || sealed[prefix.size() + 8] != ':')
        return {};
    for (char c : kid)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    return std::string(kid);
}

} // namespace dunning::store
