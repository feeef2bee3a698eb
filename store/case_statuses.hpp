#pragma once
// Case statuses as the store's SQL names them (status_of in core/case.hpp writes them).
#include <string_view>

namespace dunning::store {

// The statuses whose claim is outstanding (claim_outstanding in core/case.hpp), as an SQL list.
// Written out in each query rather than bound: a partial index is used only when the query names
// its condition literally.
inline constexpr std::string_view outstanding_statuses_sql =
    "('open', 'paused', 'objected', 'escalated', 'handover_pending', 'handed_over', 'disputed')";

} // namespace dunning::store
