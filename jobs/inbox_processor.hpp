#pragma once
// One inbox row → case changes, in one IMMEDIATE transaction: parse, load the case, apply the
// event, save, mark the row. A row that cannot be processed is marked poison with its error and
// never blocks the rows after it.
#include "jobs/engine.hpp"

#include "store/inbox.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dunning::jobs {

using store::InboxRecord;

enum class RowOutcome { done, ignored, poison, skipped /* no longer pending */ };
const char* to_string(RowOutcome o);

std::vector<InboxRecord> pending_rows(store::Connection& db, int limit);

// Processes rows in one transaction (one commit for many events), each row under its own
// savepoint, and commits early once `budget` has passed: the webhook receiver waits for the same
// write lock. Returns an outcome for each row it got to (a prefix of `rows`). Never throws for a
// bad event; throws when the store itself fails (the rows then stay pending and are tried again).
std::vector<RowOutcome> process_rows(store::Connection& db, const Engine& engine,
                                     std::span<const InboxRecord> rows, std::int64_t now_ms,
                                     std::chrono::microseconds budget);

// now_ms stamps processed_at. Never throws for a bad event; throws only when the store
// itself fails (the row then stays pending and is tried again).
RowOutcome process_row(store::Connection& db, const Engine& engine, const InboxRecord& row,
                       std::int64_t now_ms);

} // namespace dunning::jobs
