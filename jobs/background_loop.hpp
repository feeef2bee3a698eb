#pragma once
// A thread that runs `work` when woken, and once a period (a second unless said) anyway; an
// exception from `work` is logged (once while the same error repeats, and once more when a round
// succeeds again) and the loop goes on after a period. Shared by the work loop, the platform
// notifier, the creators' refresh and the SQLite WAL's checkpoints.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace dunning::jobs {

class BackgroundLoop {
  public:
    BackgroundLoop() = default;
    ~BackgroundLoop() { stop(); }
    BackgroundLoop(const BackgroundLoop&) = delete;
    BackgroundLoop& operator=(const BackgroundLoop&) = delete;

    // `on_start` runs first on the new thread (e.g. to lower its priority); `name` prefixes the
    // log line of a failed round.
    void start(std::string name, std::function<void()> work, std::function<void()> on_start = {},
               std::chrono::milliseconds period = std::chrono::seconds{1});
    void wake();
    // Stops after the round in hand and joins; safe to call twice.
    void stop();
    bool stopping() const { return stopping_; }

  private:
    void run();
    bool round(); // false when `work` failed

    std::string name_;
    std::chrono::milliseconds period_{std::chrono::seconds{1}};
    std::string failing_with_; // the error logged last; empty while rounds succeed
    long failed_rounds_ = 0;
    std::function<void()> work_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool woken_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace dunning::jobs
