// The plans of the API's and the dashboard's reads that page through or pick out a part of a
// creator's data: each is a search for what it returns, not a walk over all of the creator's
// cases or entitlements (tests/support/query_plans.hpp). On an empty store: without ANALYZE, as
// the service runs, SQLite's plans do not depend on the rows.
//
// Not among them: the open items in an order other than by case (arose_on, amount, …) and the
// summary's groups read every outstanding claim of the creator through a covering index, as the
// totals shown on every open-items page must.
#include "core/open_items.hpp"
#include "store/case_figures.hpp"
#include "store/cases.hpp"
#include "store/dashboard_sessions.hpp"
#include "store/database.hpp"
#include "support/query_plans.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

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

} // namespace
} // namespace dunning::store
