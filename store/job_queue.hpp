#pragma once
// The outbox: effects decided for a case, stored in the same transaction as the decision, and
// carried out later by dispatchers with their idempotency keys.
#include "core/case_engine.hpp"

#include <SQLiteCpp/Database.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dunning::store {

struct OutboxRow {
    std::int64_t id = 0;
    std::int64_t case_id = 0;
    std::string kind;
    nlohmann::json payload;
    std::string idempotency_key;
    int tries = 0;
    std::int64_t created_at = 0;
};

void queue_effects(SQLite::Database& db, std::int64_t case_id, const CaseState& state,
                   const std::vector<Effect>& effects, Timestamp now);

// Pending rows of the given kind that are due, oldest first.
std::vector<OutboxRow> due_outbox(SQLite::Database& db, const std::string& kind, Timestamp now,
                                  int limit);

void finish_outbox(SQLite::Database& db, std::int64_t id, const std::string& state,
                   const std::string& result, Timestamp now);
// When to try a row again after its `tries`-th failure: 1, 2, 4 … minutes, at most an hour,
// with jitter so that a recovering server is not hit by every row at once.
Timestamp retry_time(Timestamp now, int tries);

void retry_outbox_later(SQLite::Database& db, std::int64_t id, int tries, Timestamp due,
                        const std::string& error);

struct OutboxEntry {
    std::string kind, state, result, last_error;
    nlohmann::json payload;
    int tries = 0;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> done_at;
};
std::vector<OutboxEntry> case_actions(SQLite::Database& db, std::int64_t case_id);

} // namespace dunning::store
