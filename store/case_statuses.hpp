#pragma once
// Case statuses as the store's SQL names them (status_of in core/case.hpp writes them).
#include <string_view>

namespace dunning::store {

// The statuses whose claim is outstanding (claim_outstanding in core/case.hpp), as an SQL list:
// the reads of cases by status. Written out in each query rather than bound.
inline constexpr std::string_view outstanding_statuses_sql =
    "('open', 'paused', 'objected', 'escalated', 'handover_pending', 'handed_over', 'disputed')";

// The same statuses as the condition of case_figures' partial indexes (schema 18). A query uses
// such an index only when it names this condition literally. An OR chain rather than
// `status IN (…)`: SQLite evaluates a partial index's condition at every write of the row, and
// for a list of more than two values it builds a temporary B-tree of the list each time
// (bench/scheduler/README.md, "Two schema changes, measured before they are made").
inline constexpr std::string_view outstanding_condition_sql =
    "(status = 'open' OR status = 'paused' OR status = 'objected' OR status = 'escalated' OR "
    "status = 'handover_pending' OR status = 'handed_over' OR status = 'disputed')";

// The statuses of a claim that is over.
inline constexpr std::string_view closed_statuses_sql =
    "('paid', 'voided', 'uncollectible', 'written_off')";

// Every status but 'none': the two lists above, which with 'none' are every status status_of
// gives (tests/store/read_plans_test.cpp checks that they agree). Named, not written
// `status <> 'none'`, so that a page of a creator's cases (ORDER BY id LIMIT n) is read through
// cases_by_status (creator_id, status, id): SQLite stops each status's range once the page is
// full, so a page costs at most a page per status, instead of walking every case of the creator.
inline constexpr std::string_view failed_statuses_sql =
    "('open', 'paused', 'objected', 'escalated', 'handover_pending', 'handed_over', 'disputed', "
    "'paid', 'voided', 'uncollectible', 'written_off')";

} // namespace dunning::store
