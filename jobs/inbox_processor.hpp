#pragma once
// Inbox rows → case changes. Rows are parsed first, outside any transaction; then a batch of
// them is decided in one IMMEDIATE transaction, each row under its own savepoint: load the case,
// apply the event, save, mark the row. A row that cannot be processed is marked poison with its
// error and never blocks the rows after it.
#include "jobs/engine.hpp"

#include "store/inbox.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace dunning::jobs {

using store::InboxRecord;

enum class RowOutcome {
    done,
    ignored,
    poison,
    skipped, // no longer pending, or being processed by another instance
    held,    // another instance decides for this member now (several instances on PostgreSQL)
};
const char* to_string(RowOutcome o);

std::vector<InboxRecord> pending_rows(store::Connection& db, int limit);

// The lock key of a member (Connection::try_lock_key), the same in every instance: whoever
// changes a member's cases in a keyed transaction (an event's unit, a due timer) holds it.
std::int32_t member_lock_key(const std::string& creator, const std::string& customer);

// The lock key of the member an event concerns (process_rows), the same in every instance; none
// for an event that may concern any member of its creator or names no customer.
std::optional<std::int32_t> member_key(const std::string& creator, const Event& e);

// Processes rows in one transaction (one commit for many events), each row under its own
// savepoint, and commits early once `budget` has passed: the webhook receiver waits for the same
// write lock. Returns an outcome for each row it got to (a prefix of `rows`). Never throws for a
// bad event; throws when the store itself fails (the rows then stay pending and are tried again).
std::vector<RowOutcome> process_rows(store::Connection& db, const Engine& engine,
                                     std::span<const InboxRecord> rows, std::int64_t now_ms,
                                     std::chrono::microseconds budget);

// The members whose rows were held by another instance during one pass over the pending rows
// (process_rows' batches of one read): their later rows in that pass are held too, so that no
// row of a member is decided before an earlier one.
struct HeldKeys {
    std::unordered_set<std::int32_t> members;
    // An event that may concern any member came after a held member's row: it and every row
    // after it wait for the next pass.
    bool everything = false;
    bool empty() const { return members.empty() && !everything; }
};

// The same, with the pass's held members. On PostgreSQL a batch takes the write lock shared and
// each member's key (Connection::begin_keyed), so instances decide side by side; a row whose
// event may concern any member of its creator (a dispute, a mandate, an account event) ends such
// a batch and starts the next, which takes the whole write lock.
std::vector<RowOutcome> process_rows(store::Connection& db, const Engine& engine,
                                     std::span<const InboxRecord> rows, std::int64_t now_ms,
                                     std::chrono::microseconds budget, HeldKeys& held);

// The members a keyed unit of work holds: a batch of events (process_rows) or of due timers
// (run_due_timers); none in a batch under the whole write lock, which needs none. A payment names
// its own customer, and the case it finds through its invoice or payment intent is that
// customer's as Stripe keeps them; should it be another member's, that member's lock is taken
// too, or the row gives way to whoever holds it.
struct HeldElsewhere {
    std::int32_t key; // the member another instance holds
};
class MemberLocks {
  public:
    MemberLocks(store::Connection& db, bool keyed, const HeldKeys& held)
        : db_(db), keyed_(keyed), held_(held) {}
    // False for a member held elsewhere in this pass (even when this batch has its lock: a row
    // of it gave way), or whose lock another transaction has.
    bool take(std::int32_t key) {
        if (held_.members.contains(key)) return false;
        if (mine_.contains(key)) return true;
        if (keyed_ && !db_.try_lock_key(key)) return false;
        mine_.insert(key);
        unit_.push_back(key);
        return true;
    }
    // The member whose case a unit is about to change: true when its lock was taken just now
    // (what was read of the case before may be stale; read it again).
    bool cover(const std::string& creator, const std::string& customer) {
        if (customer.empty()) return false;
        const auto key = member_lock_key(creator, customer);
        if (mine_.contains(key) && !held_.members.contains(key)) return false;
        if (!take(key)) throw HeldElsewhere{key};
        return true;
    }
    // A row's unit runs under a savepoint, and rolling back to it releases the locks taken
    // since (PostgreSQL releases a subtransaction's locks with it): they are not held any more.
    void begin_unit() { unit_.clear(); }
    void undo_unit() {
        for (const auto key : unit_)
            mine_.erase(key);
        unit_.clear();
    }

  private:
    store::Connection& db_;
    bool keyed_;
    const HeldKeys& held_;
    std::unordered_set<std::int32_t> mine_;
    std::vector<std::int32_t> unit_; // taken under the current row's savepoint
};

// now_ms stamps processed_at. Never throws for a bad event; throws only when the store
// itself fails (the row then stays pending and is tried again).
RowOutcome process_row(store::Connection& db, const Engine& engine, const InboxRecord& row,
                       std::int64_t now_ms);

// How process_pending goes over the pending rows, and whom it tells.
struct Passes {
    int read = 512; // rows read at a time: a pass
    // How long one batch may hold the store's write lock (checked after each row): one commit
    // for many events, yet the inbox writer never waits long for the lock.
    std::chrono::microseconds budget = std::chrono::milliseconds{8};
    std::function<std::int64_t()> now_ms; // stamps a batch's rows as processed
    std::function<bool()> stopping;       // optional: asked before each batch
    std::function<void()> after_batch;    // optional: once a batch committed
    // optional: each row a batch got to, with its outcome and the batch's now_ms
    std::function<void(const InboxRecord&, RowOutcome, std::int64_t)> seen;
    // optional (SQLite): the deliveries that arrive while a batch holds the write lock ride on
    // its commit (InboxWriter::open_ride) instead of waiting to commit on their own
    store::InboxWriter* riders = nullptr;
};
// Passes over the pending rows, each parsed once and then worked through in batches (as
// process_rows does) with the pass's held members, until a pass decides nothing: its rows are
// another instance's (their member or the row itself held) or were finished meanwhile, so they are
// not read again at once. Returns how many rows were decided (done, ignored or poison).
std::size_t process_pending(store::Connection& db, const Engine& engine, const Passes& passes);

} // namespace dunning::jobs
