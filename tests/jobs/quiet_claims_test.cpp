// The access rules read a member's quiet cases (core/access.hpp, quiet_claim) only up to the
// oldest one of each product. Whatever the member's cases are (quiet, staged, past their final
// notice's deadline, paused, objected, escalated, disputed, written off, instalments of a plan,
// paid, of one product or both, failed in any order of their ids), the verdict the Engine stores
// for each product is the one that all of the member's cases give (core's rules over
// store::cases_of_customer). A refresh writes an entitlement's row only when it changes. On SQLite
// and, as jobs_postgres_quiet_claims_tests, on PostgreSQL.
#include "core/access.hpp"
#include "core/escalation.hpp"
#include "jobs/engine.hpp"
#include "store/access_store.hpp"
#include "store/cases.hpp"
#include "store/statement.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

namespace dunning::jobs {
namespace {

const Timestamp now = from_unix(1'780'000'000);
const std::vector<std::string> both{"prod_a", "prod_b"};

enum class Kind {
    quiet,
    dispute_repaid, // quiet too: a lost dispute paid again
    staged,
    final_notice,
    deadline_passed,
    paused,
    objected,
    escalated,
    paid,
    dispute_lost,
    uncollectible,
    written_off_small
};
constexpr int kinds = 12;

class QuietClaims : public ::testing::Test {
  protected:
    dunning::testing::TempDir dir_;
    config::Config config_ = make_config(dir_.path());
    FakeClock clock_{now};
    dunning::testing::TestStore store_;
    std::unique_ptr<store::Connection> db_ = store::open_store(store_.options());
    config::CreatorRegistry creators_{config_};
    Engine engine_{config_, creators_, clock_};
    std::mt19937 rng_{20261207};

    static config::Config make_config(const std::filesystem::path& dir) {
        auto c = dunning::testing::test_config(dir);
        c.creators[0].products = {{"prod_a", {"course-a"}}, {"prod_b", {"course-b"}}};
        return c;
    }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

    // A case of the member in the given kind; an instalment of plan `sub_plan` when `plan`. Its
    // products are its line items' (prod_a, prod_b or both) or, for some, its subscription's.
    CaseState state(const std::string& member, int invoice, Kind kind, bool plan) {
        CaseState s;
        s.creator_id = "alpha";
        s.invoice.invoice_id = "in_" + member + "_" + std::to_string(invoice);
        s.invoice.customer_id = member;
        s.invoice.currency = "eur";
        s.invoice.amount_due = pick(2) ? 5000 : 600; // above or below the minimum to lock
        const int products = pick(plan ? 3 : 4);
        if (products == 0 || products == 2) s.invoice.products.push_back("prod_a");
        if (products == 1 || products == 2) s.invoice.products.push_back("prod_b");
        if (products == 3) s.invoice.subscription_id = "sub_" + member; // of prod_b
        if (plan) {
            s.invoice.plan_instalments = 3;
            s.invoice.subscription_id = "sub_plan";
        }
        s.failed = true;
        // Not in the order of the ids: an instalment weighs with those that failed before it.
        s.opened_at = now - std::chrono::hours(24 * (1 + pick(50)));
        const auto stages = engine_.policy_for("alpha").stages.size();
        switch (kind) {
        case Kind::quiet:
            break;
        case Kind::dispute_repaid:
            s.dispute = DisputeRecord{"dp_" + std::to_string(invoice), "lost",
                                      now - std::chrono::hours(3),     now - std::chrono::hours(2),
                                      now - std::chrono::hours(1),     now};
            break;
        case Kind::staged:
            s.stage_queued = s.stage_sent = 1;
            break;
        case Kind::final_notice: // its deadline still ahead
            s.stage_queued = s.stage_sent = static_cast<int>(stages);
            s.final_notice_at = now - std::chrono::hours(24);
            break;
        case Kind::deadline_passed:
            s.stage_queued = s.stage_sent = static_cast<int>(stages);
            s.final_notice_at = now - std::chrono::hours(24 * 60);
            break;
        case Kind::paused:
            s.paused = true;
            s.paused_at = now - std::chrono::hours(2);
            break;
        case Kind::objected:
            s.objection = Objection{now - std::chrono::hours(3), "not mine", "test", std::nullopt};
            break;
        case Kind::escalated:
            s.escalated_at = now - std::chrono::hours(4);
            break;
        case Kind::paid:
            s.resolution = Resolution::paid;
            s.resolved_at = now - std::chrono::hours(5);
            break;
        case Kind::dispute_lost:
            s.resolution = Resolution::paid;
            s.dispute =
                DisputeRecord{"dp_" + std::to_string(invoice), "lost", now, now, std::nullopt, now};
            break;
        case Kind::uncollectible:
            s.resolution = Resolution::uncollectible;
            break;
        case Kind::written_off_small:
            s.resolution = Resolution::written_off;
            s.resolution_reason = write_off_reason::below_threshold;
            break;
        }
        return s;
    }

    // A case of the given kind, not an instalment, of prod_a alone and above the minimum to lock:
    // for tests whose verdict must not depend on the random draw.
    CaseState fixed_state(const std::string& member, int invoice, Kind kind) {
        auto s = state(member, invoice, kind, false);
        s.invoice.products = {"prod_a"};
        s.invoice.subscription_id.clear();
        s.invoice.amount_due = 5000;
        return s;
    }

    // The rules over every case of the member that may restrict access, read in full.
    AccessVerdict expected(const std::string& member, const std::string& product) {
        std::vector<AccessClaim> claims;
        std::vector<std::vector<std::string>> products;
        for (const auto& c : store::cases_of_customer(*db_, "alpha", member)) {
            claims.push_back(claim_of(c.id, c.state, engine_.policy_for("alpha")));
            products.push_back(engine_.case_products(*db_, c.state));
        }
        see_plans_as_one(claims);
        AccessFacts facts;
        for (std::size_t i = 0; i < claims.size(); ++i)
            if (std::find(products[i].begin(), products[i].end(), product) != products[i].end())
                facts.claims.push_back(claims[i]);
        return evaluate_access(facts, now, engine_.access_policy_for("alpha"));
    }

    void expect_verdicts(const std::string& member, const std::string& what) {
        for (const auto& product : both) {
            SCOPED_TRACE(what + ", " + product);
            const auto want = expected(member, product);
            const auto got = store::load_entitlement(*db_, {"alpha", member, product});
            const auto held = got.value_or(EntitlementState{});
            EXPECT_EQ(std::string(to_string(held.level)), to_string(want.level));
            EXPECT_EQ(held.reason, want.reason);
            EXPECT_EQ(held.case_id, want.case_id);
            EXPECT_EQ(held.lock_at, want.lock_at);
            if (::testing::Test::HasFailure())
                for (const auto& c : store::cases_of_customer(*db_, "alpha", member))
                    ADD_FAILURE() << c.id << " " << status_of(c.state) << " stage "
                                  << c.state.stage_queued << " plan "
                                  << c.state.invoice.plan_instalments << " products "
                                  << engine_.case_products(*db_, c.state).size() << " amount "
                                  << c.state.invoice.amount_due << " quiet " << quiet_flag(c.id);
        }
    }

    std::int64_t quiet_flag(std::int64_t id) {
        store::CachedStatement st(*db_, "SELECT access_quiet FROM cases WHERE id = ?");
        st.bind(1, id);
        EXPECT_TRUE(st.executeStep());
        return st.getColumn(0).getInt64();
    }
};

TEST_F(QuietClaims, EveryVerdictIsTheOneAllOfTheMembersCasesGive) {
    int quiet_seen = 0;
    for (int round = 0; round < 60; ++round) {
        const auto member = "cus_" + std::to_string(round);
        std::vector<store::CaseRecord> cases;
        // Some members with many cases: the quiet ones are read a page at a time.
        const int n = round % 5 == 4 ? 20 + pick(30) : 1 + pick(9);
        {
            store::Transaction tx(*db_);
            store::save_subscription(*db_, "alpha",
                                     {"sub_" + member, member, "active", "", "", {"prod_b"}}, now);
            for (int i = 0; i < n; ++i) {
                // Mostly quiet cases, as a member with a long history has.
                const auto kind = pick(2) ? Kind::quiet : static_cast<Kind>(pick(kinds));
                store::CaseRecord c{0, state(member, i, kind, pick(4) == 0)};
                store::save_case(*db_, c, to_unix(now));
                EXPECT_EQ(quiet_flag(c.id), quiet_claim(c.state) ? 1 : 0);
                quiet_seen += quiet_claim(c.state) ? 1 : 0;
                cases.push_back(std::move(c));
            }
            engine_.refresh_access(*db_, "alpha", member, both);
            tx.commit();
        }
        expect_verdicts(member, "round " + std::to_string(round));

        // One case changes (a quiet one is dunned, a staged one pays, …), refreshed with that
        // case in hand, as the worker does (for both products: an instalment weighs with its
        // plan's, which may be of the other product).
        auto& changed = cases[static_cast<std::size_t>(pick(n))];
        const auto invoice = changed.state.invoice;
        const auto opened_at = changed.state.opened_at;
        changed.state = state(member, 0, static_cast<Kind>(pick(kinds)), false);
        changed.state.invoice = invoice;
        changed.state.opened_at = opened_at;
        {
            store::Transaction tx(*db_);
            store::save_case(*db_, changed, to_unix(now));
            EXPECT_EQ(quiet_flag(changed.id), quiet_claim(changed.state) ? 1 : 0);
            engine_.refresh_access(*db_, "alpha", member, both, &changed);
            tx.commit();
        }
        expect_verdicts(member, "round " + std::to_string(round) + " after a change");
    }
    EXPECT_GT(quiet_seen, 100) << "the rounds must hold many quiet cases";
}

// The access rules search a member's other cases only when there is one (a new member's first
// failed payment has none): a case of any status counts, another member's or creator's does not.
TEST_F(QuietClaims, AMembersOtherCasesAreToldApartFromTheCaseInHand) {
    store::Transaction tx(*db_);
    EXPECT_FALSE(store::customer_has_other_cases(*db_, "alpha", "cus_h", 0));
    store::CaseRecord first{0, state("cus_h", 1, Kind::quiet, false)};
    store::save_case(*db_, first, to_unix(now));
    EXPECT_FALSE(store::customer_has_other_cases(*db_, "alpha", "cus_h", first.id));
    EXPECT_TRUE(store::customer_has_other_cases(*db_, "alpha", "cus_h", 0));
    store::CaseRecord elsewhere{0, state("cus_other", 1, Kind::staged, false)};
    store::save_case(*db_, elsewhere, to_unix(now));
    auto other_creator = state("cus_h", 2, Kind::staged, false);
    other_creator.creator_id = "beta";
    store::CaseRecord beta{0, other_creator};
    store::save_case(*db_, beta, to_unix(now));
    EXPECT_FALSE(store::customer_has_other_cases(*db_, "alpha", "cus_h", first.id));
    store::CaseRecord paid{0, state("cus_h", 3, Kind::paid, false)};
    store::save_case(*db_, paid, to_unix(now));
    EXPECT_TRUE(store::customer_has_other_cases(*db_, "alpha", "cus_h", first.id));
    EXPECT_TRUE(store::customer_has_other_cases(*db_, "alpha", "cus_h", paid.id));
    tx.commit();

    // Through the access rules, with products and amounts fixed: a lone case in hand that locks
    // locks; a quiet case in hand beside another case that locks does not keep access open (were
    // the other case not searched, it would).
    store::Transaction again(*db_);
    store::CaseRecord lone{0, fixed_state("cus_lone", 1, Kind::deadline_passed)};
    store::save_case(*db_, lone, to_unix(now));
    engine_.refresh_access(*db_, "alpha", "cus_lone", both, &lone);
    store::CaseRecord locking{0, fixed_state("cus_h", 4, Kind::deadline_passed)};
    store::save_case(*db_, locking, to_unix(now));
    first.state = fixed_state("cus_h", 1, Kind::quiet);
    store::save_case(*db_, first, to_unix(now));
    engine_.refresh_access(*db_, "alpha", "cus_h", both, &first);
    again.commit();
    for (const auto* member : {"cus_lone", "cus_h"}) {
        ASSERT_EQ(expected(member, "prod_a").level, AccessLevel::locked) << member;
        expect_verdicts(member, member);
    }
}

// A refresh that finds what the row already says writes nothing (updated_at stays); a recheck
// that came due writes the row (with the next recheck, or none), and so does a change of level.
TEST_F(QuietClaims, AnEntitlementsRowIsWrittenOnlyWhenItChanges) {
    store::CaseRecord c{0, fixed_state("cus_w", 1, Kind::final_notice)}; // deadline 13 days ahead
    const auto row = [&] {
        store::CachedStatement st(*db_, "SELECT level, recheck_at, updated_at FROM entitlements "
                                        "WHERE customer_id = 'cus_w' AND product_id = 'prod_a'");
        EXPECT_TRUE(st.executeStep());
        return std::tuple{st.getColumn(0).getString(),
                          st.getColumn(1).isNull() ? 0 : st.getColumn(1).getInt64(),
                          st.getColumn(2).getInt64()};
    };
    const auto refresh = [&] {
        store::Transaction tx(*db_);
        engine_.refresh_access(*db_, "alpha", "cus_w", {"prod_a"}, &c);
        tx.commit();
    };
    {
        store::Transaction tx(*db_);
        store::save_case(*db_, c, to_unix(now));
        tx.commit();
    }
    refresh();
    const auto [level, recheck_at, written] = row();
    ASSERT_EQ(level, "grace");
    ASSERT_GT(recheck_at, to_unix(now)) << "the lock ahead is a recheck";
    EXPECT_EQ(written, to_unix(now));
    std::optional<Timestamp> loaded_recheck;
    ASSERT_TRUE(store::load_entitlement(*db_, {"alpha", "cus_w", "prod_a"}, &loaded_recheck));
    EXPECT_EQ(loaded_recheck, from_unix(recheck_at));

    clock_.advance(std::chrono::hours(1));
    refresh();
    EXPECT_EQ(row(), std::tuple(level, recheck_at, written)) << "nothing changed: not written";

    // A recheck made due (the creator enabled again) that finds the same state writes the row
    // back with the recheck ahead: were it skipped, the row would stay due and come back forever.
    {
        store::Transaction tx(*db_);
        store::recheck_creator_now(*db_, "alpha", clock_.now());
        EXPECT_EQ(engine_.run_due_rechecks(*db_, clock_.now(), 10), 1u);
        EXPECT_EQ(engine_.run_due_rechecks(*db_, clock_.now(), 10), 0u) << "no longer due";
        tx.commit();
    }
    EXPECT_EQ(row(), std::tuple(level, recheck_at, to_unix(clock_.now())));

    clock_.set(from_unix(recheck_at));
    {
        store::Transaction tx(*db_);
        EXPECT_EQ(engine_.run_due_rechecks(*db_, clock_.now(), 10), 1u);
        tx.commit();
    }
    const auto [locked, no_recheck, rewritten] = row();
    EXPECT_EQ(locked, "locked");
    EXPECT_EQ(no_recheck, 0);
    EXPECT_EQ(rewritten, recheck_at);
    {
        store::Transaction tx(*db_);
        EXPECT_EQ(engine_.run_due_rechecks(*db_, clock_.now() + std::chrono::hours(24 * 365), 10),
                  0u)
            << "the recheck that came due was cleared";
        tx.commit();
    }
    clock_.advance(std::chrono::hours(1));
    refresh();
    EXPECT_EQ(row(), std::tuple(locked, no_recheck, rewritten));
}

TEST_F(QuietClaims, OnlyAnOpenCaseBeforeItsFirstStageThatIsNoInstalmentIsQuiet) {
    EXPECT_TRUE(quiet_claim(state("cus_q", 1, Kind::quiet, false)));
    EXPECT_FALSE(quiet_claim(state("cus_q", 1, Kind::quiet, true))) << "an instalment";
    EXPECT_TRUE(quiet_claim(state("cus_q", 1, Kind::dispute_repaid, false)));
    for (int k = static_cast<int>(Kind::staged); k < kinds; ++k)
        EXPECT_FALSE(quiet_claim(state("cus_q", 1, static_cast<Kind>(k), false))) << k;
    auto disconnected = state("cus_q", 1, Kind::quiet, false);
    disconnected.stripe_disconnected_at = now;
    EXPECT_FALSE(quiet_claim(disconnected));
    // Whatever the rules, a quiet claim says "payment failed, access granted", with no lock.
    AccessPolicy strict;
    strict.during_stage = {{"reminder", AccessLevel::locked}};
    strict.min_amount_minor = 0;
    AccessFacts facts;
    facts.claims.push_back(claim_of(7, state("cus_q", 1, Kind::quiet, false), {}));
    const auto v = evaluate_access(facts, now, strict);
    EXPECT_EQ(v.level, AccessLevel::granted);
    EXPECT_EQ(v.reason, access_reason::payment_failed);
    EXPECT_EQ(v.case_id, 7);
    EXPECT_FALSE(v.lock_at);
    EXPECT_FALSE(v.recheck_at);
}

} // namespace
} // namespace dunning::jobs
