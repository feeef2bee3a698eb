// Instalment plans seen as one: the plan an invoice belongs to, from the member's invoices, and
// the access rules weighing an unpaid instalment together with the plan's earlier ones.
#include "core/access.hpp"
#include "core/instalment_plan.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

const Timestamp t0 = from_unix(1'800'000'000);
constexpr auto month = std::chrono::days{30};

// Instalment `n` (1, 2, …) of a plan of `count` at 150.00 EUR each, billed n-1 months after t0.
CaseState instalment(int n, int count = 4, const std::string& subscription = "sub_plan") {
    CaseState s;
    s.creator_id = "alpha";
    s.invoice.invoice_id = "in_" + std::to_string(n);
    s.invoice.customer_id = "cus_1";
    s.invoice.subscription_id = subscription;
    s.invoice.plan_instalments = count;
    s.invoice.currency = "eur";
    s.invoice.amount_due = 15000;
    s.invoice.status = "paid";
    s.invoice_as_of = t0 + (n - 1) * month;
    return s;
}
CaseState failed(CaseState s) {
    s.failed = true;
    s.opened_at = s.invoice_as_of;
    s.invoice.status = "open";
    return s;
}

} // namespace

TEST(InstalmentPlan, NoneForAnOrdinaryInvoice) {
    auto s = failed(instalment(1));
    s.invoice.plan_instalments = 0;
    EXPECT_FALSE(plan_of(s, {{1, s}}));
    auto one_off = failed(instalment(1));
    one_off.invoice.subscription_id.clear();
    EXPECT_FALSE(plan_of(one_off, {{1, one_off}}));
}

TEST(InstalmentPlan, OneFailedInstalmentAmongPaidOnes) {
    const std::vector<std::pair<std::int64_t, CaseState>> known = {
        {1, instalment(1)},
        {2, instalment(2)},
        {3, failed(instalment(3))},
        {4, instalment(1, 3, "sub_other")}, // another plan of the same member
    };
    const auto plan = plan_of(known[2].second, known);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->subscription_id, "sub_plan");
    EXPECT_EQ(plan->instalments, 4);
    EXPECT_EQ(plan->billed, 3);
    EXPECT_EQ(plan->paid, 2);
    EXPECT_EQ(plan->open, 1);
    EXPECT_EQ(plan->open_minor, 15000);
    EXPECT_EQ(plan->open_cases, std::vector<std::int64_t>{3});
    EXPECT_EQ(plan->instalment_minor, 15000);
    EXPECT_EQ(plan->unbilled_minor(), 15000); // the fourth is still to come
}

TEST(InstalmentPlan, FailedThenPaidCountsAsPaidAndPartPaymentLowersTheOpenAmount) {
    auto repaid = failed(instalment(1));
    repaid.resolution = Resolution::paid;
    auto partly = failed(instalment(2));
    partly.invoice.amount_remaining = 4000;
    auto forgiven = failed(instalment(3));
    forgiven.resolution = Resolution::written_off;
    const std::vector<std::pair<std::int64_t, CaseState>> known = {
        {1, repaid}, {2, partly}, {3, forgiven}};
    const auto plan = plan_of(partly, known);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->paid, 1);
    EXPECT_EQ(plan->open, 1);
    EXPECT_EQ(plan->open_minor, 4000);
    EXPECT_EQ(plan->billed, 3); // the written-off one was billed, neither paid nor open
}

TEST(InstalmentPlan, AnUnpaidInstalmentIsWeighedWithTheEarlierUnpaidOnes) {
    std::vector<AccessClaim> claims;
    for (int n = 1; n <= 3; ++n) {
        auto s = failed(instalment(n));
        s.invoice.amount_due = 600; // 6.00 each: below the default minimum of 10.00 alone
        claims.push_back(claim_of(n, s, {}));
    }
    auto other = failed(instalment(1, 0, "sub_membership")); // not a plan
    other.invoice.amount_due = 700;
    claims.push_back(claim_of(9, other, {}));
    see_plans_as_one(claims);
    EXPECT_EQ(claims[0].amount_minor, 600);  // the first: nothing before it
    EXPECT_EQ(claims[1].amount_minor, 1200); // with the first
    EXPECT_EQ(claims[2].amount_minor, 1800); // with both: never with later ones
    EXPECT_EQ(claims[3].amount_minor, 700);  // not part of the plan
    const AccessPolicy policy;
    EXPECT_FALSE(deadline_locks(claims[0], policy));
    EXPECT_TRUE(deadline_locks(claims[1], policy));
}

TEST(InstalmentPlan, PaidInstalmentsAndOtherCurrenciesDoNotAdd) {
    std::vector<AccessClaim> claims;
    auto paid = failed(instalment(1));
    paid.resolution = Resolution::paid;
    claims.push_back(claim_of(1, paid, {}));
    auto usd = failed(instalment(2));
    usd.invoice.currency = "usd";
    claims.push_back(claim_of(2, usd, {}));
    claims.push_back(claim_of(3, failed(instalment(3)), {}));
    see_plans_as_one(claims);
    EXPECT_EQ(claims[2].amount_minor, 15000);
}

TEST(InstalmentPlan, LockAfterTheDeadlineFollowsThePlan) {
    // Two unpaid instalments of 6.00: the second's final notice deadline passes.
    std::vector<AccessClaim> claims;
    for (int n = 1; n <= 2; ++n) {
        auto s = failed(instalment(n));
        s.invoice.amount_due = 600;
        claims.push_back(claim_of(n, s, {}));
    }
    claims[1].stage = "final_notice";
    claims[1].lock_at = t0 + 40 * std::chrono::days{1};
    see_plans_as_one(claims);
    AccessFacts facts;
    facts.claims = claims;
    const auto v = evaluate_access(facts, t0 + 41 * std::chrono::days{1}, AccessPolicy{});
    EXPECT_EQ(v.level, AccessLevel::locked);
    EXPECT_EQ(v.reason, access_reason::final_notice_deadline_passed);
    EXPECT_EQ(v.case_id, 2);
}
