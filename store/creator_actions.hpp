#pragma once
// Who took a creator's decision on a case (pause, resume, mark paid, write off, escalate, hand
// over, objection) and why: one row per decision asked for, written in the transaction that
// runs it. The case's own state says what the decision did; this says who and why.
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dunning::store {

struct CreatorActionRecord {
    std::int64_t case_id = 0;
    std::string action;  // as in the API's path: "pause", "mark-paid", "hand-over", …
    std::string actor;   // "api:<creator>", "dashboard:<creator>", with the caller's own name
    std::string note;    // may be empty
    std::int64_t at = 0; // unix seconds, module clock
};

void add_creator_action(Connection& db, const CreatorActionRecord& r);
// The case's, oldest first.
std::vector<CreatorActionRecord> creator_actions(Connection& db, std::int64_t case_id);

} // namespace dunning::store
