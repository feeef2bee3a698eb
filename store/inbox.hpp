#pragma once
// The durable inbox. The receiver appends a verified event and answers Stripe only after the
// row is committed. Appends from many HTTP threads share one transaction (group commit), so
// one fsync acknowledges many events: the writer's own, or on SQLite, while the work loop's batch
// holds the write lock, that batch's (a ride, InboxWriter::open_ride).
#include "store/database.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dunning::store {

struct InboxRow {
    std::string creator_id;
    std::string event_id;
    std::string type;
    std::string account;
    std::string source; // connect | direct | replay | backfill | import (past due at connection)
    std::string body;   // the raw bytes Stripe signed
    std::int64_t created = 0;        // Stripe's created, unix seconds
    std::int64_t received_at_ms = 0; // our clock
};

enum class AppendOutcome { inserted, duplicate };

// Inserts one row and its body (inbox_bodies) in the caller's transaction: on SQLite they are two
// statements, which only a transaction commits together.
AppendOutcome insert_inbox_row(Connection& db, const InboxRow& row);

// Stripe's `created` of the newest event stored for this creator among those received before
// `received_before_ms` (our clock), whatever its state, imported invoices aside (their time is the
// import's); nullopt when the creator had received none by then.
std::optional<std::int64_t> newest_event_created(Connection& db, const std::string& creator,
                                                 std::int64_t received_before_ms);

// A row waiting to be processed, oldest first.
struct InboxRecord {
    std::int64_t id = 0;
    std::string creator_id;
    std::string body;
    std::int64_t received_at_ms = 0;
};
std::vector<InboxRecord> pending_inbox_rows(Connection& db, int limit);
// Inside a write transaction: is the row still to be processed? On PostgreSQL the row is then
// locked until the transaction ends, and a row another transaction has locked counts as not.
bool inbox_row_pending(Connection& db, std::int64_t id);
// state: done | ignored | poison; note may be empty.
void mark_inbox_row(Connection& db, std::int64_t id, const std::string& state,
                    const std::string& note, std::int64_t processed_at_ms);

struct InboxGauges {
    long long pending = 0, oldest_received_ms = 0, poison = 0;
};
InboxGauges inbox_gauges(Connection& db);

// Payment and dispute events that name no invoice we know yet wait, keyed by their payment
// intent (or, without one, their charge), until an invoice ties them to a case.
void remember_unlinked(Connection& db, const std::string& creator, const std::string& payment_key,
                       std::int64_t inbox_id);
struct UnlinkedEvent {
    std::int64_t inbox_id = 0;
    std::string body;
};
// Takes (returns and forgets) the waiting events of any of the keys.
std::vector<UnlinkedEvent> take_unlinked(Connection& db, const std::string& creator,
                                         const std::string& payment_intent,
                                         const std::string& charge);

// How long a delivery waits for a write lock another process holds before it is answered 503:
// well inside Stripe's delivery timeout and the request deadline.
inline constexpr std::chrono::milliseconds inbox_lock_wait{5000};

class InboxWriter {
  public:
    // on_commit runs after each committed batch, the writer's own or a ride's (to wake the worker).
    InboxWriter(const StoreOptions& store, std::function<void()> on_commit);
    ~InboxWriter(); // commits what is queued, then stops
    InboxWriter(const InboxWriter&) = delete;
    InboxWriter& operator=(const InboxWriter&) = delete;

    // Blocks until the row is durable or known as a duplicate. Throws std::runtime_error when
    // the store cannot take it (disk full, locked too long): the caller answers 503 and Stripe
    // delivers again later.
    AppendOutcome append(InboxRow row);

    // Why the last commit failed; empty while commits succeed. While it fails, the writer tries
    // a small write every second by itself, so this clears once space or the lock returns even
    // when no delivery comes.
    std::string trouble() const;
    // Called when commits start failing (with the error) and when they succeed again (with an
    // empty string), on the writer's thread or a ride's: once per change, not per delivery.
    void on_trouble_change(std::function<void(const std::string&)> listener);

    // Deliveries ride on a transaction another connection of this process already has open (the
    // work loop's batch of events on SQLite), instead of waiting for its write lock to commit on
    // their own. Between open_ride() and close_ride() the writer's thread leaves its queue to
    // board(), which inserts what is queued in the caller's transaction; close_ride() says whether
    // that transaction committed (their senders are answered) or not (they go back to the queue,
    // which the writer's thread commits itself). One ride at a time, on one thread; it must have
    // ended before the writer is destroyed.
    // board() returns how many it inserted. When the store refuses one, the savepoint around them
    // undoes all that call's inserts, and those deliveries go back to the queue: the writer's
    // thread then commits them on its own, or answers them the error.
    void open_ride();
    std::size_t board(Connection& db);
    void close_ride(bool committed);
    // Deliveries queued and not yet in a transaction.
    std::size_t waiting() const;

  private:
    struct Pending {
        InboxRow row;
        std::promise<AppendOutcome> done;
        AppendOutcome outcome = AppendOutcome::inserted; // set when boarded
    };
    void run();
    void commit_batch(std::deque<Pending>& batch);
    void probe();
    void set_trouble(const std::string& error);

    std::unique_ptr<Connection> db_;
    std::function<void()> on_commit_;
    std::function<void(const std::string&)> on_trouble_;
    mutable std::mutex trouble_mutex_;
    std::string trouble_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> queue_;
    bool riding_ = false;
    std::deque<Pending> aboard_; // boarded on the ride in hand: only its thread touches them
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace dunning::store
