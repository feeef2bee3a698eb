#pragma once
// The Module: what a host runs (or links in). It owns the store, the inbox writer, the background
// work, the HTTP server, and the clock everything else is given.
//
// A host that links the module in uses, besides serve():
//   on_access_change(listener)  — told of every access change, in order, at least once
//   access(creator, member, course_or_product) — the same answer as GET /v1/creators/{c}/access
// See examples/embed_host/embed_host.cpp.
#include "access/query.hpp"
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "http/gated_server.hpp"
#include "http/services.hpp"
#include "jobs/access_feed.hpp"
#include "jobs/background_loop.hpp"
#include "jobs/engine.hpp"
#include "jobs/platform_notifier.hpp"
#include "jobs/stripe_connect.hpp"
#include "jobs/stripe_jobs.hpp"
#include "jobs/work_loop.hpp"
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "store/secret_box.hpp"
#include "telemetry/metrics.hpp"

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>

namespace dunning::store {
class WalCheckpointer;
}

namespace dunning::plugin {

class PastDueImports;
class StartupBackfill;

class SystemClock final : public Clock {
  public:
    Timestamp now() const override;
};

std::int64_t wall_clock_ms();

// The store that [storage] names: SQLite's file, or the PostgreSQL database of postgres_url.
store::StoreOptions store_options(const config::StorageConfig& storage);
// That store as it may be shown (a PostgreSQL URL without its password).
std::string store_name(const config::StorageConfig& storage);

struct ModuleOptions {
    bool test_clock = false; // a FakeClock the HTTP API can move (never in production)
    Timestamp test_clock_start{};
    // serve() starts a background backfill of the events Stripe kept for each creator that has
    // received events before (see plugin/startup_backfill.hpp).
    bool backfill_at_start = false;
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
    // Reads the configuration file again (SIGHUP): valid, its creators replace the running ones
    // (see plugin/reload.hpp) and the settings that need a restart are logged; invalid, every
    // problem is logged as file:line: key: problem and nothing changes. Returns whether applied.
    bool reload(const std::string& path);

    const config::Config& config() const { return config_; }
    // The creators the service runs with: the file's and those of the admin API, live.
    config::CreatorRegistry& creators() { return creators_; }
    const Clock& clock() const { return *clock_; }
    FakeClock* test_clock() { return fake_clock_; } // null unless started with a test clock
    telemetry::Metrics& metrics() { return metrics_; }
    store::InboxWriter& inbox() { return *writer_; }
    const jobs::Engine& engine() const { return *engine_; }
    jobs::WorkLoop& work() { return *work_; }
    // Each creator's interest base-rate table (read again on reload).
    const jobs::BaseRateTables& base_rates() const { return mail_->base_rates(); }
    store::StoreOptions store_options() const;

    // Registers a listener for access changes (from the worker thread, in order, at least once;
    // changes made before registration and not yet handed over are handed over first).
    void on_access_change(jobs::AccessListener listener);
    // May this member use this course (a course id or a Stripe product id)? Without HTTP.
    // std::nullopt when the creator is unknown or the id is neither a course nor a product.
    std::optional<access::AccessAnswer> access(const std::string& creator,
                                               const std::string& member,
                                               const std::string& course_or_product);

    // The connection the HTTP API uses (reads and creator commands), one caller at a time.
    store::SharedConnection& api_db() { return *api_db_; }

  private:
    config::Config config_;
    ModuleOptions options_;
    std::int64_t started_ms_; // wall clock: events received from then on are this process's
    config::CreatorRegistry creators_;
    store::SecretBox secrets_box_; // creators' sealed secrets ([storage] secrets_key)
    std::unique_ptr<Clock> clock_;
    FakeClock* fake_clock_ = nullptr;
    telemetry::Metrics metrics_;
    std::unique_ptr<store::SharedConnection> api_db_;
    // SQLite: the WAL copied into the file on a thread of its own (store/sqlite_connection.hpp);
    // the loop is declared after the checkpointer, so it stops first.
    std::unique_ptr<store::WalCheckpointer> checkpoints_;
    jobs::BackgroundLoop checkpoint_loop_;
    std::unique_ptr<jobs::Engine> engine_;
    std::unique_ptr<jobs::StripeGateway> stripe_;
    std::unique_ptr<jobs::StripeConnector> connector_;
    std::unique_ptr<jobs::MailDispatcher> mail_;
    std::unique_ptr<jobs::PlatformNotifier> notifier_;
    std::unique_ptr<jobs::AccessFeed> feed_;
    std::unique_ptr<jobs::WorkLoop> work_;
    std::unique_ptr<store::InboxWriter> writer_;
    std::unique_ptr<http::Services> services_;
    std::unique_ptr<StartupBackfill> backfill_;
    std::unique_ptr<PastDueImports> imports_;
    // Several instances on one PostgreSQL database: every second, the store's creators compared
    // (creators_digest) with what this instance read last, and the registry brought up to date
    // when another instance changed one (plugin/creator_seed.hpp refresh_creators).
    void refresh_creators();
    config::Config creators_config_; // what the running creators were built from (last reload)
    std::string creators_digest_;
    jobs::BackgroundLoop creator_refresh_;
    http::GatedServer http_;
    std::atomic<int> port_{0};
};

} // namespace dunning::plugin
