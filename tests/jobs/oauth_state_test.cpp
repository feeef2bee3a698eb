// The OAuth state: bound to its creator, signed, expiring after 15 minutes, each one new.
#include "jobs/stripe_connect.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

const std::string secret = "stripe-oauth-state:0123456789abcdef0123456789abcdef";
const Timestamp now = from_unix(1'800'000'000);

TEST(OAuthState, ReadsBackItsCreatorUntilItExpires) {
    const auto text = jobs::make_oauth_state(secret, "gamma", now);
    const auto fresh = jobs::read_oauth_state(secret, text, now + 15min);
    ASSERT_TRUE(fresh.ok()) << fresh.error();
    EXPECT_EQ(fresh.value().creator, "gamma");
    EXPECT_EQ(fresh.value().nonce.size(), 32u);
    EXPECT_FALSE(fresh.value().expired);
    const auto late = jobs::read_oauth_state(secret, text, now + 15min + 1s);
    ASSERT_TRUE(late.ok());
    EXPECT_TRUE(late.value().expired);
}

// The signature is HMAC-SHA256 of the rest under the secret (computed apart with `openssl dgst
// -sha256 -hmac`): a state made before an upgrade reads back after it.
TEST(OAuthState, TheSignatureIsTheHmacOfTheRestUnderTheSecret) {
    const std::string text = "gamma.00112233445566778899aabbccddeeff.1800000900.1."
                             "75dbac6a471f795eb776bcedf83064c9120f1ebf870b46c445654de04ae6e732";
    const auto state = jobs::read_oauth_state(secret, text, now);
    ASSERT_TRUE(state.ok()) << state.error();
    EXPECT_EQ(state.value().creator, "gamma");
    EXPECT_EQ(state.value().expires, now + 15min);
    auto other = text;
    other.back() = '3';
    EXPECT_FALSE(jobs::read_oauth_state(secret, other, now).ok());
}

TEST(OAuthState, CarriesTheChoiceToImportOpenInvoices) {
    const auto usual =
        jobs::read_oauth_state(secret, jobs::make_oauth_state(secret, "g", now), now);
    ASSERT_TRUE(usual.ok());
    EXPECT_TRUE(usual.value().import_open_invoices);
    const auto text = jobs::make_oauth_state(secret, "g", now, false);
    const auto without = jobs::read_oauth_state(secret, text, now);
    ASSERT_TRUE(without.ok());
    EXPECT_FALSE(without.value().import_open_invoices);
    auto flipped = text; // the choice is signed like the rest
    flipped[flipped.rfind('.') - 1] = '1';
    EXPECT_FALSE(jobs::read_oauth_state(secret, flipped, now).ok());
}

TEST(OAuthState, EachStateHasANonceOfItsOwn) {
    const auto a = jobs::read_oauth_state(secret, jobs::make_oauth_state(secret, "g", now), now);
    const auto b = jobs::read_oauth_state(secret, jobs::make_oauth_state(secret, "g", now), now);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a.value().nonce, b.value().nonce);
}

TEST(OAuthState, AnAlteredOrForeignStateIsRefused) {
    const auto text = jobs::make_oauth_state(secret, "gamma", now);
    auto other_creator = text;
    other_creator.replace(0, 5, "alpha");
    EXPECT_FALSE(jobs::read_oauth_state(secret, other_creator, now).ok());
    auto longer = text;
    longer.replace(longer.find('.', 6 + 32), 1, "9.");
    EXPECT_FALSE(jobs::read_oauth_state(secret, longer, now).ok());
    EXPECT_FALSE(jobs::read_oauth_state(secret + "x", text, now).ok());
    EXPECT_FALSE(jobs::read_oauth_state("", text, now).ok());
    for (const auto* bad : {"", ".", "gamma", "gamma.1.2.3", "a.b.c.d.e"})
        EXPECT_FALSE(jobs::read_oauth_state(secret, bad, now).ok()) << bad;
}

} // namespace
