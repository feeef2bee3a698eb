// SHA-256 and HMAC-SHA256 against published test vectors (FIPS 180-2, RFC 4231), hex encoding and
// random tokens.
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace dunning::crypto {
namespace {

TEST(Crypto, HexIsLowercaseTwoDigitsPerByte) {
    const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
    EXPECT_EQ(hex(bytes), "000fa0ff");
    EXPECT_EQ(hex({}), "");
}

TEST(Crypto, Sha256MatchesFips180Vectors) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, HmacSha256MatchesRfc4231) {
    // Test case 2: a key shorter than the block.
    EXPECT_EQ(hmac_sha256_hex("Jefe", {"what do ya want for nothing?"}),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: a key longer than the block (131 bytes of 0xaa) is hashed first.
    const std::string long_key(131, '\xaa');
    EXPECT_EQ(hmac_sha256_hex(long_key, {"Test Using Larger Than Block-Size Key - Hash Key First"}),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Crypto, HmacOfPartsIsTheHmacOfTheirConcatenation) {
    const auto whole = hmac_sha256_hex("whsec_x", {"1700000000.{\"id\":\"evt_1\"}"});
    EXPECT_EQ(hmac_sha256_hex("whsec_x", {"1700000000.", "{\"id\":\"evt_1\"}"}), whole);
    EXPECT_EQ(hmac_sha256_hex("whsec_x", {"", "1700000000.{\"id\":", "", "\"evt_1\"}"}), whole);
}

// The context of a thread keeps its last key; an empty key is still the empty key, not the last.
TEST(Crypto, AnEmptyKeyIsNotThePreviousCallsKey) {
    const auto empty_first = hmac_sha256_hex("", {"message"});
    EXPECT_NE(hmac_sha256_hex("some key", {"message"}), empty_first);
    EXPECT_EQ(hmac_sha256_hex("", {"message"}), empty_first);
    // RFC 2104: a key shorter than the block is padded with zeros, so "" equals one zero byte.
    EXPECT_EQ(hmac_sha256_hex(std::string(1, '\0'), {"message"}), empty_first);
}

TEST(Crypto, EachThreadGetsTheSameAnswers) {
    const auto here = hmac_sha256_hex("Jefe", {"what do ya want for nothing?"});
    std::string there;
    std::thread([&] { there = hmac_sha256_hex("Jefe", {"what do ya want for nothing?"}); }).join();
    EXPECT_EQ(there, here);
}

TEST(Crypto, RandomHexHasTwoDigitsPerByteAndDoesNotRepeat) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const auto token = random_hex(16);
        ASSERT_EQ(token.size(), 32u);
        EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
        seen.insert(token);
    }
    EXPECT_EQ(seen.size(), 100u);
}

} // namespace
} // namespace dunning::crypto
