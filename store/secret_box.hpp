#pragma once
// Sealing secrets at rest (AES-256-GCM, OpenSSL EVP). A sealed value is text:
//
//     v1:<kid>:<base64(nonce[12] | ciphertext | tag[16])>
//
// kid: the first 8 hex digits of SHA-256 of the key that sealed it, so a keyring knows which
// key opens it and a rotation knows which values are still under an old key. The associated
// data binds a value to its place (the caller's, e.g. secret_place(creator, name)) and to its
// own header: a value copied to another row, or given another version or kid, does not open.
// Opening never throws on bad input: a wrong key, an altered byte or another row's value is an
// error value, never the plaintext.
#include "core/result.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

using SecretKey = std::array<unsigned char, 32>;

// 32 raw bytes → a key; anything else → nothing.
std::optional<SecretKey> secret_key_from_bytes(std::string_view bytes);
// First 8 hex digits of SHA-256 of the key.
std::string key_id(const SecretKey& key);

// The key that seals (optional: without one, seal() refuses) and the keys that may still open
// values sealed before a rotation.
class SecretBox {
  public:
    SecretBox() = default;
    explicit SecretBox(std::optional<SecretKey> current, std::vector<SecretKey> previous = {});
    ~SecretBox();
    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;

    bool can_seal() const { return current_.has_value(); }
    // The sealing key's id; "" without one.
    std::string sealing_key_id() const;
    // Whether some key here has this id.
    bool knows(std::string_view kid) const;

    Result<std::string, std::string> seal(std::string_view plaintext,
                                          std::string_view associated) const;
    Result<std::string, std::string> open(std::string_view sealed,
                                          std::string_view associated) const;

  private:
    struct Entry {
        SecretKey key;
        std::string kid;
    };
    const Entry* find(std::string_view kid) const;

    std::optional<Entry> current_;
    std::vector<Entry> previous_;
};

// The kid of a sealed value ("v1:<kid>:…"), or "" when it is not one.
std::string sealed_key_id(std::string_view sealed);

} // namespace dunning::store
