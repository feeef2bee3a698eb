// What the creator's Stripe connection and the member's SEPA mandate do to a case: a
// disconnected account holds every open case (no charge, no email) until it is connected again,
// and then dunning goes on where it stood, without a burst; an inactive mandate ends the SEPA
// retries on its method and asks the member, once, for another way to pay.
#include "case_engine_support.hpp"
#include "core/case_engine.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

using namespace dunning::testing;

CasePolicy disconnected(CasePolicy p) {
    p.stripe_disconnected = true;
    return p;
}

Event mandate(Timestamp at, std::string status = "inactive", std::string pm = "pm_old") {
    MandateFacts m{"mandate_1", std::move(pm), std::move(status)};
    return Event{"evt_m", "mandate.updated", "", at, EventKind::mandate_updated, m};
}

int emails_in(const Decision& d) {
    return static_cast<int>(effects_of<SendEmail>(d).size());
}

TEST(Disconnection, AnOpenCaseWaitsWithoutChargeOrEmailAndSaysWhy) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.policy = disconnected(c.policy);
    auto& d = c.tick(t0 + 1h);
    EXPECT_STREQ(status_of(d.next), "paused");
    EXPECT_STREQ(pause_reason(d.next), "stripe_disconnected");
    EXPECT_EQ(d.next.stripe_disconnected_at, t0 + 1h);
    EXPECT_EQ(d.next.next_wakeup, t0 + 2h) << "looked at hourly, in case the reconnection's pass "
                                              "over the cases is lost";
    for (auto at = t0 + 2h; at < t0 + 24h * 30; at += 1h) {
        c.tick(at);
        EXPECT_EQ(c.charges(), 0) << iso8601(at);
        EXPECT_EQ(emails_in(c.last), 0) << iso8601(at);
    }
    EXPECT_TRUE(c.state.attempts.empty());
    EXPECT_EQ(c.state.stage_queued, 0);
}

TEST(Disconnection, ReconnectingGoesOnWhereItStoodWithoutABurst) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.tick(t0 + 24h); // the first retry
    ASSERT_EQ(c.charges(), 1);
    c.decline_last(t0 + 24h);
    c.policy = disconnected(plugin_mode());
    c.tick(t0 + 25h);
    for (auto at = t0 + 26h; at < t0 + 24h * 21; at += 1h)
        c.tick(at);
    c.policy = plugin_mode(); // connected again, twenty days later
    auto& back = c.tick(t0 + 24h * 21);
    EXPECT_STREQ(status_of(back.next), "open");
    EXPECT_EQ(pause_reason(back.next), nullptr);
    EXPECT_FALSE(back.next.stripe_disconnected_at);
    EXPECT_EQ(c.charges(), 1) << "the retries missed collapse into one catch-up";
    EXPECT_EQ(emails_in(back), 0) << "the ladder moved on by the time waited";
    EXPECT_EQ(back.next.paused_seconds, (24h * 20 - 1h) / 1s);
    // The first reminder, due three days after the failure, comes three days (plus the wait)
    // after it: one email, not the three stages the calendar would have had by now.
    c.decline_last(t0 + 24h * 21);
    int reminders = 0;
    for (auto at = t0 + 24h * 21 + 1h; at < t0 + 24h * 24; at += 1h) {
        c.tick(at);
        reminders += emails_in(c.last);
    }
    EXPECT_EQ(reminders, 1);
    EXPECT_EQ(c.state.stage_queued, 1);
}

TEST(Disconnection, TheCreatorsOwnPauseOutlastsTheReconnection) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.policy = disconnected(plugin_mode());
    c.tick(t0 + 1h);
    c.on(CreatorCommand{CreatorCommand::Kind::pause}, t0 + 2h);
    c.policy = plugin_mode();
    c.tick(t0 + 3h);
    EXPECT_STREQ(status_of(c.state), "paused");
    EXPECT_STREQ(pause_reason(c.state), "creator");
    c.tick(t0 + 24h * 2);
    EXPECT_EQ(c.charges(), 0);
}

TEST(Disconnection, APaymentMeanwhileClosesTheCaseAndLeavesNoWait) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.policy = disconnected(plugin_mode());
    c.tick(t0 + 1h);
    c.on(invoice_paid(t0 + 2h), t0 + 2h);
    EXPECT_STREQ(status_of(c.state), "paid");
    EXPECT_FALSE(c.state.stripe_disconnected_at);
    EXPECT_FALSE(c.state.next_wakeup);
}

TEST(Mandate, AnInactiveMandateEndsTheSepaRetriesAndAsksOnce) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    EXPECT_EQ(emails_in(c.last), 0) << "insufficient funds on SEPA is retried, not asked about";
    ASSERT_TRUE(c.state.next_wakeup);
    auto& d = c.on(mandate(t0 + 1h), t0 + 1h);
    ASSERT_EQ(effects_of<SendEmail>(d).size(), 1u);
    EXPECT_EQ(effects_of<SendEmail>(d)[0].message, "update_payment_method");
    ASSERT_TRUE(d.next.mandate_inactive);
    EXPECT_EQ(d.next.mandate_inactive->mandate_id, "mandate_1");
    EXPECT_EQ(current_failure_class(d.next), FailureClass::sepa_stop);
    int charges = 0;
    int asks = 0;
    for (auto at = t0 + 2h; at < t0 + 24h * 60; at += 1h) {
        c.tick(at);
        charges += c.charges();
        for (const auto& e : effects_of<SendEmail>(c.last))
            asks += e.message == "update_payment_method";
    }
    EXPECT_EQ(charges, 0);
    EXPECT_EQ(asks, 0) << "asked once";
    c.on(mandate(t0 + 24h * 61), t0 + 24h * 61); // Stripe sends it again
    EXPECT_EQ(emails_in(c.last), 0);
}

TEST(Mandate, AnotherMethodsMandateOrAnActiveOneChangesNothing) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    c.on(mandate(t0 + 1h, "inactive", "pm_other"), t0 + 1h);
    EXPECT_FALSE(c.state.mandate_inactive);
    c.on(mandate(t0 + 2h, "active"), t0 + 2h);
    EXPECT_FALSE(c.state.mandate_inactive);
    EXPECT_EQ(current_failure_class(c.state), FailureClass::sepa_retryable);
}

TEST(Mandate, AFailureTheMemberHeardOfAlreadyIsNotAskedAgain) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "account_closed", PaymentMethodKind::sepa_debit), t0);
    ASSERT_EQ(emails_in(c.last), 1) << "account_closed asks for a new method at once";
    c.on(mandate(t0 + 1h), t0 + 1h);
    EXPECT_TRUE(c.state.mandate_inactive);
    EXPECT_EQ(emails_in(c.last), 0);
}

TEST(Mandate, ANewMethodIsChargedDespiteTheOldMandate) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    c.on(mandate(t0 + 1h), t0 + 1h);
    c.on(new_card(t0 + 2h), t0 + 2h);
    EXPECT_FALSE(mandate_stops(c.state));
    c.tick(t0 + 2h + 5min);
    ASSERT_EQ(effects_of<ChargeInvoice>(c.last).size(), 1u);
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last)[0].payment_method_id, "pm_new");
}

TEST(Mandate, TheMembersNewMethodIsNotAskedAboutWhileItIsDebited) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "insufficient_funds", PaymentMethodKind::sepa_debit), t0);
    c.on(mandate(t0 + 1h), t0 + 1h);
    ASSERT_EQ(emails_in(c.last), 1);
    c.on(new_card(t0 + 2h), t0 + 2h);
    c.tick(t0 + 2h + 5min);
    ASSERT_EQ(c.charges(), 1);
    EXPECT_FALSE(mandate_stops(c.state)) << "the charge is on the new method";
    EXPECT_EQ(emails_in(c.tick(t0 + 3h)), 0);
    c.on(ChargeResult{c.state.attempts.back().number, ChargeResult::Kind::processing}, t0 + 3h);
    EXPECT_EQ(emails_in(c.last), 0);
}

TEST(Mandate, AChargeNeverMadeKeepsTheNewMethodToTry) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.on(new_card(t0 + 1h), t0 + 1h);
    c.tick(t0 + 1h + 5min);
    ASSERT_EQ(c.charges(), 1);
    EXPECT_TRUE(c.state.new_payment_method.empty());
    c.on(ChargeResult{c.state.attempts.back().number, ChargeResult::Kind::abandoned}, t0 + 2h);
    ASSERT_EQ(c.charges(), 1) << "tried again at once, on the member's new method";
    EXPECT_EQ(effects_of<ChargeInvoice>(c.last)[0].payment_method_id, "pm_new");
}

TEST(Mandate, ACaseWithoutAFailedMethodIsNotTakenForIt) {
    Case c{plugin_mode()};
    auto card = failed_invoice(t0);
    std::get<PaymentFacts>(card.facts).payment_method_id.clear();
    c.on(card, t0);
    c.on(mandate(t0 + 1h), t0 + 1h);
    EXPECT_FALSE(c.state.mandate_inactive) << "a card failure named no method: not the mandate's";
}

} // namespace
