// The creator API's and the test clock's body readers on bytes alone (fuzz/api_bodies.cpp
// fuzzes them; inputs it found are kept here).
#include "http/request_bodies.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::http;
using namespace std::chrono_literals;

namespace {

const Timestamp now = from_unix(1'700'000'000);

TEST(AccessQueryBody, ReadsItemsAndRefusesOtherShapes) {
    const auto q = read_access_query(R"({"items":[{"member":"cus_1","course":"yoga"}]})");
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q.value().size(), 1u);
    EXPECT_EQ(q.value()[0].member, "cus_1");
    EXPECT_EQ(q.value()[0].course, "yoga");
    EXPECT_FALSE(read_access_query(R"({"items":[]})"));
    EXPECT_FALSE(read_access_query(R"({"items":[{"member":"cus_1"}]})"));
    EXPECT_FALSE(read_access_query(R"({"items":[{"member":1,"course":"yoga"}]})"));
    EXPECT_FALSE(read_access_query("[]"));
    EXPECT_FALSE(read_access_query("{"));
}

TEST(OverrideBody, ReadsEveryField) {
    const auto o = read_override(
        R"({"member":"cus_1","product":"prod_X","level":"locked","until":1800000000,
            "note":"chargeback","actor":"Mia"})",
        now);
    ASSERT_TRUE(o.ok()) << o.error();
    EXPECT_EQ(o.value().member, "cus_1");
    EXPECT_EQ(o.value().product, "prod_X");
    EXPECT_EQ(o.value().level, AccessLevel::locked);
    EXPECT_EQ(o.value().until, from_unix(1'800'000'000));
    EXPECT_EQ(o.value().note, "chargeback");
    EXPECT_EQ(o.value().actor, "Mia");
}

TEST(OverrideBody, DefaultsAndRefusals) {
    const auto o = read_override(R"({"member":"cus_1","note":"why"})", now);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o.value().level, AccessLevel::granted);
    EXPECT_FALSE(o.value().until);
    EXPECT_EQ(o.value().product, "");
    EXPECT_EQ(read_override(R"({"member":"cus 1","note":"why"})", now).error(),
              "member must be a Stripe customer id");
    EXPECT_EQ(read_override(R"({"member":"cus_1","level":"open","note":"why"})", now).error(),
              R"(level must be "granted", "grace", "limited" or "locked")");
    EXPECT_FALSE(read_override(R"({"member":"cus_1","note":"why","until":1600000000})", now));
    EXPECT_FALSE(read_override(R"({"member":"cus_1","note":"why","until":"tomorrow"})", now));
    EXPECT_EQ(read_override(R"({"member":"cus_1","note":""})", now).error(),
              "note is required: say why (1 to 1000 characters)");
}

// An until past year 9999 was taken and answered as "570969660-05-31T16:00:00Z" (the first
// input below, found by fuzz/api_bodies.cpp), or as "1900-01-00T00:00:00Z" when even gmtime
// gives up.
TEST(OverrideBody, UntilBeyondYear9999IsRefused) {
    for (const char* until :
         {"18018000000000000", "9223372036854775807", "253402300800", "18446744073709551615"})
        EXPECT_FALSE(read_override(
            std::string(R"({"member":"cus_1","note":"why","until":)") + until + "}", now))
            << until;
    const auto last = read_override(R"({"member":"cus_1","note":"why","until":253402300799})", now);
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(iso8601(*last.value().until), "9999-12-31T23:59:59Z");
}

TEST(OverrideBody, ActorIsCutBeforeACharacter) {
    std::string actor(199, 'a');
    actor += "ü"; // bytes 199 and 200: cut before it
    const auto o =
        read_override(R"({"member":"cus_1","note":"why","actor":")" + actor + "\"}", now);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o.value().actor, std::string(199, 'a'));
}

TEST(RevokeBody, EmptyBodyNeedsANoteToo) {
    EXPECT_FALSE(read_revoke(""));
    EXPECT_FALSE(read_revoke("[]"));
    const auto r = read_revoke(R"({"note":"paid","actor":"Jörg"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().note, "paid");
    EXPECT_EQ(r.value().actor, "Jörg");
}

TEST(ClockAdvanceBody, SecondsUpToTenYears) {
    EXPECT_EQ(read_clock_advance(R"({"seconds":86400})").value(), 86400s);
    EXPECT_FALSE(read_clock_advance(R"({"seconds":-1})"));
    EXPECT_FALSE(read_clock_advance(R"({"seconds":1.5})"));
    EXPECT_FALSE(read_clock_advance(R"({"seconds":316224001})"));
    EXPECT_FALSE(read_clock_advance(R"({"seconds":18446744073709551615})"));
}

} // namespace

TEST(PromiseForm, ExactlyOneDateFieldAsAForm) {
    const char* form = "application/x-www-form-urlencoded";
    const auto d = read_promise_form(form, "date=2027-01-31");
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, Date{std::chrono::year{2027} / 1 / 31});
    EXPECT_TRUE(
        read_promise_form("application/x-www-form-urlencoded; charset=UTF-8", "date=2027-01-31"));
    EXPECT_FALSE(read_promise_form("text/plain", "date=2027-01-31"));
    EXPECT_FALSE(read_promise_form(form, "date=2027-02-30"));
    EXPECT_FALSE(read_promise_form(form, "date=2027-01-31&x=1"));
    EXPECT_FALSE(read_promise_form(form, "x=1&date=2027-01-31"));
    EXPECT_FALSE(read_promise_form(form, "date=-001-01-01"));
    EXPECT_FALSE(read_promise_form(form, ""));
}

namespace {

TEST(CommandNoteBody, TakesNothingOrANoteAndAnActor) {
    EXPECT_TRUE(read_command_note("").ok());
    EXPECT_TRUE(read_command_note("{}").ok());
    const auto r = read_command_note(R"({"note":"paid by transfer","actor":"anna"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().note, "paid by transfer");
    EXPECT_EQ(r.value().actor, "anna");
    EXPECT_FALSE(read_command_note(R"({"note":""})")) << "a note given says something";
    EXPECT_FALSE(read_command_note(R"({"note":")" + std::string(1001, 'x') + R"("})"));
    EXPECT_FALSE(read_command_note("note=x"));
}

} // namespace
