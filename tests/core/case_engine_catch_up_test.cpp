// Missed retry slots (downtime, a pause, a replay): one catch-up charge, then the rest of the
// schedule keeps its spacing, and escalation waits for it.
#include "case_engine_support.hpp"
#include "core/calendar.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

using namespace dunning::testing;

Date day_of(Timestamp t) {
    return Date{std::chrono::floor<std::chrono::days>(t)};
}

// Follows the case's wake-ups from `from`, declining every charge as soon as it is made, until
// nothing is planned. Returns when each charge was made. A wake-up inside [down_from, down_to)
// happens at down_to instead: the service was not running.
std::vector<Timestamp> follow(Case& c, Timestamp from, Timestamp down_from = {},
                              Timestamp down_to = {}) {
    std::vector<Timestamp> charged;
    Timestamp now = from;
    for (int guard = 0; guard < 200; ++guard) {
        c.tick(now);
        for (int n = c.charges(); n > 0; n = c.charges()) {
            EXPECT_EQ(n, 1) << "two charges in one decision";
            charged.push_back(now);
            c.decline_last(now);
        }
        if (!c.state.next_wakeup) break;
        now = std::max(now, *c.state.next_wakeup);
        if (now >= down_from && now < down_to) now = down_to;
    }
    return charged;
}

// Follows the case's wake-ups (the ladder's too) until it charges; when it did.
std::optional<Timestamp> next_charge(Case& c) {
    for (int guard = 0; guard < 50 && c.state.next_wakeup; ++guard) {
        const Timestamp now = *c.state.next_wakeup;
        if (c.tick(now).effects.empty() && c.state.next_wakeup == now) break;
        if (c.charges() > 0) return now;
    }
    return std::nullopt;
}

TEST(CatchUp, ThirteenDaysDownAfterTheFirstRetryChargesOnceThenKeepsTheGaps) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h);
    ASSERT_EQ(c.charges(), 1);
    c.decline_last(t0 + 24h);
    const Timestamp back = t0 + 24h * 14;
    c.tick(back);
    ASSERT_EQ(c.charges(), 1) << "one catch-up for the slots of days 3, 5, 7, 10 and 14";
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last).at(0).attempt, 2);
    c.decline_last(back);
    EXPECT_EQ(c.charges(), 0) << "its decline does not set off the next slot";
    const auto rest = follow(c, back);
    const std::vector<Timestamp> expected = {back + 24h * 2, back + 24h * 4, back + 24h * 7,
                                             back + 24h * 11};
    EXPECT_EQ(rest, expected) << "days 5, 7, 10, 14 of the schedule, spaced as planned";
    EXPECT_EQ(c.state.attempts.size(), 6u);
}

// Whatever the outage, the schedule's spacing holds: never two charges within the smallest
// gap between planned retries, and all six still happen.
TEST(CatchUp, NoOutageBringsRetriesCloserThanTheSchedule) {
    const auto& schedule = plugin_mode().retry.card_schedule;
    for (auto down_from = t0; down_from < t0 + 24h * 16; down_from += 7h) {
        for (int days = 1; days <= 20; ++days) {
            Case c{plugin_mode()};
            c.on(failed_invoice(t0), t0);
            const auto down_to = down_from + 24h * days;
            const auto charged = follow(c, t0, down_from, down_to);
            SCOPED_TRACE(std::to_string((down_from - t0) / 1h) + "h + " + std::to_string(days) +
                         " days");
            ASSERT_EQ(charged.size(), schedule.size());
            EXPECT_GE(charged[0], t0 + schedule[0]);
            for (std::size_t i = 1; i < charged.size(); ++i)
                EXPECT_GE(charged[i] - charged[i - 1], schedule[i] - schedule[i - 1])
                    << "retry " << i + 1;
        }
    }
}

TEST(CatchUp, AResumedCaseCatchesUpOnceThenKeepsTheGaps) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h);
    c.decline_last(t0 + 24h);
    c.on(CreatorCommand{CreatorCommand::Kind::pause}, t0 + 24h * 2);
    EXPECT_EQ(c.tick(t0 + 24h * 5).effects.size(), 0u);
    const Timestamp resumed = t0 + 24h * 15;
    c.on(CreatorCommand{CreatorCommand::Kind::resume}, resumed);
    ASSERT_EQ(c.charges(), 1);
    c.decline_last(resumed);
    EXPECT_EQ(c.charges(), 0);
    EXPECT_EQ(next_charge(c), resumed + 24h * 2);
}

TEST(CatchUp, AReplayedOldFailureChargesOnceThenKeepsTheGaps) {
    Case c{plugin_mode()};
    const Timestamp seen = t0 + 24h * 60;
    c.on(failed_invoice(t0), seen);
    ASSERT_EQ(c.charges(), 1) << "the day-1 slot, counted from a day before the failure was seen";
    c.decline_last(seen);
    EXPECT_EQ(c.charges(), 0);
    EXPECT_EQ(c.tick(seen).effects.size(), 0u);
    EXPECT_EQ(next_charge(c), seen + 24h * 2);
}

TEST(CatchUp, SepaCatchesUpOnTheNextBusinessDayAtTheSubmissionHour) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    // Planned for Tue 19 Jan 06:00; down from Sunday 17 January to Saturday 30 January 10:00.
    const Timestamp back = t0 + 24h * 15 + 2h;
    c.tick(back);
    EXPECT_EQ(c.charges(), 0) << "no SEPA debit on a Saturday";
    const auto charged = next_charge(c);
    ASSERT_TRUE(charged);
    EXPECT_EQ(*charged, t0 + 24h * 17 - 2h) << "Monday 1 February 06:00";
    EXPECT_TRUE(is_target2_business_day(day_of(*charged)));
}

TEST(CatchUp, SepaAfterAnOutageChargesOnceAndSpacesTheNextFromItsFailure) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    const Timestamp back = t0 + 24h * 25; // Tue 9 Feb 08:00, slots of 19 Jan and later missed
    c.tick(back);
    ASSERT_EQ(c.charges(), 1) << "a business day past the submission hour: at once";
    PaymentFacts p;
    p.invoice_id = "in_1";
    p.method = PaymentMethodKind::sepa_debit;
    p.error.code = "insufficient_funds";
    c.on(Event{"evt_s", "payment_intent.processing", "", back, EventKind::payment_processing, p},
         back);
    EXPECT_EQ(c.charges(), 0);
    const Timestamp failed = back + 24h * 3;
    c.on(Event{"evt_f2", "payment_intent.payment_failed", "", failed, EventKind::payment_failed, p},
         failed);
    EXPECT_EQ(c.charges(), 0);
    ASSERT_TRUE(c.state.next_wakeup);
    EXPECT_EQ(*c.state.next_wakeup, next_sepa_retry(c.policy.retry, 1, failed, failed));
    EXPECT_GE(*c.state.next_wakeup, failed + c.policy.retry.sepa_min_gap);
}

TEST(CatchUp, EscalationAndTheEndActionWaitForTheRetriesAnOutagePushedBack) {
    Case c{plugin_mode(EndAction::mark_uncollectible)};
    c.policy.stages = {{"reminder", 24h * 3}, {"final_notice", 24h * 5}};
    c.policy.final_notice_deadline = 24h * 5;
    c.on(failed_invoice(t0), t0);
    Timestamp escalated{};
    std::vector<Timestamp> charged;
    Timestamp now = t0;
    for (int guard = 0; guard < 100 && c.state.next_wakeup; ++guard) {
        now = std::max(*c.state.next_wakeup, now);
        if (now > t0 + 36h && now < t0 + 24h * 8) now = t0 + 24h * 8; // down from day 1.5 to day 8
        c.tick(now);
        if (c.charges() == 1) {
            charged.push_back(now);
            c.decline_last(now);
        }
        if (!effects_of<EndOfSchedule>(c.last).empty()) escalated = now;
    }
    const std::vector<Timestamp> expected = {t0 + 24h,      t0 + 24h * 8,  t0 + 24h * 10,
                                             t0 + 24h * 12, t0 + 24h * 15, t0 + 24h * 19};
    EXPECT_EQ(charged, expected);
    EXPECT_EQ(c.state.stage_queued, 2) << "the final notice was queued on day 8";
    EXPECT_EQ(c.state.final_notice_at, std::nullopt) << "and never reported sent (no address)";
    EXPECT_EQ(escalated, t0 + 24h * 19) << "not on day 13, before the last two retries";
    EXPECT_EQ(c.state.escalated_at, t0 + 24h * 19);
}

} // namespace
