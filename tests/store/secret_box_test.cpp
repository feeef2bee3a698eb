// Sealing with AES-256-GCM: round trip, the key id, and every way a value must refuse to open.
#include "core/base64.hpp"
#include "store/secret_box.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

SecretKey key_filled(unsigned char byte) {
    SecretKey key;
    key.fill(byte);
    return key;
}

const SecretKey key_a = key_filled(0xa1);
const SecretKey key_b = key_filled(0xb2);
const std::string place = "5:alpha/stripe_secret_key";
const std::string plaintext = "sk_live_51HxAbCdEf0123456789";

TEST(Base64, RoundTripsEveryLengthAndRefusesNonCanonicalText) {
    std::string bytes;
    for (int n = 0; n < 70; ++n) {
        EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << n;
        bytes += static_cast<char>(n * 37);
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
    for (const char* bad : {"Zm9vYg=", "Zm9vYh==", "Zm9v Yg==", "Zm9vYg-_", "Zm=vYg==", "=AAA",
                            "Zm9vY===", "Zm9vYmFy\n"})
        EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(SecretBox, SealsAndOpensWithItsKeyIdInTheValue) {
    const SecretBox box(key_a);
    const auto sealed = box.seal(plaintext, place);
    ASSERT_TRUE(sealed) << sealed.error();
    const auto kid = key_id(key_a);
    // The first four bytes of the key's SHA-256, as hex: every value sealed so far carries it.
    EXPECT_EQ(kid, "52fe6094");
    EXPECT_EQ(box.sealing_key_id(), kid);
    EXPECT_TRUE(sealed.value().starts_with("v1:" + kid + ":")) << sealed.value();
    EXPECT_EQ(sealed_key_id(sealed.value()), kid);
    EXPECT_EQ(sealed.value().find(plaintext), std::string::npos);
    // nonce 12 + ciphertext + tag 16, base64
    const auto raw = base64_decode(sealed.value().substr(12));
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 12 + plaintext.size() + 16);
    const auto opened = box.open(sealed.value(), place);
    ASSERT_TRUE(opened) << opened.error();
    EXPECT_EQ(opened.value(), plaintext);
    EXPECT_NE(key_id(key_a), key_id(key_b));
}

TEST(SecretBox, EachSealingTakesAFreshNonce) {
    const SecretBox box(key_a);
    EXPECT_NE(box.seal(plaintext, place).value(), box.seal(plaintext, place).value());
    EXPECT_EQ(box.open(box.seal("", place).value(), place).value(), "");
}

TEST(SecretBox, AnotherKeyDoesNotOpenIt) {
    const auto sealed = SecretBox(key_a).seal(plaintext, place).value();
    const auto unknown = SecretBox(key_b).open(sealed, place);
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().find("not configured"), std::string::npos) << unknown.error();
    // Even a value relabelled with the other key's id: the tag does not verify.
    auto relabelled = sealed;
    relabelled.replace(3, 8, key_id(key_b));
    const auto forged = SecretBox(key_b).open(relabelled, place);
    ASSERT_FALSE(forged);
    EXPECT_EQ(forged.error().find(plaintext), std::string::npos);
}

TEST(SecretBox, EveryAlteredByteIsRefused) {
    const SecretBox box(key_a);
    const auto sealed = box.seal(plaintext, place).value();
    auto raw = *base64_decode(sealed.substr(12));
    for (std::size_t i = 0; i < raw.size(); ++i) {
        auto altered = raw;
        altered[i] = static_cast<char>(altered[i] ^ 0x01);
        const auto opened = box.open(sealed.substr(0, 12) + base64_encode(altered), place);
        EXPECT_FALSE(opened) << "byte " << i;
    }
    EXPECT_FALSE(box.open(sealed.substr(0, sealed.size() - 4), place));
    EXPECT_FALSE(box.open(sealed + "AAAA", place));
    EXPECT_FALSE(box.open("v2" + sealed.substr(2), place));
    EXPECT_FALSE(box.open("", place));
    EXPECT_FALSE(box.open("v1:" + key_id(key_a) + ":", place));
    EXPECT_FALSE(box.open("v1:" + key_id(key_a) + ":!!!!", place));
}

TEST(SecretBox, AnotherRowsAssociatedDataDoesNotOpenIt) {
    const SecretBox box(key_a);
    const auto sealed = box.seal(plaintext, place).value();
    for (const char* other : {"5:alpha/webhook_secret", "4:beta/stripe_secret_key", "", "5:alpha"})
        EXPECT_FALSE(box.open(sealed, other)) << other;
}

TEST(SecretBox, PreviousKeysOpenButNeverSeal) {
    const auto old_value = SecretBox(key_a).seal(plaintext, place).value();
    const SecretBox rotated(key_b, {key_a});
    EXPECT_TRUE(rotated.knows(key_id(key_a)));
    EXPECT_EQ(rotated.open(old_value, place).value(), plaintext);
    EXPECT_EQ(sealed_key_id(rotated.seal(plaintext, place).value()), key_id(key_b));
}

TEST(SecretBox, WithoutAKeySealingIsRefused) {
    const SecretBox none;
    EXPECT_FALSE(none.can_seal());
    EXPECT_EQ(none.sealing_key_id(), "");
    const auto sealed = none.seal(plaintext, place);
    ASSERT_FALSE(sealed);
    EXPECT_NE(sealed.error().find("secrets_key"), std::string::npos);
    EXPECT_FALSE(secret_key_from_bytes(std::string(31, 'x')));
    EXPECT_TRUE(secret_key_from_bytes(std::string(32, 'x')));
}

} // namespace
} // namespace dunning::store
