// What dunning recovered: which fact names what recovered a paid case, and the summary's sums
// per currency, cohort, month of payment and stage over a period of first failures.
#include "core/case_engine.hpp"
#include "core/recovery.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono;

namespace {

const Timestamp t0 = from_unix(1'800'000'000); // 2027-01-15 08:00 UTC

CaseState failed(std::int64_t amount, Timestamp opened, std::string currency = "eur") {
    CaseState s;
    s.creator_id = "alpha";
    s.failed = true;
    s.opened_at = opened;
    s.invoice.invoice_id = "in_" + std::to_string(amount);
    s.invoice.amount_due = s.invoice.amount_remaining = amount;
    s.invoice.currency = std::move(currency);
    return s;
}

CaseState paid(CaseState s, Timestamp at) {
    s.resolution = Resolution::paid;
    s.resolved_at = at;
    s.invoice.amount_remaining = 0;
    return s;
}

} // namespace

TEST(RecoverySource, TheStrongestFactNamesIt) {
    auto s = paid(failed(4900, t0), t0 + days{3});
    EXPECT_EQ(recovery_source(s), "before_reminder");
    s.stage_sent = 2;
    EXPECT_EQ(recovery_source(s), "stage_2");
    s.final_notice_at = t0 + days{1};
    EXPECT_EQ(recovery_source(s), "after_final_notice");
    s.attempts.push_back(
        {1, t0 + hours{1}, "", CardNetwork::unknown, ChargeAttempt::Outcome::succeeded});
    EXPECT_EQ(recovery_source(s), "retry");
    s.promise = PromiseToPay{t0 + days{5}, t0 + hours{1}, true};
    EXPECT_EQ(recovery_source(s), "promise");
    s.collection.steps.push_back({"paid", t0 + hours{2}, "", 4900, "", "", ""});
    EXPECT_EQ(recovery_source(s), "collection");
    s.resolution_reason = paid_reason::marked_paid;
    EXPECT_EQ(recovery_source(s), "marked_paid");
}

TEST(RecoverySource, AFinalNoticeOrPromiseAfterThePaymentDoesNotCount) {
    auto s = paid(failed(4900, t0), t0 + days{1});
    s.stage_sent = 1;
    s.final_notice_at = t0 + days{2};
    s.promise = PromiseToPay{t0 + days{9}, t0 + days{3}, true};
    EXPECT_EQ(recovery_source(s), "stage_1");
}

TEST(RecoverySummary, SumsPerCurrencyCohortMonthAndStage) {
    const auto feb = t0 + days{20}; // 2027-02-04
    auto stage1 = failed(9900, t0);
    stage1.stage_sent = 1;
    auto written = failed(2000, t0);
    written.resolution = Resolution::written_off;
    written.resolved_at = t0 + days{30};
    auto open = failed(7900, feb);
    open.stage_sent = 2;
    auto usd = failed(1500, feb, "usd");
    const std::vector<CaseState> cases = {paid(failed(4900, t0), t0 + hours{1}),
                                          paid(stage1, feb),
                                          written,
                                          open,
                                          usd,
                                          failed(100, t0 - days{400})}; // outside the period
    std::vector<const CaseState*> all;
    for (const auto& c : cases)
        all.push_back(&c);
    const auto s = summarize_recovery(all, t0 - days{30}, t0 + days{60});

    const auto& eur = s.by_currency.at("eur");
    EXPECT_EQ(eur.failed, (Tally{4, 4900 + 9900 + 2000 + 7900}));
    EXPECT_EQ(eur.recovered, (Tally{2, 4900 + 9900}));
    EXPECT_EQ(eur.open, (Tally{1, 7900}));
    EXPECT_EQ(eur.written_off, (Tally{1, 2000}));
    EXPECT_EQ(s.by_currency.at("usd").open, (Tally{1, 1500}));

    EXPECT_EQ(s.cohorts.at("2027-01").at("eur").failed.count, 3);
    EXPECT_EQ(s.cohorts.at("2027-01").at("eur").recovered.minor, 4900 + 9900);
    EXPECT_EQ(s.cohorts.at("2027-02").at("eur").failed, (Tally{1, 7900}));
    EXPECT_EQ(s.recovered_by_month.at("2027-01").at("eur"), (Tally{1, 4900}));
    EXPECT_EQ(s.recovered_by_month.at("2027-02").at("eur"), (Tally{1, 9900}));
    EXPECT_EQ(s.recovered_by_source.at("before_reminder").at("eur"), (Tally{1, 4900}));
    EXPECT_EQ(s.recovered_by_source.at("stage_1").at("eur"), (Tally{1, 9900}));
    EXPECT_EQ(s.by_status,
              (std::map<std::string, int>{{"open", 2}, {"paid", 2}, {"written_off", 1}}));
    EXPECT_EQ(s.outstanding_by_stage, (std::map<int, int>{{0, 1}, {2, 1}}));
}

TEST(RecoverySummary, ThePeriodEndIsExclusive) {
    const auto c = failed(4900, t0);
    const auto s = summarize_recovery({&c}, t0 - days{1}, t0);
    EXPECT_TRUE(s.by_currency.empty());
    EXPECT_EQ(summarize_recovery({&c}, t0, t0 + seconds{1}).by_currency.at("eur").failed.count, 1);
}

TEST(RecoverySummary, ACreatorsMarkPaidIsKeptAsTheReason) {
    CasePolicy policy;
    auto s = failed(4900, t0);
    s.stage_sent = 1;
    const auto d = decide(s, CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + days{3}, policy);
    EXPECT_EQ(d.next.resolution, Resolution::paid);
    EXPECT_EQ(d.next.resolution_reason, paid_reason::marked_paid);
    EXPECT_EQ(recovery_source(d.next), "marked_paid");
    // Already paid through Stripe: the later word of the creator changes nothing.
    const auto again =
        decide(paid(failed(4900, t0), t0 + hours{1}),
               CreatorCommand{CreatorCommand::Kind::mark_paid}, t0 + days{3}, policy);
    EXPECT_EQ(again.next.resolution_reason, "");
}
