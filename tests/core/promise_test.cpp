// Promise to pay and objection in the case engine, and the final notice's deadline counted
// from when the notice went out.
#include "case_engine_support.hpp"
#include "core/access.hpp"
#include "core/promise.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;
using K = CreatorCommand::Kind;

namespace {

constexpr auto day = std::chrono::days{1};

Event invoice_with_email(Timestamp at) {
    auto e = invoice_failed_event(at);
    std::get<InvoiceFacts>(e.facts).customer_email = "mia@example.org";
    return e;
}

// A stripe-mode case (no charges of ours) whose member has an address; every email it queues
// is reported sent at once unless `hold_mail`.
struct Ladder {
    Case c;
    std::vector<std::pair<Timestamp, SendEmail>> sent;
    bool hold_mail = false;

    explicit Ladder(Timestamp at) { c.on(invoice_with_email(at), at); }
    void step(const CaseInput& input, Timestamp now) {
        c.on(input, now);
        if (hold_mail) return;
        for (const auto& e : effects_of<SendEmail>(c.last)) {
            sent.emplace_back(now, e);
            c.on(EmailSent{e.message, e.stage}, now);
        }
    }
    // Ticks at each wake-up (and every 6 hours, like a scheduler that looks again) up to `until`.
    void run_to(Timestamp until) {
        for (Timestamp now = c.state.next_wakeup.value_or(until); now <= until;) {
            step(Tick{}, now);
            now = std::min(now + std::chrono::hours{6}, c.state.next_wakeup.value_or(until + 1s));
        }
    }
    std::vector<int> stages() const {
        std::vector<int> out;
        for (const auto& [at, e] : sent)
            if (e.stage > 0) out.push_back(e.stage);
        return out;
    }
};

Date date(int y, unsigned m, unsigned d) {
    return Date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

TEST(PromiseDates, ParsedStrictly) {
    EXPECT_EQ(parse_iso_date("2027-01-31"), date(2027, 1, 31));
    for (const char* bad : {"2027-02-30", "2027-1-31", "27-01-31", "2027-01-31x", " 2027-01-31",
                            "2027-13-01", "2027/01/31", "+027-01-31", "", "2027-01-3a"})
        EXPECT_EQ(parse_iso_date(bad), std::nullopt) << bad;
}

TEST(PromiseDates, FromTomorrowToMaxDaysAhead) {
    Ladder l(t0); // 2027-01-15 08:00
    const auto& s = l.c.state;
    EXPECT_EQ(promise_refusal(s, date(2027, 1, 15), t0, 14), PromiseRefusal::bad_date);
    EXPECT_EQ(promise_refusal(s, date(2027, 1, 16), t0, 14), PromiseRefusal::none);
    EXPECT_EQ(promise_refusal(s, date(2027, 1, 29), t0, 14), PromiseRefusal::none);
    EXPECT_EQ(promise_refusal(s, date(2027, 1, 30), t0, 14), PromiseRefusal::bad_date);
    EXPECT_EQ(promise_until(date(2027, 1, 29)), from_unix(1'800'000'000 - 8 * 3600) + 15 * day);
}

TEST(PromiseToPay, PausesOnceAndResumesWithoutABurst) {
    Ladder l(t0);
    l.run_to(t0 + 4 * day); // the reminder went out on day 3
    ASSERT_EQ(l.stages(), std::vector<int>{1});
    l.step(PromiseMade{date(2027, 1, 29)}, t0 + 4 * day); // until 2027-01-30 00:00 = t0 + 14d 16h
    const auto until = t0 + 14 * day + std::chrono::hours{16};
    ASSERT_TRUE(l.c.state.promise);
    EXPECT_EQ(l.c.state.promise->until, until);
    EXPECT_EQ(l.c.state.promise->made_at, t0 + 4 * day);
    EXPECT_EQ(effects_of<NotifyHost>(l.c.last).size(), 1u);
    EXPECT_EQ(effects_of<NotifyHost>(l.c.last)[0].type, "case.promise_to_pay");
    EXPECT_STREQ(status_of(l.c.state), "paused");
    EXPECT_EQ(l.c.state.next_wakeup, until);

    // A second promise changes nothing.
    const auto before = l.c.state;
    l.step(PromiseMade{date(2027, 1, 20)}, t0 + 5 * day);
    EXPECT_EQ(l.c.state.promise, before.promise);
    EXPECT_TRUE(effects_of<NotifyHost>(l.c.last).empty());
    EXPECT_EQ(promise_refusal(l.c.state), PromiseRefusal::already_made);

    // Day 10 (formal reminder) passes while promised: nothing goes out.
    l.run_to(until - 1s);
    EXPECT_EQ(l.stages(), std::vector<int>{1});
    // Unpaid at the date: the ladder resumes where it stood; the formal reminder was 6 days ahead
    // when the promise was made, so it goes out 6 days after the date, and alone.
    l.run_to(until);
    EXPECT_STREQ(status_of(l.c.state), "open");
    EXPECT_FALSE(l.c.state.paused);
    EXPECT_EQ(l.c.state.paused_seconds, to_unix(until) - to_unix(t0 + 4 * day));
    l.run_to(until + 6 * day - 1s);
    EXPECT_EQ(l.stages(), std::vector<int>{1});
    l.run_to(until + 6 * day);
    EXPECT_EQ(l.stages(), (std::vector<int>{1, 2}));
    EXPECT_EQ(l.sent.back().first, until + 6 * day);
}

TEST(PromiseToPay, PayingMeanwhileClosesTheCase) {
    Ladder l(t0);
    l.run_to(t0 + 4 * day);
    l.step(PromiseMade{date(2027, 1, 25)}, t0 + 4 * day);
    l.step(invoice_paid(t0 + 6 * day), t0 + 6 * day);
    EXPECT_STREQ(status_of(l.c.state), "paid");
    EXPECT_EQ(l.c.state.next_wakeup, std::nullopt);
    EXPECT_EQ(promise_refusal(l.c.state), PromiseRefusal::closed);
}

TEST(PromiseToPay, AWrongDateChangesNothing) {
    Ladder l(t0);
    l.step(PromiseMade{date(2027, 3, 1)}, t0);
    EXPECT_EQ(l.c.state.promise, std::nullopt);
    EXPECT_FALSE(l.c.state.paused);
}

TEST(Objection, StopsEverythingAndWithdrawResumesWithoutABurst) {
    Ladder l(t0);
    l.run_to(t0 + 4 * day);
    l.step(CreatorCommand{K::objection, "member says the course was cancelled", "support-anna"},
           t0 + 4 * day);
    EXPECT_STREQ(status_of(l.c.state), "objected");
    ASSERT_TRUE(l.c.state.objection);
    EXPECT_EQ(l.c.state.objection->note, "member says the course was cancelled");
    EXPECT_EQ(effects_of<NotifyHost>(l.c.last)[0].type, "case.objected");
    ASSERT_TRUE(l.c.state.next_wakeup);
    EXPECT_GT(*l.c.state.next_wakeup, t0 + 365 * day) << "only the limitation warning's wake";
    EXPECT_EQ(promise_refusal(l.c.state), PromiseRefusal::closed);

    // Weeks pass: no stage, no escalation; escalate and pause do nothing.
    l.step(CreatorCommand{K::escalate}, t0 + 30 * day);
    l.step(Tick{}, t0 + 60 * day);
    EXPECT_EQ(l.stages(), std::vector<int>{1});
    EXPECT_EQ(l.c.state.escalated_at, std::nullopt);
    EXPECT_STREQ(status_of(l.c.state), "objected");

    l.step(CreatorCommand{K::withdraw_objection}, t0 + 60 * day);
    EXPECT_EQ(effects_of<NotifyHost>(l.c.last)[0].type, "case.objection_withdrawn");
    EXPECT_STREQ(status_of(l.c.state), "open");
    EXPECT_EQ(l.stages(), std::vector<int>{1}) << "no burst on withdrawal";
    l.run_to(t0 + 66 * day - 1s);
    EXPECT_EQ(l.stages(), std::vector<int>{1});
    l.run_to(t0 + 66 * day);
    EXPECT_EQ(l.stages(), (std::vector<int>{1, 2}));
}

TEST(Objection, StopsAHandoverAndEndsWithWriteOffOrPayment) {
    Ladder l(t0);
    l.c.policy.escalation.auto_handover = true;
    l.c.policy.escalation.write_off_below_milli = 0;
    l.run_to(t0 + 21 * day); // the final notice went out on day 20: handover due on day 34
    ASSERT_EQ(l.c.state.final_notice_at, t0 + 20 * day);
    l.step(CreatorCommand{K::objection, "disputed"}, t0 + 21 * day);
    l.run_to(t0 + 90 * day);
    EXPECT_EQ(l.c.state.handover_pending_at, std::nullopt);
    EXPECT_EQ(l.c.state.escalated_at, std::nullopt);
    l.step(CreatorCommand{K::write_off}, t0 + 91 * day);
    EXPECT_STREQ(status_of(l.c.state), "written_off");

    Ladder paid(t0);
    paid.step(CreatorCommand{K::objection, "disputed"}, t0 + day);
    paid.step(CreatorCommand{K::mark_paid}, t0 + 2 * day);
    EXPECT_STREQ(status_of(paid.c.state), "paid");
}

TEST(Objection, AccessFollowsOnObjection) {
    Ladder l(t0);
    l.run_to(t0 + 25 * day); // final notice on day 20, its deadline ends on day 34
    l.step(CreatorCommand{K::objection, "disputed"}, t0 + 25 * day);
    l.run_to(t0 + 41 * day);
    ASSERT_STREQ(status_of(l.c.state), "objected");
    AccessFacts facts{{claim_of(1, l.c.state, l.c.policy)}, {}, {}};
    AccessPolicy unchanged;
    EXPECT_EQ(evaluate_access(facts, t0 + 41 * day, unchanged).level, AccessLevel::locked);
    AccessPolicy grant;
    grant.grant_on_objection = true;
    const auto v = evaluate_access(facts, t0 + 41 * day, grant);
    EXPECT_EQ(v.level, AccessLevel::granted);
    EXPECT_EQ(v.reason, access_reason::objection);
}

// SMTP was down: the final notice was queued on day 20 but went out only on day 20 + 9 hours.
// The lock (and the escalation) count from when it went out.
TEST(FinalNoticeDeadline, CountsFromWhenTheNoticeWentOut) {
    Ladder l(t0);
    l.c.policy.escalation.write_off_below_milli = 0; // escalate rather than write off
    l.run_to(t0 + 19 * day);
    l.hold_mail = true;
    l.run_to(t0 + 20 * day);
    ASSERT_EQ(l.c.state.stage_queued, 3);
    EXPECT_EQ(l.c.state.final_notice_at, std::nullopt) << "queued is not sent";
    const auto sent_at = t0 + 20 * day + std::chrono::hours{9};
    l.c.on(EmailSent{"final_notice", 3}, sent_at);
    EXPECT_EQ(l.c.state.final_notice_at, sent_at);
    l.c.on(EmailSent{"final_notice", 3}, sent_at + std::chrono::hours{1}); // reported twice
    EXPECT_EQ(l.c.state.final_notice_at, sent_at);

    const auto claim = claim_of(1, l.c.state, l.c.policy);
    EXPECT_EQ(claim.lock_at, sent_at + 14 * day);
    AccessFacts facts{{claim}, {}, {}};
    EXPECT_EQ(evaluate_access(facts, t0 + 34 * day + std::chrono::hours{1}, {}).level,
              AccessLevel::grace)
        << "14 days after queueing, but not after sending";
    EXPECT_EQ(evaluate_access(facts, sent_at + 14 * day, {}).level, AccessLevel::locked);
    l.hold_mail = false;
    l.run_to(sent_at + 14 * day - 1s);
    EXPECT_EQ(l.c.state.escalated_at, std::nullopt);
    l.run_to(sent_at + 14 * day);
    EXPECT_EQ(l.c.state.escalated_at, sent_at + 14 * day);
}

// A final notice the mail queue never delivers (a mailbox that does not exist, SMTP down for
// over a week): dunning still ends, counted from when the queue gave up at the latest; no lock
// is announced or carried out, since no notice went out.
TEST(FinalNoticeDeadline, ANoticeNeverSentStillEndsDunningWithoutALock) {
    Ladder l(t0);
    l.c.policy.escalation.write_off_below_milli = 0; // escalate rather than write off
    l.run_to(t0 + 19 * day);
    l.hold_mail = true;
    const auto gave_up = t0 + 20 * day + final_notice_send_window;
    l.run_to(gave_up + 14 * day - 1s);
    EXPECT_EQ(l.c.state.final_notice_at, std::nullopt);
    EXPECT_EQ(l.c.state.escalated_at, std::nullopt);
    l.run_to(gave_up + 14 * day);
    EXPECT_EQ(l.c.state.escalated_at, gave_up + 14 * day);
    EXPECT_EQ(claim_of(1, l.c.state, l.c.policy).lock_at, std::nullopt);
}

} // namespace
