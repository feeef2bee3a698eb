// Given the facts about an entitlement, at a time, then the access level and its reason.
#include "core/access.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <numeric>

using namespace dunning;
using namespace std::chrono_literals;

namespace {

const Timestamp t0 = from_unix(1'800'000'000);
constexpr auto day = std::chrono::days{1};

// A claim as the rules see it, built up by what happened to it.
struct Claim {
    AccessClaim c;
    explicit Claim(std::int64_t id = 1) {
        c.case_id = id;
        c.unpaid = true;
        c.amount_minor = 4900;
        c.currency = "eur";
    }
    Claim& stage(std::string name) {
        c.stage = std::move(name);
        return *this;
    }
    // The final notice went out at t0: the lock is announced for t0 + 14 days.
    Claim& final_notice() { return stage("final_notice").lock(t0 + 14 * day); }
    Claim& lock(Timestamp at) {
        c.lock_at = at;
        return *this;
    }
    Claim& amount(std::int64_t minor) {
        c.amount_minor = minor;
        return *this;
    }
    Claim& paid() {
        c.unpaid = false;
        return *this;
    }
    Claim& paused() {
        c.paused = true;
        return *this;
    }
    Claim& lost(Timestamp at) {
        c.dispute_lost_at = at;
        return *this;
    }
    Claim& repaid(Timestamp at) {
        c.repaid_at = at;
        return *this;
    }
    operator AccessClaim() const { return c; }
};

SubscriptionStanding subscription(std::string status, std::string reason = "",
                                  std::optional<Timestamp> last_paid = {}) {
    SubscriptionStanding s;
    s.subscription_id = "sub_1";
    s.status = std::move(status);
    s.cancellation_reason = std::move(reason);
    s.as_of = t0 + day;
    s.last_paid_at = last_paid;
    return s;
}

AccessOverride override_(std::int64_t id, AccessLevel level, Timestamp created,
                         std::optional<Timestamp> until = {},
                         std::optional<Timestamp> revoked = {}) {
    AccessOverride o;
    o.id = id;
    o.level = level;
    o.created = created;
    o.until = until;
    o.revoked_at = revoked;
    return o;
}

AccessFacts facts(std::vector<AccessClaim> claims, std::vector<SubscriptionStanding> subs = {},
                  std::vector<AccessOverride> overrides = {}) {
    return {std::move(claims), std::move(subs), std::move(overrides)};
}

AccessPolicy ended_limited() {
    AccessPolicy p;
    p.on_subscription_ended = AccessLevel::limited;
    return p;
}

AccessPolicy partial() {
    AccessPolicy p;
    p.during_stage["formal_reminder"] = AccessLevel::limited;
    p.after_final_deadline = AccessLevel::limited;
    p.on_lost_dispute = AccessLevel::limited;
    return p;
}

struct Row {
    const char* name;
    AccessFacts given;
    Timestamp at;
    AccessLevel level;
    const char* reason;
    std::int64_t case_id = 0;
    std::int64_t override_id = 0;
    std::optional<Timestamp> lock_at = {};
    AccessPolicy policy = {};
};

void PrintTo(const Row& row, std::ostream* os) {
    *os << row.name;
}

class AccessRules : public ::testing::TestWithParam<Row> {};

TEST_P(AccessRules, GiveTheExpectedLevelAndReason) {
    const auto& row = GetParam();
    const auto v = evaluate_access(row.given, row.at, row.policy);
    EXPECT_STREQ(to_string(v.level), to_string(row.level));
    EXPECT_EQ(v.reason, row.reason);
    EXPECT_EQ(v.case_id, row.case_id);
    EXPECT_EQ(v.override_id, row.override_id);
    EXPECT_EQ(v.lock_at, row.lock_at);
}

using L = AccessLevel;
namespace r = access_reason;
const Timestamp before_deadline = t0 + 13 * day;
const Timestamp after_deadline = t0 + 15 * day;

INSTANTIATE_TEST_SUITE_P(
    Claims, AccessRules,
    ::testing::Values(
        Row{"no_facts", {}, t0, L::granted, r::in_good_standing},
        Row{"paid_claim", facts({Claim().paid()}), t0, L::granted, r::in_good_standing},
        Row{"failed_before_any_email", facts({Claim()}), t0, L::granted, r::payment_failed, 1},
        Row{"reminder", facts({Claim().stage("reminder")}), t0, L::granted, r::dunning, 1},
        Row{"formal_reminder", facts({Claim().stage("formal_reminder")}), t0, L::granted,
            r::dunning, 1},
        Row{"stage_not_configured", facts({Claim().stage("custom")}), t0, L::granted, r::dunning,
            1},
        Row{"final_notice_announces_the_lock", facts({Claim().final_notice()}), before_deadline,
            L::grace, r::final_notice, 1, 0, t0 + 14 * day},
        Row{"final_notice_below_minimum_restricts_nothing",
            facts({Claim().final_notice().amount(1000)}), before_deadline, L::granted,
            r::below_minimum_amount, 1},
        Row{"locked_at_the_deadline", facts({Claim().final_notice()}), t0 + 14 * day, L::locked,
            r::final_notice_deadline_passed, 1},
        Row{"locked_after_the_deadline", facts({Claim().final_notice()}), after_deadline, L::locked,
            r::final_notice_deadline_passed, 1},
        Row{"long_after_the_deadline_stays_locked", facts({Claim().final_notice()}), t0 + 400 * day,
            L::locked, r::final_notice_deadline_passed, 1},
        Row{"minimum_itself_does_not_lock", facts({Claim().final_notice().amount(1000)}),
            after_deadline, L::granted, r::below_minimum_amount, 1},
        Row{"small_claim_does_not_lock", facts({Claim().final_notice().amount(300)}),
            after_deadline, L::granted, r::below_minimum_amount, 1},
        Row{"limited_during_a_configured_stage", facts({Claim().stage("formal_reminder")}), t0,
            L::limited, r::dunning, 1, 0, std::nullopt, partial()},
        Row{"limited_after_the_deadline_when_configured", facts({Claim().final_notice()}),
            after_deadline, L::limited, r::final_notice_deadline_passed, 1, 0, std::nullopt,
            partial()},
        Row{"paused_keeps_access", facts({Claim().final_notice().paused()}), after_deadline,
            L::granted, r::dunning_paused, 1},
        Row{"paid_after_the_deadline", facts({Claim().final_notice().paid()}), after_deadline,
            L::granted, r::in_good_standing}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Disputes, AccessRules,
    ::testing::Values(
        Row{"lost_dispute_locks_a_paid_claim_at_once", facts({Claim().paid().lost(t0)}), t0,
            L::locked, r::dispute_lost, 1},
        Row{"lost_dispute_locks_whatever_the_amount", facts({Claim().paid().amount(100).lost(t0)}),
            t0, L::locked, r::dispute_lost, 1},
        Row{"lost_dispute_beats_a_pause", facts({Claim().paused().lost(t0)}), t0, L::locked,
            r::dispute_lost, 1},
        Row{"lost_dispute_limited_when_configured", facts({Claim().paid().lost(t0)}), t0,
            L::limited, r::dispute_lost, 1, 0, std::nullopt, partial()},
        Row{"repaid_after_the_dispute_restores", facts({Claim().paid().lost(t0).repaid(t0 + day)}),
            t0 + 2 * day, L::granted, r::in_good_standing},
        Row{"repaid_at_the_same_second_restores", facts({Claim().paid().lost(t0).repaid(t0)}), t0,
            L::granted, r::in_good_standing},
        Row{"payment_before_the_dispute_is_no_repayment",
            facts({Claim().paid().lost(t0 + day).repaid(t0)}), t0 + 2 * day, L::locked,
            r::dispute_lost, 1},
        Row{"repaid_dispute_leaves_the_dunning_rules",
            facts({Claim().final_notice().lost(t0).repaid(t0)}), after_deadline, L::locked,
            r::final_notice_deadline_passed, 1}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Subscriptions, AccessRules,
    ::testing::Values(Row{"unpaid_locks", facts({}, {subscription("unpaid")}), t0 + day, L::locked,
                          r::subscription_unpaid},
                      Row{"canceled_for_a_failed_payment_locks",
                          facts({}, {subscription("canceled", "payment_failed")}), t0 + day,
                          L::locked, r::subscription_canceled},
                      Row{"canceled_for_a_dispute_locks",
                          facts({}, {subscription("canceled", "payment_disputed")}), t0 + day,
                          L::locked, r::subscription_canceled},
                      Row{"canceled_on_request_does_not",
                          facts({}, {subscription("canceled", "cancellation_requested")}), t0 + day,
                          L::granted, r::in_good_standing},
                      Row{"past_due_does_not", facts({}, {subscription("past_due")}), t0 + day,
                          L::granted, r::in_good_standing},
                      Row{"payment_newer_than_the_snapshot_wins",
                          facts({}, {subscription("unpaid", "", t0 + 2 * day)}), t0 + 3 * day,
                          L::granted, r::in_good_standing},
                      Row{"payment_older_than_the_snapshot_does_not",
                          facts({}, {subscription("canceled", "payment_failed", t0)}), t0 + 3 * day,
                          L::locked, r::subscription_canceled},
                      Row{"limited_when_configured", facts({}, {subscription("unpaid")}), t0 + day,
                          L::limited, r::subscription_unpaid, 0, 0, std::nullopt, ended_limited()}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Overrides, AccessRules,
    ::testing::Values(
        Row{"grant_beats_a_lost_dispute",
            facts({Claim().paid().lost(t0)}, {}, {override_(7, L::granted, t0 + 1h)}), t0 + 2h,
            L::granted, r::creator_override, 0, 7},
        Row{"grant_beats_the_deadline",
            facts({Claim().final_notice()}, {}, {override_(7, L::granted, t0)}), after_deadline,
            L::granted, r::creator_override, 0, 7},
        Row{"grant_beats_an_ended_subscription",
            facts({}, {subscription("unpaid")}, {override_(7, L::granted, t0)}), t0 + day,
            L::granted, r::creator_override, 0, 7},
        Row{"lock_beats_good_standing", facts({}, {}, {override_(7, L::locked, t0)}), t0 + day,
            L::locked, r::creator_override, 0, 7},
        Row{"newest_wins",
            facts({}, {}, {override_(9, L::locked, t0 + 1h), override_(8, L::granted, t0 + 2h)}),
            t0 + 3h, L::granted, r::creator_override, 0, 8},
        Row{"same_time_larger_id_wins",
            facts({}, {}, {override_(9, L::limited, t0), override_(8, L::granted, t0)}), t0 + 3h,
            L::limited, r::creator_override, 0, 9},
        Row{"expired_is_ignored",
            facts({Claim().paid().lost(t0)}, {}, {override_(7, L::granted, t0, t0 + day)}),
            t0 + 2 * day, L::locked, r::dispute_lost, 1},
        Row{"until_is_exclusive",
            facts({Claim().paid().lost(t0)}, {}, {override_(7, L::granted, t0, t0 + day)}),
            t0 + day, L::locked, r::dispute_lost, 1},
        Row{"revoked_is_ignored",
            facts({Claim().paid().lost(t0)}, {}, {override_(7, L::granted, t0, {}, t0 + 1h)}),
            t0 + 2h, L::locked, r::dispute_lost, 1},
        Row{"newest_in_force_wins_over_a_newer_revoked_one",
            facts({Claim().paid().lost(t0)}, {},
                  {override_(7, L::granted, t0), override_(8, L::locked, t0 + 1h, {}, t0 + 2h)}),
            t0 + 3h, L::granted, r::creator_override, 0, 7}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    SeveralClaims, AccessRules,
    ::testing::Values(
        Row{"most_restrictive_claim_wins",
            facts({Claim(1).stage("reminder"), Claim(2).final_notice().lock(t0 + 20 * day),
                   Claim(3).final_notice(), Claim(4).paid()}),
            after_deadline, L::locked, r::final_notice_deadline_passed, 3},
        Row{"grace_from_the_claim_that_announced_it",
            facts({Claim(1).stage("reminder"), Claim(2).final_notice(), Claim(3)}), before_deadline,
            L::grace, r::final_notice, 2, 0, t0 + 14 * day},
        Row{"ties_keep_the_first", facts({Claim(5).paid().lost(t0), Claim(6).final_notice()}),
            after_deadline, L::locked, r::dispute_lost, 5},
        Row{"a_claim_beats_a_subscription_at_the_same_level",
            facts({Claim(5).paid().lost(t0)}, {subscription("unpaid")}), t0 + day, L::locked,
            r::dispute_lost, 5},
        Row{"subscription_stricter_than_the_claims",
            facts({Claim(1).final_notice()}, {subscription("unpaid")}), t0 + day, L::locked,
            r::subscription_unpaid},
        Row{"stricter_claim_than_a_limited_subscription",
            facts({Claim(1).paid().lost(t0)}, {subscription("unpaid")}), t0 + day, L::locked,
            r::dispute_lost, 1, 0, std::nullopt, ended_limited()},
        Row{"granted_shows_the_first_unpaid_claims_reason",
            facts({Claim(4).paid(), Claim(1), Claim(2).stage("reminder")}), t0, L::granted,
            r::payment_failed, 1},
        Row{"granted_with_a_paused_claim", facts({Claim(4).paid(), Claim(2).paused()}), t0,
            L::granted, r::dunning_paused, 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AccessRecheck, WhenAnOverrideEndsOrStarts) {
    const AccessPolicy p;
    auto given = facts({Claim().paid().lost(t0)}, {}, {override_(7, L::granted, t0, t0 + day)});
    EXPECT_EQ(evaluate_access(given, t0 + 1h, p).recheck_at, t0 + day);
    EXPECT_EQ(evaluate_access(given, t0 + day, p).recheck_at, std::nullopt) << "expired";
    given.overrides[0].revoked_at = t0 + 2h;
    EXPECT_EQ(evaluate_access(given, t0 + 3h, p).recheck_at, std::nullopt) << "revoked";
    given.overrides = {override_(7, L::granted, t0)};
    EXPECT_EQ(evaluate_access(given, t0 + 1h, p).recheck_at, std::nullopt) << "until revoked";
    given.overrides = {override_(7, L::granted, t0 + 2h, t0 + day)};
    const auto ahead = evaluate_access(given, t0 + 1h, p);
    EXPECT_EQ(ahead.reason, access_reason::dispute_lost) << "not in force yet";
    EXPECT_EQ(ahead.recheck_at, t0 + 2h);
    EXPECT_EQ(evaluate_access(facts({Claim().final_notice()}), t0, p).recheck_at, t0 + 14 * day)
        << "the announced lock keeps its own appointment (an escalated case no longer wakes)";
    EXPECT_EQ(evaluate_access(facts({Claim().final_notice()}), t0 + 15 * day, p).recheck_at,
              std::nullopt)
        << "nothing ahead once the lock is due";
}

TEST(AccessLevelText, RoundTrips) {
    for (auto level : {L::granted, L::grace, L::limited, L::locked})
        EXPECT_EQ(access_level_from(to_string(level)), level);
    EXPECT_EQ(access_level_from("blocked"), std::nullopt);
    EXPECT_EQ(access_level_from(""), std::nullopt);
    EXPECT_TRUE(blocks_content(L::limited));
    EXPECT_FALSE(blocks_content(L::grace));
}

TEST(AccessLevelText, OneNamePerLevelInOrderOfRestriction) {
    const std::vector<std::pair<L, std::string>> expected = {{L::granted, "granted"},
                                                             {L::grace, "grace"},
                                                             {L::limited, "limited"},
                                                             {L::locked, "locked"}};
    ASSERT_EQ(access_level_names.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(access_level_names[i].level, expected[i].first) << i;
        EXPECT_EQ(access_level_names[i].name, expected[i].second) << i;
        EXPECT_STREQ(to_string(expected[i].first), expected[i].second.c_str());
    }
}

TEST(AccessLevelText, AValueOutsideTheEnumReadsLocked) {
    // Never "granted": an answer built from a corrupt level must not open content.
    for (int raw : {-1, 4, 99}) {
        const auto impossible = static_cast<L>(raw);
        EXPECT_STREQ(to_string(impossible), "locked") << raw;
        EXPECT_EQ(access_level_from(to_string(impossible)), L::locked) << raw;
    }
}

// ---- claim_of: a case seen as a claim ---------------------------------------------------

CaseState failed_case() {
    CaseState c;
    c.failed = true;
    c.opened_at = t0;
    c.invoice.amount_due = 4900;
    c.invoice.amount_remaining = 4900;
    c.invoice.currency = "eur";
    return c;
}

TEST(ClaimOf, OpenCaseAtTheFinalNotice) {
    auto c = failed_case();
    c.stage_queued = 3;
    c.final_notice_at = t0 + 20 * day;
    c.invoice.amount_remaining = 2500; // partly paid
    const auto claim = claim_of(42, c, CasePolicy{});
    EXPECT_EQ(claim.case_id, 42);
    EXPECT_TRUE(claim.unpaid);
    EXPECT_FALSE(claim.paused);
    EXPECT_EQ(claim.stage, "final_notice");
    EXPECT_EQ(claim.lock_at, t0 + 34 * day);
    EXPECT_EQ(claim.amount_minor, 2500);
    EXPECT_EQ(claim.currency, "eur");
    EXPECT_EQ(claim.dispute_lost_at, std::nullopt);
}

TEST(ClaimOf, StageByNumber) {
    auto c = failed_case();
    EXPECT_EQ(claim_of(1, c, CasePolicy{}).stage, "");
    c.stage_queued = 1;
    EXPECT_EQ(claim_of(1, c, CasePolicy{}).stage, "reminder");
    c.stage_queued = 2;
    EXPECT_EQ(claim_of(1, c, CasePolicy{}).stage, "formal_reminder");
    c.stage_queued = 5;
    EXPECT_EQ(claim_of(1, c, CasePolicy{}).stage, "final_notice") << "ladder shortened since";
    CasePolicy none;
    none.stages.clear();
    EXPECT_EQ(claim_of(1, c, none).stage, "");
}

TEST(ClaimOf, WhatIsStillOwed) {
    struct Case {
        bool failed;
        Resolution resolution;
        bool unpaid;
    };
    for (const auto& [failed, resolution, unpaid] :
         {Case{true, Resolution::none, true}, Case{true, Resolution::uncollectible, true},
          Case{true, Resolution::written_off, false}, Case{true, Resolution::voided, false},
          Case{true, Resolution::paid, false}, Case{false, Resolution::none, false}}) {
        auto c = failed_case();
        c.failed = failed;
        c.resolution = resolution;
        EXPECT_EQ(claim_of(1, c, CasePolicy{}).unpaid, unpaid) << to_string(resolution);
    }
}

TEST(ClaimOf, AmountDueWhenNothingRemains) {
    auto c = failed_case();
    c.invoice.amount_remaining = 0;
    EXPECT_EQ(claim_of(1, c, CasePolicy{}).amount_minor, 4900);
}

TEST(ClaimOf, PausedCase) {
    auto c = failed_case();
    c.paused = true;
    EXPECT_TRUE(claim_of(1, c, CasePolicy{}).paused);
}

TEST(ClaimOf, ChargebackOnAnInvoiceThatNeverFailed) {
    CaseState c;
    c.resolution = Resolution::paid;
    c.dispute = DisputeRecord{};
    c.dispute->lost_at = t0;
    c.dispute->repaid_at = t0 + day;
    const auto claim = claim_of(9, c, CasePolicy{});
    EXPECT_FALSE(claim.unpaid);
    EXPECT_EQ(claim.dispute_lost_at, t0);
    EXPECT_EQ(claim.repaid_at, t0 + day);
}

// ---- out-of-order webhooks converge on the same verdict ----------------------------------

Event invoice_event(EventKind kind, Timestamp at, std::string status) {
    InvoiceFacts f;
    f.invoice_id = "in_1";
    f.amount_due = 4900;
    f.amount_remaining = status == "paid" ? 0 : 4900;
    f.currency = "eur";
    f.status = std::move(status);
    return Event{"evt_i" + std::to_string(to_unix(at)), "invoice", "", at, kind, f};
}

Event dispute_event(EventKind kind, Timestamp at, std::string status,
                    PaymentMethodKind method = PaymentMethodKind::unknown) {
    DisputeFacts d;
    d.dispute_id = "dp_1";
    d.status = std::move(status);
    d.method = method;
    return Event{"evt_d" + std::to_string(to_unix(at)), "charge.dispute", "", at, kind, d};
}

// The verdict for the case folded from `events` in every order.
void expect_same_verdict_in_every_order(const std::vector<Event>& events, Timestamp now,
                                        AccessLevel level, const char* reason) {
    std::vector<std::size_t> order(events.size());
    std::iota(order.begin(), order.end(), 0);
    do {
        CaseState c;
        for (auto i : order)
            c = apply(c, events[i]);
        const auto v = evaluate_access(facts({claim_of(1, c, CasePolicy{})}), now, AccessPolicy{});
        EXPECT_STREQ(to_string(v.level), to_string(level));
        EXPECT_EQ(v.reason, reason);
    } while (std::next_permutation(order.begin(), order.end()));
}

TEST(AccessConvergence, LostDisputeLocksInEveryOrder) {
    const auto lost = dispute_event(EventKind::dispute_closed, t0 + 40 * day, "lost");
    expect_same_verdict_in_every_order(
        {invoice_event(EventKind::invoice_payment_failed, t0, "open"),
         invoice_event(EventKind::invoice_paid, t0 + 2 * day, "paid"), lost, lost},
        t0 + 41 * day, L::locked, r::dispute_lost);
}

TEST(AccessConvergence, SepaDisputeLocksInEveryOrder) {
    PaymentFacts p;
    p.method = PaymentMethodKind::sepa_debit;
    const Event sepa_paid{"evt_p",      "payment_intent.succeeded",   "",
                          t0 + 2 * day, EventKind::payment_succeeded, p};
    expect_same_verdict_in_every_order(
        {invoice_event(EventKind::invoice_payment_failed, t0, "open"), sepa_paid,
         dispute_event(EventKind::dispute_created, t0 + 30 * day, "needs_response")},
        t0 + 31 * day, L::locked, r::dispute_lost);
}

TEST(AccessConvergence, WonDisputeRestoresInEveryOrder) {
    expect_same_verdict_in_every_order(
        {invoice_event(EventKind::invoice_paid, t0, "paid"),
         dispute_event(EventKind::dispute_created, t0 + 30 * day, "lost"),
         dispute_event(EventKind::dispute_closed, t0 + 50 * day, "won")},
        t0 + 51 * day, L::granted, r::in_good_standing);
}

TEST(AccessConvergence, CardDisputeUnderReviewKeepsAccess) {
    expect_same_verdict_in_every_order({invoice_event(EventKind::invoice_paid, t0, "paid"),
                                        dispute_event(EventKind::dispute_created, t0 + 30 * day,
                                                      "needs_response", PaymentMethodKind::card)},
                                       t0 + 31 * day, L::granted, r::in_good_standing);
}

// ---- decide_access and the notifications ------------------------------------------------

AccessVerdict verdict(AccessLevel level, const char* reason, std::int64_t case_id = 0) {
    AccessVerdict v;
    v.level = level;
    v.reason = reason;
    v.case_id = case_id;
    return v;
}

TEST(DecideAccess, FreshEntitlementInGoodStandingChangesNothing) {
    const auto d = decide_access(EntitlementState{}, AccessVerdict{}, t0);
    EXPECT_FALSE(d.change);
    EXPECT_EQ(d.next.level, L::granted);
    EXPECT_EQ(d.next.since, Timestamp{});
}

TEST(DecideAccess, ALevelChangeIsRecorded) {
    auto v = verdict(L::grace, r::final_notice, 3);
    v.lock_at = t0 + 14 * day;
    const auto d = decide_access(EntitlementState{}, v, t0);
    ASSERT_TRUE(d.change);
    EXPECT_EQ(d.change->from, L::granted);
    EXPECT_EQ(d.change->to, L::grace);
    EXPECT_EQ(d.change->reason, r::final_notice);
    EXPECT_EQ(d.change->case_id, 3);
    EXPECT_EQ(d.change->at, t0);
    EXPECT_EQ(d.next.level, L::grace);
    EXPECT_EQ(d.next.lock_at, t0 + 14 * day);
    EXPECT_EQ(d.next.since, t0);

    const auto again = decide_access(d.next, v, t0 + day);
    EXPECT_FALSE(again.change) << "the same verdict twice is no change";
    EXPECT_EQ(again.next.since, t0);
}

TEST(DecideAccess, AReasonChangeAloneIsRecordedButKeepsSince) {
    EntitlementState current;
    current.level = L::locked;
    current.reason = r::final_notice_deadline_passed;
    current.case_id = 3;
    current.since = t0;
    const auto d = decide_access(current, verdict(L::locked, r::dispute_lost, 4), t0 + day);
    ASSERT_TRUE(d.change);
    EXPECT_EQ(d.change->from, L::locked);
    EXPECT_EQ(d.change->to, L::locked);
    EXPECT_EQ(d.change->reason, r::dispute_lost);
    EXPECT_EQ(d.next.since, t0);
    EXPECT_EQ(d.next.case_id, 4);
    EXPECT_FALSE(notification_for(*d.change));
}

TEST(DecideAccess, AnOverrideIsNamedInTheChange) {
    auto v = verdict(L::granted, r::creator_override);
    v.override_id = 7;
    EntitlementState current;
    current.level = L::locked;
    current.reason = r::dispute_lost;
    const auto d = decide_access(current, v, t0);
    ASSERT_TRUE(d.change);
    EXPECT_EQ(d.change->override_id, 7);
    EXPECT_EQ(d.next.override_id, 7);
    EXPECT_EQ(notification_for(*d.change), "access.restored");
}

TEST(Notification, ForEachChangeOfLevel) {
    struct Case {
        AccessLevel from, to;
        std::optional<std::string> type;
    };
    const std::vector<Case> table = {
        {L::granted, L::grace, std::nullopt},      {L::grace, L::granted, std::nullopt},
        {L::granted, L::granted, std::nullopt},    {L::granted, L::limited, "access.locked"},
        {L::granted, L::locked, "access.locked"},  {L::grace, L::locked, "access.locked"},
        {L::limited, L::locked, "access.locked"},  {L::locked, L::limited, "access.locked"},
        {L::locked, L::locked, std::nullopt},      {L::locked, L::granted, "access.restored"},
        {L::locked, L::grace, "access.restored"},  {L::limited, L::granted, "access.restored"},
        {L::limited, L::grace, "access.restored"},
    };
    for (const auto& row : table) {
        AccessChange change;
        change.from = row.from;
        change.to = row.to;
        EXPECT_EQ(notification_for(change), row.type)
            << to_string(row.from) << " -> " << to_string(row.to);
    }
}

// ---- next_entitlement: what a refresh stores, records and tells the host -----------------

EntitlementState state(AccessLevel level, const char* reason, std::int64_t case_id, Timestamp since,
                       std::optional<Timestamp> lock_at = {}) {
    EntitlementState s;
    s.level = level;
    s.reason = reason;
    s.case_id = case_id;
    s.since = since;
    s.lock_at = lock_at;
    return s;
}

AccessVerdict with_lock(AccessVerdict v, Timestamp lock_at) {
    v.lock_at = lock_at;
    return v;
}

AccessVerdict with_override(AccessVerdict v, std::int64_t id) {
    v.override_id = id;
    return v;
}

AccessVerdict with_recheck(AccessVerdict v, Timestamp at) {
    v.recheck_at = at;
    return v;
}

const Timestamp now_ = t0 + 20 * day;

AccessChange change(AccessLevel from, AccessLevel to, const char* reason, std::int64_t case_id,
                    std::int64_t override_id = 0) {
    return {from, to, reason, case_id, override_id, now_};
}

struct Refresh {
    const char* name;
    std::optional<EntitlementState> stored;
    AccessVerdict verdict;
    bool save;
    std::optional<AccessChange> change;
    std::optional<std::string> notification;
    Timestamp since{}; // of the next state
    std::optional<Timestamp> recheck_at = {};
    std::optional<Timestamp> stored_recheck = {}; // the row's
};

void PrintTo(const Refresh& row, std::ostream* os) {
    *os << row.name;
}

class NextEntitlement : public ::testing::TestWithParam<Refresh> {};

TEST_P(NextEntitlement, StoresRecordsAndNotifies) {
    const auto& row = GetParam();
    const auto u = next_entitlement(row.stored, row.stored_recheck, row.verdict, now_);
    EXPECT_EQ(u.save, row.save);
    EXPECT_EQ(u.change, row.change);
    EXPECT_EQ(u.notification, row.notification);
    EXPECT_EQ(u.recheck_at, row.recheck_at);
    // The next state is the verdict's, only `since` carries over.
    EXPECT_EQ(u.next, (EntitlementState{row.verdict.level, row.verdict.reason, row.verdict.case_id,
                                        row.verdict.override_id, row.verdict.lock_at, row.since}));
}

INSTANTIATE_TEST_SUITE_P(
    NoRowYet, NextEntitlement,
    ::testing::Values(
        Refresh{"good_standing_needs_no_row", std::nullopt, AccessVerdict{}, false, std::nullopt,
                std::nullopt},
        Refresh{"a_reason_alone_starts_a_row_with_no_since", std::nullopt,
                verdict(L::granted, r::payment_failed, 1), true,
                change(L::granted, L::granted, r::payment_failed, 1), std::nullopt},
        Refresh{"grace_is_announced_without_a_notification", std::nullopt,
                with_lock(verdict(L::grace, r::final_notice, 1), t0 + 34 * day), true,
                change(L::granted, L::grace, r::final_notice, 1), std::nullopt, now_},
        Refresh{"locked_at_once_is_notified", std::nullopt, verdict(L::locked, r::dispute_lost, 5),
                true, change(L::granted, L::locked, r::dispute_lost, 5), "access.locked", now_},
        Refresh{"a_recheck_alone_starts_no_row", std::nullopt,
                with_recheck(AccessVerdict{}, now_ + day), false, std::nullopt, std::nullopt,
                Timestamp{}, now_ + day},
        Refresh{"an_override_names_no_case", std::nullopt,
                with_override(verdict(L::limited, r::creator_override), 7), true,
                change(L::granted, L::limited, r::creator_override, 0, 7), "access.locked", now_}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    StoredRow, NextEntitlement,
    ::testing::Values(
        Refresh{"the_same_verdict_writes_nothing", state(L::locked, r::dispute_lost, 5, t0),
                verdict(L::locked, r::dispute_lost, 5), false, std::nullopt, std::nullopt, t0},
        Refresh{"a_moved_lock_is_stored_without_a_change",
                state(L::grace, r::final_notice, 1, t0, t0 + 14 * day),
                with_lock(verdict(L::grace, r::final_notice, 1), t0 + 34 * day), true, std::nullopt,
                std::nullopt, t0},
        Refresh{"paid_restores_and_names_the_case_that_restricted",
                state(L::locked, r::final_notice_deadline_passed, 3, t0), AccessVerdict{}, true,
                change(L::locked, L::granted, r::in_good_standing, 3), "access.restored", now_},
        Refresh{"limited_to_grace_is_a_restore", state(L::limited, r::dunning, 3, t0),
                with_lock(verdict(L::grace, r::final_notice, 3), t0 + 34 * day), true,
                change(L::limited, L::grace, r::final_notice, 3), "access.restored", now_},
        Refresh{"an_override_restores_and_names_the_stored_case",
                state(L::locked, r::dispute_lost, 3, t0),
                with_override(verdict(L::granted, r::creator_override), 7), true,
                change(L::locked, L::granted, r::creator_override, 3, 7), "access.restored", now_},
        Refresh{"a_change_naming_its_own_case_keeps_it",
                state(L::locked, r::final_notice_deadline_passed, 3, t0),
                verdict(L::locked, r::dispute_lost, 4), true,
                change(L::locked, L::locked, r::dispute_lost, 4), std::nullopt, t0},
        Refresh{"locked_to_limited_is_told_as_locked_with_the_previous_level",
                state(L::locked, r::dispute_lost, 3, t0), verdict(L::limited, r::dispute_lost, 3),
                true, change(L::locked, L::limited, r::dispute_lost, 3), "access.locked", now_},
        Refresh{"grace_ending_in_a_lock", state(L::grace, r::final_notice, 2, t0, t0 + 14 * day),
                verdict(L::locked, r::final_notice_deadline_passed, 2), true,
                change(L::grace, L::locked, r::final_notice_deadline_passed, 2), "access.locked",
                now_},
        Refresh{"back_in_good_standing_from_a_reason_alone_keeps_no_since",
                state(L::granted, r::payment_failed, 1, Timestamp{}), AccessVerdict{}, true,
                change(L::granted, L::granted, r::in_good_standing, 1), std::nullopt}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Recheck, NextEntitlement,
    ::testing::Values(Refresh{"ahead_is_kept", state(L::locked, r::dispute_lost, 5, t0),
                              with_recheck(verdict(L::locked, r::dispute_lost, 5), now_ + day),
                              true, std::nullopt, std::nullopt, t0, now_ + day},
                      Refresh{"ahead_as_the_row_has_it_writes_nothing",
                              state(L::locked, r::dispute_lost, 5, t0),
                              with_recheck(verdict(L::locked, r::dispute_lost, 5), now_ + day),
                              false, std::nullopt, std::nullopt, t0, now_ + day, now_ + day},
                      Refresh{"moved_is_written", state(L::locked, r::dispute_lost, 5, t0),
                              with_recheck(verdict(L::locked, r::dispute_lost, 5), now_ + 2 * day),
                              true, std::nullopt, std::nullopt, t0, now_ + 2 * day, now_ + day},
                      // The row's recheck came due and the verdict stays: the row is written
                      // without it, or it would be due again at every pass.
                      Refresh{"due_now_is_dropped", state(L::locked, r::dispute_lost, 5, t0),
                              with_recheck(verdict(L::locked, r::dispute_lost, 5), now_), true,
                              std::nullopt, std::nullopt, t0, std::nullopt, now_},
                      Refresh{"past_is_dropped", state(L::locked, r::dispute_lost, 5, t0),
                              with_recheck(verdict(L::locked, r::dispute_lost, 5), now_ - 1s), true,
                              std::nullopt, std::nullopt, t0, std::nullopt, now_ - 1s},
                      Refresh{"due_with_no_new_one_is_dropped",
                              state(L::locked, r::dispute_lost, 5, t0),
                              verdict(L::locked, r::dispute_lost, 5), true, std::nullopt,
                              std::nullopt, t0, std::nullopt, now_ - day}),
    [](const auto& info) { return std::string(info.param.name); });

} // namespace
