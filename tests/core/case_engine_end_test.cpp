// The case engine when dunning ends unpaid: a small claim is written off (and says why), a
// large one escalates or is marked for handover; an outstanding claim warns the platform before
// it becomes time-barred, each warning once.
#include "case_engine_support.hpp"
#include "core/access.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;

namespace {

Event failed_invoice_of(std::int64_t amount_minor, std::string currency, Timestamp at) {
    auto e = invoice_failed_event(at);
    auto& f = std::get<InvoiceFacts>(e.facts);
    f.amount_due = f.amount_remaining = amount_minor;
    f.currency = std::move(currency);
    return e;
}

std::vector<std::string> notifications(const Decision& d) {
    std::vector<std::string> out;
    for (const auto& n : effects_of<NotifyHost>(d))
        out.push_back(n.type);
    return out;
}

// Runs the ladder hour by hour to `until`; the platform notifications on the way.
std::vector<std::string> run_until(Case& c, Timestamp until) {
    std::vector<std::string> out;
    for (auto at = t0; at <= until; at += 1h)
        for (auto& n : notifications(c.tick(at)))
            out.push_back(n);
    return out;
}

Case claim(std::int64_t amount_minor, std::string currency, EscalationPolicy escalation = {}) {
    Case c{CasePolicy{}};
    c.policy.escalation = escalation;
    c.on(failed_invoice_of(amount_minor, std::move(currency), t0), t0);
    return c;
}

const Timestamp end_of_dunning = t0 + 24h * 34; // final notice on day 20 + 14 days

} // namespace

TEST(CaseEngineEnd, ASmallClaimIsWrittenOffWithItsReasonAndTheCaseResolved) {
    auto c = claim(4999, "eur");
    const auto seen = run_until(c, end_of_dunning + 24h);
    EXPECT_STREQ(status_of(c.state), "written_off");
    EXPECT_EQ(c.state.resolution_reason, write_off_reason::below_threshold);
    EXPECT_EQ(c.state.resolved_at, end_of_dunning);
    EXPECT_FALSE(c.state.escalated_at);
    EXPECT_FALSE(c.state.next_wakeup);
    EXPECT_EQ(seen, (std::vector<std::string>{"case.resolved"})); // opened when it failed
}

TEST(CaseEngineEnd, AClaimAtTheThresholdEscalatesForTheCreator) {
    auto c = claim(5000, "eur");
    const auto seen = run_until(c, end_of_dunning + 24h);
    EXPECT_STREQ(status_of(c.state), "escalated");
    EXPECT_EQ(c.state.escalated_at, end_of_dunning);
    EXPECT_FALSE(c.state.handover_pending_at);
    EXPECT_EQ(c.state.resolution, Resolution::none);
    EXPECT_EQ(seen, (std::vector<std::string>{"case.escalated"}));
}

TEST(CaseEngineEnd, ZeroDecimalCurrenciesCountInTheirOwnUnit) {
    auto small = claim(49, "jpy");
    run_until(small, end_of_dunning);
    EXPECT_STREQ(status_of(small.state), "written_off");
    auto large = claim(5000, "jpy"); // 5000 yen: far above 50 yen
    run_until(large, end_of_dunning);
    EXPECT_STREQ(status_of(large.state), "escalated");
}

TEST(CaseEngineEnd, AutoHandoverMarksTheCaseForHandover) {
    auto c = claim(9900, "eur", EscalationPolicy{50'000, true});
    const auto seen = run_until(c, end_of_dunning);
    EXPECT_STREQ(status_of(c.state), "handover_pending");
    EXPECT_EQ(c.state.handover_pending_at, end_of_dunning);
    EXPECT_TRUE(claim_outstanding(c.state));
    EXPECT_EQ(seen, (std::vector<std::string>{"case.escalated"}));
}

TEST(CaseEngineEnd, NothingIsWrittenOffBeforeTheDeadline) {
    auto c = claim(100, "eur");
    run_until(c, end_of_dunning - 1h);
    EXPECT_STREQ(status_of(c.state), "open");
}

TEST(CaseEngineEnd, TheCreatorsWriteOffSaysSo) {
    auto c = claim(9900, "eur");
    c.on(CreatorCommand{CreatorCommand::Kind::write_off}, t0 + 1h);
    EXPECT_STREQ(status_of(c.state), "written_off");
    EXPECT_EQ(c.state.resolution_reason, write_off_reason::creator);
}

TEST(CaseEngineEnd, ATooSmallClaimStaysOwedForAccessAForgivenOneDoesNot) {
    auto small = claim(4000, "eur");
    run_until(small, end_of_dunning);
    EXPECT_TRUE(claim_of(1, small.state, small.policy).unpaid);
    auto forgiven = claim(4000, "eur");
    forgiven.on(CreatorCommand{CreatorCommand::Kind::write_off}, t0 + 1h);
    EXPECT_FALSE(claim_of(1, forgiven.state, forgiven.policy).unpaid);
    // Paid after all: settled.
    small.on(invoice_paid(end_of_dunning + 24h), end_of_dunning + 24h);
    EXPECT_FALSE(claim_of(1, small.state, small.policy).unpaid);
}

TEST(CaseEngineEnd, AnEscalatedClaimWarnsBeforeLimitationOnceEach) {
    // Arose 2027-01-15: time-barred after 2030-12-31; warnings on 2 October and 1 December 2030.
    auto c = claim(9900, "eur");
    run_until(c, end_of_dunning);
    ASSERT_STREQ(status_of(c.state), "escalated");
    const Timestamp warn90 = from_unix(1'917'129'600); // 2030-10-02T00:00:00Z
    const Timestamp warn30 = from_unix(1'922'313'600); // 2030-12-01T00:00:00Z
    EXPECT_EQ(c.state.next_wakeup, warn90);

    EXPECT_TRUE(notifications(c.tick(warn90 - 1s)).empty());
    auto& d = c.tick(warn90);
    ASSERT_EQ(effects_of<NotifyHost>(d).size(), 1u);
    EXPECT_EQ(effects_of<NotifyHost>(d)[0].type, "claim.limitation_approaching");
    EXPECT_EQ(effects_of<NotifyHost>(d)[0].days_before, 90);
    EXPECT_EQ(c.state.next_wakeup, warn30);
    EXPECT_TRUE(notifications(c.tick(warn90 + 1h)).empty());

    auto& d30 = c.tick(warn30 + 1h);
    ASSERT_EQ(effects_of<NotifyHost>(d30).size(), 1u);
    EXPECT_EQ(effects_of<NotifyHost>(d30)[0].days_before, 30);
    EXPECT_FALSE(c.state.next_wakeup);
    EXPECT_TRUE(notifications(c.tick(warn30 + 24h * 60)).empty());
}

TEST(CaseEngineEnd, APaidClaimNeverWarns) {
    auto c = claim(9900, "eur");
    c.on(invoice_paid(t0 + 1h), t0 + 1h);
    EXPECT_FALSE(c.state.next_wakeup);
    EXPECT_TRUE(notifications(c.tick(from_unix(1'922'313'600))).empty());
}
