// Emails count once they went out: the stage a case shows and the "payment received"
// confirmation follow what the member actually received, not what was queued.
#include "case_engine_support.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

using namespace dunning::testing;

std::vector<std::string> messages(const Decision& d) {
    std::vector<std::string> out;
    for (const auto& e : effects_of<SendEmail>(d))
        out.push_back(e.message);
    return out;
}

// Plugin mode: the day-1 retry declined, then the day-3 tick queues retry 2 and the reminder.
Case at_day_three() {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0), t0);
    c.on(invoice_failed_event(t0), t0);
    c.tick(t0 + 24h);
    c.decline_last(t0 + 24h);
    c.tick(t0 + 24h * 3);
    EXPECT_EQ(c.charges(), 1);
    EXPECT_EQ(messages(c.last), std::vector<std::string>{"reminder"});
    return c;
}

TEST(SentEmails, ARetryThatSucceedsBeforeTheReminderWentOutThanksNobody) {
    auto c = at_day_three();
    auto& d = c.on(ChargeResult{2, ChargeResult::Kind::succeeded}, t0 + 24h * 3);
    EXPECT_STREQ(status_of(d.next), "paid");
    ASSERT_EQ(effects_of<NotifyHost>(d).size(), 1u);
    EXPECT_EQ(effects_of<NotifyHost>(d)[0].type, "case.resolved");
    EXPECT_TRUE(messages(d).empty());
    EXPECT_EQ(d.next.stage_queued, 1);
    EXPECT_EQ(d.next.stage_sent, 0) << "the stage case.resolved reports";
    EXPECT_TRUE(c.tick(t0 + 24h * 30).effects.empty());
}

TEST(SentEmails, AReminderThatWentOutEarnsTheConfirmationOnce) {
    auto c = at_day_three();
    EXPECT_TRUE(c.on(EmailSent{"reminder", 1}, t0 + 24h * 3).effects.empty());
    EXPECT_EQ(c.state.stage_sent, 1);
    auto& d = c.on(ChargeResult{2, ChargeResult::Kind::succeeded}, t0 + 24h * 3 + 5min);
    EXPECT_EQ(messages(d), std::vector<std::string>{"payment_received"});
    EXPECT_TRUE(c.on(invoice_paid(t0 + 24h * 3 + 6min), t0 + 24h * 3 + 6min).effects.empty());
    EXPECT_TRUE(c.on(EmailSent{"reminder", 1}, t0 + 24h * 3 + 7min).effects.empty());
}

// The mail dispatcher had the reminder on its way when the payment was recorded.
TEST(SentEmails, AReminderReportedSentAfterThePaymentStillEarnsTheConfirmation) {
    auto c = at_day_three();
    auto& paid = c.on(ChargeResult{2, ChargeResult::Kind::succeeded}, t0 + 24h * 3);
    EXPECT_TRUE(messages(paid).empty());
    auto& d = c.on(EmailSent{"reminder", 1}, t0 + 24h * 3 + 1s);
    EXPECT_EQ(messages(d), std::vector<std::string>{"payment_received"});
    EXPECT_TRUE(effects_of<NotifyHost>(d).empty()) << "case.resolved went out once";
    EXPECT_TRUE(c.on(EmailSent{"reminder", 1}, t0 + 24h * 3 + 2s).effects.empty());
}

TEST(SentEmails, AnUpdatePaymentMethodEmailThatWentOutCountsToo) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "expired_card"), t0);
    ASSERT_EQ(messages(c.last), std::vector<std::string>{"update_payment_method"});
    c.on(EmailSent{"update_payment_method", 0}, t0 + 1min);
    EXPECT_EQ(c.state.stage_sent, 0);
    auto& d = c.on(invoice_paid(t0 + 2h), t0 + 2h);
    EXPECT_EQ(messages(d), std::vector<std::string>{"payment_received"});
}

TEST(SentEmails, AFailureEmailQueuedButNeverSentEarnsNothing) {
    Case c{plugin_mode()};
    c.on(failed_invoice(t0, "authentication_required"), t0);
    ASSERT_EQ(messages(c.last), std::vector<std::string>{"action_required"});
    EXPECT_TRUE(messages(c.on(invoice_paid(t0 + 2h), t0 + 2h)).empty());
}

TEST(SentEmails, TheStageCountsTheNewestStageThatWentOut) {
    Case c{CasePolicy{}};
    c.on(failed_invoice(t0), t0);
    c.on(EmailSent{"formal_reminder", 2}, t0 + 24h * 10);
    c.on(EmailSent{"reminder", 1}, t0 + 24h * 10 + 1min); // a late report of an earlier one
    EXPECT_EQ(c.state.stage_sent, 2);
    c.on(EmailSent{"payment_received", 0}, t0 + 24h * 11);
    EXPECT_EQ(c.state.stage_sent, 2);
    EXPECT_FALSE(c.state.failure_email_sent);
}

} // namespace
