// The signed promise-to-pay token: it verifies for its creator, case and expiry only.
#include "jobs/promise_link.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace dunning;
using namespace dunning::jobs;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef";
const Timestamp now = from_unix(1'800'000'000);

TEST(PromiseToken, SignedTokenVerifies) {
    const auto token = sign_promise_token({"alpha", 42, now + std::chrono::hours{1}}, secret);
    EXPECT_EQ(token.substr(0, token.rfind('.')), "alpha.42.1800003600");
    const auto v = verify_promise_token(token, secret, now);
    ASSERT_EQ(v.check, TokenCheck::valid);
    EXPECT_EQ(v.token.creator, "alpha");
    EXPECT_EQ(v.token.case_id, 42);
    EXPECT_EQ(v.token.expires, now + std::chrono::hours{1});
}

// The signature is HMAC-SHA256 of the payload under the secret (computed apart with `openssl dgst
// -sha256 -hmac`): links already mailed keep verifying across versions.
TEST(PromiseToken, TheSignatureIsTheHmacOfThePayloadUnderTheSecret) {
    const std::string mailed = "alpha.42.1800003600."
                               "7b6f99e356c4a0340ecf5fb39f27b8f8eb73906879756df1dba5b383f3d5b000";
    EXPECT_EQ(sign_promise_token({"alpha", 42, now + std::chrono::hours{1}}, secret), mailed);
    EXPECT_EQ(verify_promise_token(mailed, secret, now).check, TokenCheck::valid);
}

TEST(PromiseToken, ExpiresAtItsTime) {
    const auto token = sign_promise_token({"alpha", 42, now}, secret);
    EXPECT_EQ(verify_promise_token(token, secret, now - std::chrono::seconds{1}).check,
              TokenCheck::valid);
    EXPECT_EQ(verify_promise_token(token, secret, now).check, TokenCheck::expired);
}

TEST(PromiseToken, TamperedOrForeignTokensFail) {
    const auto token = sign_promise_token({"alpha", 42, now + std::chrono::hours{1}}, secret);
    auto other_case = token;
    other_case.replace(other_case.find(".42."), 4, ".43.");
    EXPECT_EQ(verify_promise_token(other_case, secret, now).check, TokenCheck::bad_signature);
    auto other_creator = "beta" + token.substr(5);
    EXPECT_EQ(verify_promise_token(other_creator, secret, now).check, TokenCheck::bad_signature);
    auto later = token;
    later.replace(later.find("1800003600"), 10, "1900003600");
    EXPECT_EQ(verify_promise_token(later, secret, now).check, TokenCheck::bad_signature);
    auto flipped = token;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    EXPECT_EQ(verify_promise_token(flipped, secret, now).check, TokenCheck::bad_signature);
    EXPECT_EQ(verify_promise_token(token, "another secret of at least 32 chars", now).check,
              TokenCheck::bad_signature);
    EXPECT_EQ(verify_promise_token(token, "", now).check, TokenCheck::malformed);
    // A token for another case never verifies as this one.
    const auto case_43 = sign_promise_token({"alpha", 43, now + std::chrono::hours{1}}, secret);
    EXPECT_EQ(verify_promise_token(case_43, secret, now).token.case_id, 43);
}

TEST(PromiseToken, MalformedTokensFail) {
    for (const std::string& bad : std::vector<std::string>{
             "", "alpha", "alpha.42.1800003600", "alpha.x.1800003600." + std::string(64, 'a'),
             "alpha.42.-1." + std::string(64, 'a'), ".42.1800003600." + std::string(64, 'a'),
             "alpha.42.1800003600." + std::string(63, 'a'),
             "alpha.42.1800003600.extra." + std::string(64, 'a')})
        EXPECT_EQ(verify_promise_token(bad, secret, now).check, TokenCheck::malformed) << bad;
}

TEST(PromiseToken, UrlOnlyWhenConfigured) {
    EXPECT_EQ(promise_url("", secret, "alpha", 1, now), "");
    EXPECT_EQ(promise_url("https://pay.example", "", "alpha", 1, now), "");
    const auto url = promise_url("https://pay.example/", secret, "alpha", 1, now);
    EXPECT_TRUE(url.starts_with("https://pay.example/promise/alpha.1.")) << url;
    const auto token = url.substr(url.rfind('/') + 1);
    const auto v = verify_promise_token(token, secret, now);
    EXPECT_EQ(v.check, TokenCheck::valid);
    EXPECT_EQ(v.token.expires, now + promise_link_lifetime);
}

} // namespace
