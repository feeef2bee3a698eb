#pragma once
// At `serve` start, in the background (readiness does not wait for it): every enabled creator
// that has received events before gets the events Stripe kept since its newest one stored before
// this process started, so what was sent while the service was down is processed once, even when
// fresh deliveries arrive before the backfill looks.
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/database.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace dunning::plugin {

class StartupBackfill {
  public:
    // `wake` tells the worker that rows were stored. `no_waiting` (a test clock): Stripe's
    // retries do not wait in real time. `started_ms`: when the process started (wall clock, unix
    // milliseconds); events received from then on do not move the starting point.
    StartupBackfill(const config::Config& config, const config::CreatorRegistry& creators,
                    store::StoreOptions store, const Clock& clock, std::function<void()> wake,
                    bool no_waiting, std::int64_t started_ms);
    ~StartupBackfill(); // stops between pages or retries, then joins
    StartupBackfill(const StartupBackfill&) = delete;
    StartupBackfill& operator=(const StartupBackfill&) = delete;

  private:
    void run();
    void pause(std::chrono::milliseconds how_long);

    const config::CreatorRegistry& creators_;
    store::StoreOptions store_;
    const Clock& clock_;
    std::function<void()> wake_;
    std::int64_t started_ms_;
    std::unique_ptr<jobs::StripeGateway> stripe_;
    std::mutex mutex_;
    std::condition_variable stop_signal_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace dunning::plugin
