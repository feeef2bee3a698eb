// Given a case, when an input arrives at a time, then the next state and the effects.
#include "case_engine_support.hpp"
#include "core/calendar.hpp"
#include "core/case_engine.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

using namespace dunning::testing;

TEST(CaseEngine, FirstFailureOpensTheCaseAndWakesForTheFirstRetry) {
    Case c{plugin_mode()};
    auto& d = c.on(failed_invoice(t0), t0);
    EXPECT_STREQ(status_of(d.next), "open");
    EXPECT_TRUE(effects_of<NotifyHost>(d).empty())
        << "not before an invoice event says what it is about";
    EXPECT_EQ(c.charges(), 0);
    EXPECT_EQ(d.next.next_wakeup, t0 + 24h);
    auto& with_invoice = c.on(invoice_failed_event(t0), t0 + 1s);
    ASSERT_EQ(effects_of<NotifyHost>(with_invoice).size(), 1u);
    EXPECT_EQ(effects_of<NotifyHost>(with_invoice)[0].type, "case.opened");
}

TEST(CaseEngine, SoftDeclineIsRetriedOnTheScheduleUntilItIsExhausted) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    std::vector<Timestamp> charged;
    Timestamp now = t0;
    for (int guard = 0; guard < 100 && c.state.next_wakeup; ++guard) {
        now = *c.state.next_wakeup;
        c.tick(now);
        if (c.charges() == 1) {
            charged.push_back(now);
            c.decline_last(now + 5s);
        }
    }
    const std::vector<Timestamp> expected = {t0 + 24h * 1, t0 + 24h * 3,  t0 + 24h * 5,
                                             t0 + 24h * 7, t0 + 24h * 10, t0 + 24h * 14};
    EXPECT_EQ(charged, expected);
    EXPECT_EQ(c.state.attempts.size(), 6u);
}

TEST(CaseEngine, RepeatedTickEmitsNothingTwice) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    EXPECT_EQ(c.tick(t0 + 24h).effects.size(), 1u);
    EXPECT_TRUE(c.tick(t0 + 24h).effects.empty());
    EXPECT_TRUE(c.tick(t0 + 48h).effects.empty()) << "the charge is still waiting for its result";
    EXPECT_EQ(c.state.attempts.size(), 1u);
}

TEST(CaseEngine, ChargesCarryAttemptNumbersForTheirIdempotencyKeys) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h);
    ASSERT_EQ(effects_of<ChargeInvoice>(c.last).size(), 1u);
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last)[0].attempt, 1);
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last)[0].invoice_id, "in_1");
    c.decline_last(t0 + 24h);
    c.tick(t0 + 72h);
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last)[0].attempt, 2);
}

struct NoRetryRow {
    const char* name;
    const char* decline;
    PaymentMethodKind method;
    const char* email;
};

class NeverRetried : public ::testing::TestWithParam<NoRetryRow> {};

TEST_P(NeverRetried, AsksTheMemberInsteadOfCharging) {
    Case c{plugin_mode()};
    auto& d = c.on(failed_invoice(t0, GetParam().decline, GetParam().method), t0);
    const auto emails = effects_of<SendEmail>(d);
    ASSERT_EQ(emails.size(), 1u);
    EXPECT_EQ(emails[0].message, GetParam().email);
    for (auto at = t0; at < t0 + 24h * 40; at += 12h) {
        c.tick(at);
        EXPECT_EQ(c.charges(), 0) << "charged at +" << (at - t0).count() << "s";
        for (const auto& e : effects_of<SendEmail>(c.last))
            EXPECT_NE(e.message, GetParam().email);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NeverRetried,
    ::testing::Values(
        NoRetryRow{"stolen_card", "stolen_card", PaymentMethodKind::card, "update_payment_method"},
        NoRetryRow{"expired_card", "expired_card", PaymentMethodKind::card,
                   "update_payment_method"},
        NoRetryRow{"sca", "authentication_required", PaymentMethodKind::card, "action_required"},
        NoRetryRow{"sepa_account_closed", "account_closed", PaymentMethodKind::sepa_debit,
                   "update_payment_method"},
        NoRetryRow{"sepa_revoked", "authorization_revoked", PaymentMethodKind::sepa_debit,
                   "update_payment_method"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CaseEngine, ANewCardIsChargedSoonEvenAfterAHardDecline) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "lost_card"), t0);
    auto& d = c.on(new_card(t0 + 2h), t0 + 2h);
    EXPECT_EQ(c.charges(), 0);
    EXPECT_EQ(d.next.next_wakeup, t0 + 2h + 5min);
    c.tick(t0 + 2h + 5min);
    const auto charges = effects_of<ChargeInvoice>(c.last);
    ASSERT_EQ(charges.size(), 1u);
    EXPECT_EQ(charges[0].payment_method_id, "pm_new");
}

TEST(CaseEngine, StripeModeNeverCharges) {
    Case c{CasePolicy{}};
    c.on(failed_invoice(t0), t0);
    c.on(new_card(t0 + 1h), t0 + 1h);
    for (auto at = t0; at < t0 + 24h * 40; at += 6h) {
        c.tick(at);
        EXPECT_EQ(c.charges(), 0);
    }
    EXPECT_TRUE(c.state.attempts.empty());
}

TEST(CaseEngine, LadderSendsEachStageOnceThenEscalatesWithTheEndAction) {
    Case c{plugin_mode(EndAction::cancel_subscription)};
    c.on(failed_invoice(t0, "stolen_card"), t0);
    std::vector<std::pair<std::int64_t, std::string>> sent;
    bool escalated = false, ended = false;
    for (auto at = t0; at <= t0 + 24h * 50; at += 1h) {
        c.tick(at);
        for (const auto& e : effects_of<SendEmail>(c.last))
            sent.emplace_back((at - t0) / 24h, e.message);
        for (const auto& n : effects_of<NotifyHost>(c.last))
            escalated |= n.type == "case.escalated";
        ended |= !effects_of<EndOfSchedule>(c.last).empty();
    }
    const std::vector<std::pair<std::int64_t, std::string>> expected = {
        {3, "reminder"}, {10, "formal_reminder"}, {20, "final_notice"}};
    EXPECT_EQ(sent, expected);
    EXPECT_TRUE(escalated);
    EXPECT_TRUE(ended);
    EXPECT_STREQ(status_of(c.state), "escalated");
    EXPECT_EQ(c.state.escalated_at, t0 + 24h * 34);
}

TEST(CaseEngine, AfterDowntimeOnlyTheNewestDueStageGoesOut) {
    Case c{CasePolicy{}};
    c.on(failed_invoice(t0), t0);
    auto& d = c.tick(t0 + 24h * 25);
    const auto emails = effects_of<SendEmail>(d);
    ASSERT_EQ(emails.size(), 1u);
    EXPECT_EQ(emails[0].message, "final_notice");
    EXPECT_EQ(emails[0].stage, 3);
}

TEST(CaseEngine, AReplayedOldFailureDoesNotJumpToTheFinalNotice) {
    Case c{CasePolicy{}};
    auto& d = c.on(failed_invoice(t0), t0 + 24h * 60);
    EXPECT_TRUE(effects_of<SendEmail>(d).empty());
    EXPECT_EQ(d.next.next_wakeup, t0 + 24h * 62) << "day 3, counted from a day before it was seen";
}

TEST(CaseEngine, PaymentResolvesThanksTheMemberAndStopsEverything) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.on(invoice_failed_event(t0), t0); // case.opened
    c.tick(t0 + 24h * 3);               // charge 1 (day 1 overdue) and the reminder
    ASSERT_EQ(c.state.stage_queued, 1);
    c.on(EmailSent{"reminder", 1}, t0 + 24h * 3 + 1min);
    ASSERT_EQ(c.state.stage_sent, 1);
    auto& d = c.on(invoice_paid(t0 + 24h * 3 + 1h), t0 + 24h * 3 + 1h);
    EXPECT_STREQ(status_of(d.next), "paid");
    EXPECT_EQ(effects_of<NotifyHost>(d).at(0).type, "case.resolved");
    EXPECT_EQ(effects_of<SendEmail>(d).at(0).message, "payment_received");
    EXPECT_FALSE(d.next.next_wakeup);
    EXPECT_TRUE(c.tick(t0 + 24h * 30).effects.empty());
    EXPECT_TRUE(c.on(failed_invoice(t0 + 24h), t0 + 24h * 31).effects.empty()) << "a late failure";
}

TEST(CaseEngine, ChargeSucceededByApiAnswerResolvesAtOnce) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h);
    auto& d = c.on(ChargeResult{1, ChargeResult::Kind::succeeded}, t0 + 24h);
    EXPECT_STREQ(status_of(d.next), "paid");
    EXPECT_EQ(d.next.attempts.at(0).outcome, ChargeAttempt::Outcome::succeeded);
}

TEST(CaseEngine, AbandonedChargeDoesNotCountAsAnAttempt) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h);
    c.on(ChargeResult{1, ChargeResult::Kind::abandoned}, t0 + 24h * 4);
    const auto charges = effects_of<ChargeInvoice>(c.last);
    ASSERT_EQ(charges.size(), 1u) << "the day-1 slot is tried again, as attempt 2";
    EXPECT_EQ(charges[0].attempt, 2);
}

TEST(CaseEngine, PauseHoldsEverythingAndResumeShiftsTheLadder) {
    Case c{CasePolicy{}};
    c.on(failed_invoice(t0), t0);
    c.on(CreatorCommand{CreatorCommand::Kind::pause}, t0 + 24h);
    EXPECT_STREQ(status_of(c.state), "paused");
    EXPECT_TRUE(c.tick(t0 + 24h * 5).effects.empty());
    c.on(CreatorCommand{CreatorCommand::Kind::resume}, t0 + 24h * 6);
    EXPECT_TRUE(effects_of<SendEmail>(c.last).empty());
    EXPECT_EQ(c.state.next_wakeup, t0 + 24h * 8) << "day 3 plus five days paused";
}

TEST(CaseEngine, CreatorCommands) {
    Case c{plugin_mode(EndAction::mark_uncollectible)};
    c.on(failed_invoice(t0), t0);
    c.on(CreatorCommand{CreatorCommand::Kind::escalate}, t0 + 1h);
    EXPECT_STREQ(status_of(c.state), "escalated");
    EXPECT_EQ(effects_of<EndOfSchedule>(c.last).at(0).action, EndAction::mark_uncollectible);
    c.on(CreatorCommand{CreatorCommand::Kind::write_off}, t0 + 2h);
    EXPECT_STREQ(status_of(c.state), "written_off");
    c.on(CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + 3h);
    EXPECT_STREQ(status_of(c.state), "paid") << "a written-off claim can still be paid";
}

TEST(CaseEngine, MarkPaidInPluginModeMarksTheInvoicePaidOutOfBandOnce) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.on(CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + 1h);
    ASSERT_EQ(effects_of<MarkPaidOutOfBand>(c.last).size(), 1u);
    EXPECT_EQ(effects_of<MarkPaidOutOfBand>(c.last)[0].invoice_id, "in_1");
    c.on(CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + 2h);
    EXPECT_TRUE(effects_of<MarkPaidOutOfBand>(c.last).empty()) << "already paid";

    Case stripe_mode{CasePolicy{}};
    stripe_mode.on(failed_invoice(t0), t0);
    stripe_mode.on(CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + 1h);
    EXPECT_STREQ(status_of(stripe_mode.state), "paid");
    EXPECT_TRUE(effects_of<MarkPaidOutOfBand>(stripe_mode.last).empty()) << "not ours to act";
}

TEST(CaseEngine, SepaRetriesAtMostTwiceOnBusinessDays) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    int charges = 0;
    for (auto at = t0; at < t0 + 24h * 60; at += 1h) {
        c.tick(at);
        if (c.charges() == 0) continue;
        ++charges;
        const auto day = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(at));
        EXPECT_TRUE(is_target2_business_day(day));
        PaymentFacts p;
        p.invoice_id = "in_1";
        p.method = PaymentMethodKind::sepa_debit;
        p.error.code = "insufficient_funds";
        c.on(Event{"evt_s", "payment_intent.processing", "", at, EventKind::payment_processing, p},
             at);
        c.on(Event{"evt_f", "payment_intent.payment_failed", "", at + 24h * 3,
                   EventKind::payment_failed, p},
             at + 24h * 3);
    }
    EXPECT_EQ(charges, 2);
}

} // namespace
