// The crash soak: the script of plugin/soak_scenario.hpp runs once without kills (the reference)
// and once with kill -9 at seeded moments, each followed by a restart on the test clock's time.
// Afterwards, from the fake Stripe's request log, the SMTP mailbox, the platform's notifications
// and the API: every acknowledged event processed, no charge attempt made twice, no email sent
// twice, notifications complete and in order per member, and the same access for every member
// as in the reference. DUNNING_SOAK_KILLS (3) and DUNNING_SOAK_SEED (1) choose the run;
// scripts/crash-soak runs it longer.
#include "plugin/soak_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

using namespace dunning;
using namespace dunning::testing;

namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

void expect_sound(const SoakOutcome& o, const std::string& run) {
    EXPECT_TRUE(o.lost_events.empty())
        << run << ": acknowledged, not stored: " << ::testing::PrintToString(o.lost_events);
    EXPECT_EQ(o.pending_events, 0u) << run << ": events never processed";
    EXPECT_EQ(o.poison_events, 0u) << run;
    // SMTP cannot be asked whether a message was taken: a kill between the server's answer
    // and the commit that records it repeats that one email (same Message-ID) after the
    // restart. Nothing else may come twice: at most one repeat per kill, right after it.
    std::set<std::size_t> kills_with_repeat;
    for (std::size_t r = 0; r < o.repeats.size(); ++r) {
        const auto at =
            std::upper_bound(o.mail_at_restart.begin(), o.mail_at_restart.end(), o.repeats[r]);
        const bool after_kill = at != o.mail_at_restart.begin();
        EXPECT_TRUE(after_kill && kills_with_repeat.insert(at - o.mail_at_restart.begin()).second)
            << run << ": " << o.duplicate_emails[r] << " sent twice, not as the one email in "
            << "flight at a kill";
    }
    EXPECT_TRUE(o.out_of_order.empty())
        << run << ": notifications out of order for " << ::testing::PrintToString(o.out_of_order);
    for (const auto& [invoice, n] : o.executions)
        EXPECT_EQ(o.keys.count(invoice) ? o.keys.at(invoice).size() : 0u,
                  static_cast<std::size_t>(n))
            << run << ": " << invoice << ": one Idempotency-Key per charge attempt";
}

std::string levels(const SoakOutcome& o) {
    std::string s;
    for (const auto& [member, level] : o.access)
        s += member + "=" + level + " ";
    return s;
}

} // namespace

TEST(CrashSoak, KillNineChangesNothingACrashFreeRunWouldNotDo) {
    const int kills = env_int("DUNNING_SOAK_KILLS", 3);
    const auto seed = static_cast<unsigned>(env_int("DUNNING_SOAK_SEED", 1));
    std::cout << "crash-soak: " << kills << " kill(s), seed " << seed
              << "; reference run without kills first\n";
    SoakOutcome reference, soak;
    {
        SoakRun run;
        reference = run.run(0, seed);
        ASSERT_TRUE(run.error.empty()) << run.error << "\n" << run.log();
    }
    std::cout << "crash-soak: reference: " << levels(reference) << "\n";
    {
        SoakRun run;
        soak = run.run(kills, seed, reference.step_micros, &std::cout);
        ASSERT_TRUE(run.error.empty()) << run.error << "\n" << run.log();
    }
    std::cout << "crash-soak: summary: " << soak.kills << " kill(s) survived ("
              << soak.kills_mid_step << " mid-step), " << soak.stripe_events + soak.load_events
              << " events acknowledged (" << soak.stripe_events << " from Stripe, "
              << soak.load_events << " load), " << soak.charges << " charges executed, "
              << soak.emails_received << " emails (" << soak.repeats.size()
              << " repeated: in flight at a kill), " << soak.notifications_received
              << " notifications; access " << levels(soak) << "\n";

    // The reference itself is what the script means: recoveries and locks.
    expect_sound(reference, "reference");
    EXPECT_EQ(reference.access.at("cus_a1"), "granted");
    EXPECT_EQ(reference.access.at("cus_a4"), "locked");
    EXPECT_EQ(reference.access.at("cus_b4"), "granted");
    EXPECT_EQ(reference.invoice_status.at("in_a5"), "paid");

    EXPECT_EQ(soak.kills, kills);
    expect_sound(soak, "with kills");
    EXPECT_EQ(soak.access, reference.access);
    EXPECT_EQ(soak.invoice_status, reference.invoice_status);
    EXPECT_EQ(soak.executions, reference.executions) << "charge attempts per invoice";
    EXPECT_EQ(soak.emails, reference.emails) << "emails per member, in order";
    EXPECT_EQ(soak.notifications, reference.notifications) << "notifications per member";
}
