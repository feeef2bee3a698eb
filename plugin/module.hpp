#pragma once
// The Module: what a host runs (or links in). It owns the store, the inbox writer and worker,
// the HTTP server, and the clock everything else is given.
//
// A host that links the module in uses, besides serve():
//   on_access_change(listener)  — told of every access change, in order, at least once
//   access(creator, member, course_or_product) — the same answer as GET /v1/creators/{c}/access
// See examples/embed_host.cpp.
#include "access/query.hpp"
#include "access_feed.hpp"
#include "config/config.hpp"
#include "host_dispatcher.hpp"
#include "core/time.hpp"
#include "dispatcher.hpp"
#include "engine.hpp"
#include "inbox.hpp"
#include "metrics.hpp"
#include "worker.hpp"

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>

namespace dunning::plugin {

class SystemClock final : public Clock {
  public:
    Timestamp now() const override;
};

std::int64_t wall_clock_ms();

struct ModuleOptions {
    bool test_clock = false; // a FakeClock the HTTP API can move (never in production)
    Timestamp test_clock_start{};
};

class Module {
  public:
    // Opens the store and applies migrations; throws std::runtime_error with a clear message.
    Module(config::Config config, ModuleOptions options = {});
    ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // Binds [server] listen and serves until stop(); returns false if it could not bind.
    bool serve();
    void stop();
    int port() const { return port_; } // the bound port once serve() is listening
    bool wait_until_listening(std::chrono::milliseconds timeout);

    const config::Config& config() const { return config_; }
    const Clock& clock() const { return *clock_; }
    FakeClock* test_clock() { return fake_clock_; } // null unless started with a test clock
    Metrics& metrics() { return metrics_; }
    InboxWriter& inbox() { return *writer_; }
    const Engine& engine() const { return *engine_; }
    InboxWorker& worker() { return *worker_; }
    StoreOptions store_options() const;

    // Registers a listener for access changes (from the worker thread, in order, at least once;
    // changes made before registration and not yet handed over are handed over first).
    void on_access_change(AccessListener listener);
    // May this member use this course (a course id or a Stripe product id)? Without HTTP.
    // std::nullopt when the creator is unknown or the id is neither a course nor a product.
    std::optional<access::AccessAnswer> access(const std::string& creator, const std::string& member,
                                               const std::string& course_or_product);

    // Runs f with the shared read connection (API queries), one caller at a time.
    template <class F> auto with_reader(F&& f) {
        std::lock_guard lock(reader_mutex_);
        return f(*reader_);
    }

  private:
    void install_routes();

    config::Config config_;
    std::unique_ptr<Clock> clock_;
    FakeClock* fake_clock_ = nullptr;
    Metrics metrics_;
    std::unique_ptr<SQLite::Database> reader_;
    std::mutex reader_mutex_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<StripeGateway> stripe_;
    std::unique_ptr<MailDispatcher> mail_;
    std::unique_ptr<HostDispatcher> host_;
    std::unique_ptr<AccessFeed> feed_;
    std::unique_ptr<InboxWorker> worker_;
    std::unique_ptr<InboxWriter> writer_;
    httplib::Server http_;
    std::atomic<int> port_{0};
};

// Route installers, one file each.
void install_webhook_routes(httplib::Server& http, Module& m);
void install_api_routes(httplib::Server& http, Module& m);
void install_access_routes(httplib::Server& http, Module& m);
void install_test_clock_routes(httplib::Server& http, Module& m);

// {"error": message} with the status; every error answer goes through here.
void send_error(httplib::Response& res, int status, const std::string& message);
// For /v1/creators/{id}/…: true when the Bearer token is that creator's; else the 401/403 is
// written.
bool authorize(Module& m, const httplib::Request& req, httplib::Response& res,
               const std::string& creator_id);

} // namespace dunning::plugin
