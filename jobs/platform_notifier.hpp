#pragma once
// Delivers queued notifications (access.locked, access.restored, case.*) to the host platform:
// POST [host] webhook_url with the JSON body and `Dunning-Signature: t=…,v1=…` (Stripe's
// scheme: hex HMAC-SHA256 of "<t>.<body>" keyed with [host] webhook_secret). A 2xx answer
// delivers; anything else is retried with backoff, forever, one member at a time in order.
#include "config/config.hpp"
#include "core/time.hpp"
#include "jobs/background_loop.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"

#include <httplib.h>

#include <memory>
#include <mutex>
#include <optional>

namespace dunning::jobs {

// Runs on a thread of its own with its own store connection, so a slow or hanging platform
// never holds up webhooks, timers, charges or emails.
class PlatformNotifier {
  public:
    PlatformNotifier(const config::HostConfig& host, const store::StoreOptions& store,
                     const Clock& clock);
    ~PlatformNotifier(); // stops the thread after the request in hand
    PlatformNotifier(const PlatformNotifier&) = delete;
    PlatformNotifier& operator=(const PlatformNotifier&) = delete;

    bool enabled() const { return !url_.empty(); }
    void start();
    void wake(); // new notifications may be queued
    // Delivers everything due now, from the calling thread (the test clock, shutdown); returns
    // how many notifications were delivered or rescheduled.
    std::size_t drain();

  private:
    std::size_t dispatch_due();
    bool post(const std::string& body, Timestamp now, std::string& result);

    std::string url_, origin_, path_, secret_;
    const Clock& clock_;
    std::unique_ptr<store::Connection> db_;
    std::unique_ptr<httplib::Client> client_; // kept alive between notifications
    store::JobQueue queue_;
    // Set after a delivery failed without an answer (the platform is down): no calls until then,
    // so a dead platform does not cost a connect timeout per member.
    std::optional<Timestamp> pause_until_;
    int failures_in_a_row_ = 0;
    std::mutex drain_mutex_; // one sender at a time keeps each member's order
    BackgroundLoop loop_;    // last: stopped before the members it uses go
};

} // namespace dunning::jobs
