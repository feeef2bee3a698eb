// Outages together, under the test clock, in one run of the soak's script (no kills): the SMTP
// server down for six hours across a reminder's due time, Stripe answering 500 then 429 for an
// hour across a retry, the platform's receiver down for a day across the locks. Afterwards
// everything has completed as in a run without outages, in order per member, nothing lost; the
// queued reminders go out once, one ladder stage per member at a time, and none for a member
// who paid while the mail server was down.
#include "plugin/soak_run.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;

namespace {

constexpr std::int64_t hour = 60;
// Hours from the script's start (a Friday, 08:00 UTC). Between hours 96 and 100: the reminders
// of the members whose payment failed on day 1 fall due; at hour 100 b5 pays. Hour 150: a2's third
// retry, which succeeds. Hours 816 to 840: the locks of b2 and b4, and b4's payment at hour 834.
constexpr std::int64_t smtp_down = 96 * hour, smtp_up = 102 * hour; // day 4, 08:00–14:00
constexpr std::int64_t stripe_500 = 149 * hour + 30, stripe_429 = 150 * hour,
                       stripe_up = 150 * hour + 30;                  // day 6, 13:30–14:30
constexpr std::int64_t host_down = 816 * hour, host_up = 840 * hour; // days 34–35, 08:00

bool ladder_stage(const std::string& message_id) {
    for (const char* stage : {"reminder", "formal_reminder", "final_notice"})
        if (message_id.find(std::string("-") + stage + "-") != std::string::npos) return true;
    return false;
}

} // namespace

TEST(Outages, SmtpStripeAndPlatformDownTogetherLoseNothingAndBurstNothing) {
    SoakOutcome reference, outage;
    {
        SoakRun run;
        reference = run.run(0, 1);
        ASSERT_TRUE(run.error.empty()) << run.error << "\n" << run.log();
    }
    std::size_t mail_at_smtp_up = 0, host_requests_at_up = 0;
    std::int64_t stripe_outage_answers = 0;
    {
        SoakRun run;
        auto switch_outages = [&](std::int64_t minute) {
            if (minute == smtp_down) run.smtp().take_down();
            if (minute == smtp_up) {
                mail_at_smtp_up = run.smtp().messages().size();
                run.smtp().bring_up();
            }
            if (minute == stripe_500) run.stripe().answer_all_with(500);
            if (minute == stripe_429) run.stripe().answer_all_with(429);
            if (minute == stripe_up) {
                run.stripe().answer_all_with(0);
                stripe_outage_answers = run.stripe().outage_answers();
            }
            if (minute == host_down) run.host().stop();
            if (minute == host_up) {
                host_requests_at_up = run.host().count();
                run.host().start();
            }
        };
        outage =
            run.run(0, 1, {}, nullptr,
                    {smtp_down, smtp_up, stripe_500, stripe_429, stripe_up, host_down, host_up},
                    switch_outages);
        ASSERT_TRUE(run.error.empty()) << run.error << "\n" << run.log();
        // Each outage was met: a charge was answered 500/429, notifications waited
        EXPECT_GT(stripe_outage_answers, 0) << "no request reached Stripe during its outage";
        EXPECT_GT(run.host().count(), host_requests_at_up) << "nothing waited for the platform";
    }
    std::cout << "outages: SMTP down 6 h, Stripe 500/429 for 1 h (" << stripe_outage_answers
              << " requests refused), platform down 24 h; " << outage.emails_received << " emails, "
              << outage.notifications_received << " notifications, " << outage.charges
              << " charges\n";

    // Nothing lost, nothing twice
    for (const auto* o : {&reference, &outage}) {
        EXPECT_TRUE(o->lost_events.empty());
        EXPECT_EQ(o->pending_events, 0u);
        EXPECT_TRUE(o->duplicate_emails.empty()) << ::testing::PrintToString(o->duplicate_emails);
        EXPECT_TRUE(o->out_of_order.empty()) << ::testing::PrintToString(o->out_of_order);
        for (const auto& [invoice, n] : o->executions)
            EXPECT_EQ(o->keys.count(invoice) ? o->keys.at(invoice).size() : 0u,
                      static_cast<std::size_t>(n))
                << invoice;
    }
    // Everything completed as without outages
    EXPECT_EQ(outage.access, reference.access);
    EXPECT_EQ(outage.invoice_status, reference.invoice_status);
    EXPECT_EQ(outage.executions, reference.executions);
    EXPECT_EQ(outage.notifications, reference.notifications);
    const std::string b5 = "Member b5 <cus_b5@members.example>";
    auto others = outage.emails, reference_others = reference.emails;
    others.erase(b5);
    reference_others.erase(b5);
    EXPECT_EQ(others, reference_others);

    // Without the outage, b5 got the reminder an hour before paying (and the payment's
    // confirmation); with it, the reminder still queued at payment time never goes out
    EXPECT_FALSE(reference.emails[b5].empty());
    EXPECT_TRUE(outage.emails[b5].empty()) << ::testing::PrintToString(outage.emails[b5]);

    // The reminders due while SMTP was down went out after it, one stage per member at a time
    const auto reminded = std::find_if(outage.mail_log.begin(), outage.mail_log.end(), [](auto& m) {
        return m.first == "Member a4 <cus_a4@members.example>" &&
               m.second.find("-reminder-") != std::string::npos;
    });
    ASSERT_NE(reminded, outage.mail_log.end());
    EXPECT_GE(static_cast<std::size_t>(reminded - outage.mail_log.begin()), mail_at_smtp_up)
        << "a4's reminder was due during the outage";
    std::size_t step = 0;
    std::map<std::pair<std::size_t, std::string>, int> stages; // (step, recipient) → stages
    for (std::size_t i = 0; i < outage.mail_log.size(); ++i) {
        while (step < outage.mail_after_step.size() && outage.mail_after_step[step] <= i)
            ++step;
        if (ladder_stage(outage.mail_log[i].second)) ++stages[{step, outage.mail_log[i].first}];
    }
    for (const auto& [at, n] : stages)
        EXPECT_LE(n, 1) << at.second << " got " << n << " ladder stages at once (step " << at.first
                        << ")";
}
