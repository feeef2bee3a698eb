#pragma once
// The loop that turns stored events into case changes, oldest first. It wakes when the inbox
// commits, and polls now and then for rows written by another process (`dunning replay`).
#include "metrics.hpp"
#include "store.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dunning::plugin {

class InboxWorker {
  public:
    using MillisClock = std::function<std::int64_t()>;
    InboxWorker(const StoreOptions& store, Metrics& metrics, MillisClock now_ms);
    ~InboxWorker(); // stops the thread after the row in hand
    InboxWorker(const InboxWorker&) = delete;
    InboxWorker& operator=(const InboxWorker&) = delete;

    void start();
    void wake();
    // Processes every pending row before returning; callable from any thread.
    std::size_t drain();

  private:
    void run();

    std::unique_ptr<SQLite::Database> db_;
    Metrics& metrics_;
    MillisClock now_ms_;
    std::mutex drain_mutex_; // one drain at a time: the thread, the test clock, shutdown
    std::mutex mutex_;
    std::condition_variable wake_;
    bool woken_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace dunning::plugin
