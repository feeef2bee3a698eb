// The plans of the API's and the dashboard's reads that page through or pick out a part of a
// creator's data: each is a search for what it returns, not a walk over all of the creator's
// cases or entitlements (tests/support/query_plans.hpp). On an empty store: without ANALYZE, as
// the service runs, SQLite's plans do not depend on the rows.
//
// A page in id order of several statuses sorts (USE TEMP B-TREE FOR ORDER BY), but SQLite stops
// each status's range of cases_by_status once the page is full: a page per status at most.
//
// The open items of the whole creator read every outstanding claim of the creator (a page in an
// order other than by case sorts them all, through a covering index), as the totals shown on
// every open-items page must: checked only for reading them through the partial indexes that hold
// the outstanding claims alone. The summary's groups read all of the creator's figures.
#include "core/case.hpp"
#include "core/open_items.hpp"
#include "store/case_figures.hpp"
#include "store/case_statuses.hpp"
#include "store/cases.hpp"
#include "store/dashboard_sessions.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"
#include "support/query_plans.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace dunning::store {
namespace {

using testing::TempDir;

TEST(ReadPlans, PagesOfCasesLockedMembersAndAMembersOpenItemsReadOnlyWhatTheyShow) {
    TempDir dir;
    auto db = open_store({(dir.path() / "plans.db").string(), "normal"});
    for (const auto status : {StatusFilter::open, StatusFilter::closed, StatusFilter::all})
        list_cases(*db, {.creator = "alpha", .status = status, .starting_after = 10});
    locked_access(*db, "alpha");
    outstanding_cases(*db, "alpha", "cus_1");
    OpenItemFilter member;
    member.member = "cus_1";
    const Date today{std::chrono::year{2027} / 1 / 15};
    for (const auto order : {OpenItemOrder::case_id, OpenItemOrder::arose_on, OpenItemOrder::amount,
                             OpenItemOrder::limitation_date, OpenItemOrder::stage})
        open_item_ids(*db, "alpha", member, today, order, false, 20, 0);
    ClaimCharges interest;
    interest.stages = {{"reminder", std::chrono::days{3}, 0}};
    interest.interest = true;
    open_item_totals(*db, "alpha", member, today, interest);
    open_item_totals(*db, "alpha", member, today, {});

    const auto sql = db->cached_sql();
    ASSERT_GE(sql.size(), 10u);
    for (const auto& s : testing::creator_wide_reads(*db, sql))
        ADD_FAILURE() << s;
}

// The open items of the whole creator read the outstanding claims through case_figures' partial
// indexes, whose condition the statements name (outstanding_condition_sql): a statement naming
// another spelling of it (`status IN (…)`) cannot use them and reads every figures row of the
// creator.
TEST(ReadPlans, TheWholeCreatorsOpenItemsReadTheOutstandingClaimsOnly) {
    TempDir dir;
    auto db = open_store({(dir.path() / "plans.db").string(), "normal"});
    const Date today{std::chrono::year{2027} / 1 / 15};
    for (const auto order : {OpenItemOrder::case_id, OpenItemOrder::arose_on, OpenItemOrder::amount,
                             OpenItemOrder::limitation_date, OpenItemOrder::stage})
        open_item_ids(*db, "alpha", {}, today, order, false, 20, 0);
    ClaimCharges interest;
    interest.stages = {{"reminder", std::chrono::days{3}, 0}};
    interest.interest = true;
    open_item_totals(*db, "alpha", {}, today, interest);
    open_item_totals(*db, "alpha", {}, today, {});

    int checked = 0;
    for (const auto& sql : db->cached_sql()) {
        if (sql.find("FROM case_figures") == std::string::npos) continue;
        ++checked;
        const auto details = testing::plan_details(*db, sql);
        // A search of the creator's entries, not a scan of every creator's.
        EXPECT_TRUE(details.find("INDEX case_figures_outstanding (creator_id=?") !=
                        std::string::npos ||
                    details.find("INDEX case_figures_owed (creator_id=?") != std::string::npos)
            << sql << "\n"
            << details;
    }
    EXPECT_GE(checked, 7);
}

// The metrics' count and age of a kind's pending jobs search the pending jobs of that kind
// (jobs_due, partial on state = 'pending'): no index by age is kept for them (schema 19), and
// the done jobs, which grow with every email and notification, are not read.
TEST(ReadPlans, TheMetricsReadOnlyThePendingJobsOfTheirKind) {
    TempDir dir;
    auto db = open_store({(dir.path() / "plans.db").string(), "normal"});
    pending_jobs(*db, JobKind::platform_notification);
    int checked = 0;
    for (const auto& sql : db->cached_sql()) {
        if (sql.find("FROM jobs") == std::string::npos) continue;
        ++checked;
        const auto details = testing::plan_details(*db, sql);
        EXPECT_NE(details.find("INDEX jobs_due (kind=?)"), std::string::npos) << sql << "\n"
                                                                              << details;
    }
    EXPECT_EQ(checked, 1);
}

std::set<std::string> statuses_in(std::string_view sql_list) {
    std::set<std::string> out;
    for (auto at = sql_list.find('\''); at != std::string_view::npos;) {
        const auto end = sql_list.find('\'', at + 1);
        out.emplace(sql_list.substr(at + 1, end - at - 1));
        at = sql_list.find('\'', end + 1);
    }
    return out;
}

// The status lists the SQL names: the outstanding and the closed ones apart, together every
// status but 'none' (status_of, core/case.cpp), the outstanding ones those of claim_outstanding.
TEST(ReadPlans, TheStatusListsAgree) {
    const auto outstanding = statuses_in(outstanding_statuses_sql);
    EXPECT_EQ(statuses_in(outstanding_condition_sql), outstanding);
    const auto closed = statuses_in(closed_statuses_sql);
    auto both = outstanding;
    both.insert(closed.begin(), closed.end());
    EXPECT_EQ(both.size(), outstanding.size() + closed.size());
    EXPECT_EQ(both, statuses_in(failed_statuses_sql));
    EXPECT_EQ(both, (std::set<std::string>{"open", "paused", "objected", "escalated",
                                           "handover_pending", "handed_over", "disputed", "paid",
                                           "voided", "uncollectible", "written_off"}));
    for (const auto& s : outstanding)
        EXPECT_TRUE(claim_outstanding(s)) << s;
    for (const auto& s : closed)
        EXPECT_FALSE(claim_outstanding(s)) << s;
}

} // namespace
} // namespace dunning::store
