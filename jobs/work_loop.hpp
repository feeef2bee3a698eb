#pragma once
// The loop that moves cases on: stored events (oldest first), due timers, access rechecks and
// listeners, due jobs (charges, emails, card reminders); it wakes the platform notifier's thread
// for what it queued. It wakes when the inbox commits and otherwise looks once a second (timers,
// rows written by another process such as `dunning replay`, retries of failed Stripe calls).
#include "jobs/access_feed.hpp"
#include "jobs/background_loop.hpp"
#include "jobs/engine.hpp"
#include "jobs/mail_jobs.hpp"
#include "jobs/platform_notifier.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "telemetry/metrics.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dunning::jobs {

class WorkLoop {
  public:
    using MillisClock = std::function<std::int64_t()>;
    WorkLoop(const store::StoreOptions& store, telemetry::Metrics& metrics, const Engine& engine,
             StripeGateway& stripe, MailDispatcher& mail, PlatformNotifier& host, AccessFeed& feed,
             MillisClock now_ms);
    ~WorkLoop(); // stops the thread after the row in hand
    WorkLoop(const WorkLoop&) = delete;
    WorkLoop& operator=(const WorkLoop&) = delete;

    // SQLite: the inbox's deliveries that arrive while a batch of events holds the write lock
    // ride on its commit (store::InboxWriter::open_ride). Set before start(); the writer must
    // outlive the loop's rounds (stop() first).
    void carry_deliveries(store::InboxWriter& writer);
    void start();
    // Stops the thread after the round in hand (the destructor does too); safe to call twice.
    void stop();
    void wake();
    // Runs everything that is due (events, timers, jobs) until nothing is, then has the
    // platform told; callable from any thread. Returns the number of steps taken. `first` (the
    // test clock's move) runs once a drain in hand (the loop's own) has finished, before this
    // one: no round sees the clock move halfway through.
    std::size_t drain(const std::function<void()>& first = {});

  private:
    // drain() without waiting for the platform's deliveries
    std::size_t drain_own(const std::function<void()>& first = {});
    std::size_t drain_inbox();
    std::size_t run_access_rechecks(Timestamp due_by);
    YieldCheck yield_to_webhooks();

    std::unique_ptr<store::Connection> db_;
    telemetry::Metrics& metrics_;
    const Engine& engine_;
    StripeGateway& stripe_;
    MailDispatcher& mail_;
    PlatformNotifier& host_;
    AccessFeed& feed_;
    MillisClock now_ms_;
    store::InboxWriter* riders_ = nullptr; // carry_deliveries
    store::JobQueue queue_;                // this run's claims on the jobs
    // Set by wake() (the inbox committed a webhook, among others), cleared when the inbox is read.
    std::atomic<bool> woken_while_working_{false};
    std::mutex drain_mutex_; // one drain at a time: the loop's thread, the test clock
    BackgroundLoop loop_;    // last: stopped before the members it uses go
};

} // namespace dunning::jobs
