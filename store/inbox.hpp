#pragma once
// The durable inbox. The receiver appends a verified event and answers Stripe only after the
// row is committed. Appends from many HTTP threads share one transaction (group commit), so
// one fsync acknowledges many events.
#include "store/database.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace dunning::store {

struct InboxRow {
    std::string creator_id;
    std::string event_id;
    std::string type;
    std::string account;
    std::string source; // connect | direct | replay
    std::string body;   // the raw bytes Stripe signed
    std::int64_t created = 0;        // Stripe's created, unix seconds
    std::int64_t received_at_ms = 0; // our clock
};

enum class AppendOutcome { inserted, duplicate };

// Inserts one row in the caller's transaction (or autocommit).
AppendOutcome insert_inbox_row(SQLite::Database& db, const InboxRow& row);

class InboxWriter {
  public:
    // on_commit runs on the writer thread after each committed batch (to wake the worker).
    InboxWriter(const StoreOptions& store, std::function<void()> on_commit);
    ~InboxWriter(); // commits what is queued, then stops
    InboxWriter(const InboxWriter&) = delete;
    InboxWriter& operator=(const InboxWriter&) = delete;

    // Blocks until the row is durable or known as a duplicate. Throws std::runtime_error when
    // the store cannot take it (disk full, locked too long): the caller answers 503 and Stripe
    // delivers again later.
    AppendOutcome append(InboxRow row);

  private:
    struct Pending {
        InboxRow row;
        std::promise<AppendOutcome> done;
    };
    void run();
    void commit_batch(std::deque<Pending>& batch);

    std::unique_ptr<SQLite::Database> db_;
    std::function<void()> on_commit_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace dunning::store
