#include "plugin/module.hpp"

#include "plugin/creator_seed.hpp"
#include "plugin/past_due_imports.hpp"
#include "plugin/secrets.hpp"
#include "plugin/startup_backfill.hpp"
#include "store/creators.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"
#include "store/postgres_connection.hpp"
#include "store/sqlite_connection.hpp"
#include "telemetry/log.hpp"

#include <nlohmann/json.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

namespace dunning::plugin {

using jobs::AccessListener;
using jobs::make_transport;
using store::StoreOptions;
using telemetry::log_info;

Timestamp SystemClock::now() const {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Module::Module(config::Config config, ModuleOptions options)
    : config_(std::move(config)), options_(options), started_ms_(wall_clock_ms()),
      secrets_box_(secret_box(config_.storage)), http_(http::gate_limits(config_.server)) {
    if (options.test_clock) {
        auto fake = std::make_unique<FakeClock>(options.test_clock_start);
        fake_clock_ = fake.get();
        clock_ = std::move(fake);
    } else {
        clock_ = std::make_unique<SystemClock>();
    }
    const auto store = store_options();
    api_db_ = std::make_unique<store::SharedConnection>(store::open_store(store));
    api_db_->use([this](store::Connection& db) {
        seed_creators(db, config_, creators_, secrets_box_, clock_->now());
        // Before this instance claims anything: the jobs a process of this machine held and left
        // behind (this instance before a crash) are taken up in their order, not after the lease.
        if (db.backend() != store::Backend::postgresql) return;
        if (const auto n = store::release_claims_of_dead_processes(db); n > 0)
            log_info(std::to_string(n) +
                     " job(s) claimed by a process of this machine that is gone were given back");
    });
    if (store.postgres_url.empty()) {
        // While its rounds fail, commits copy the WAL themselves past 10,000 pages.
        checkpoints_ =
            std::make_unique<store::WalCheckpointer>(store, store::WalCheckpointer::Options{});
        checkpoint_loop_.start(
            "storage: WAL checkpoint", [this] { checkpoints_->round(); }, {},
            store::WalCheckpointer::period);
    }
    for (auto& creator : config_.creators) // the registry holds their SHA-256; nothing needs more
        creator.api_token.clear();
    engine_ = std::make_unique<jobs::Engine>(config_, creators_, *clock_);
    retry::StripeClientOptions stripe_options;
    stripe_options.api_base = config_.stripe.api_base;
    // Under a test clock nothing may wait in real time: Stripe's retries back off by the clock.
    if (fake_clock_) stripe_options.sleep = [](std::chrono::milliseconds) {};
    connector_ = std::make_unique<jobs::StripeConnector>(config_, stripe_options);
    stripe_ = std::make_unique<jobs::StripeGateway>(config_, creators_, std::move(stripe_options));
    mail_ = std::make_unique<jobs::MailDispatcher>(config_, creators_, make_transport(config_));
    notifier_ = std::make_unique<jobs::PlatformNotifier>(config_.host, store, *clock_);
    feed_ = std::make_unique<jobs::AccessFeed>(
        [this](const std::string& creator, const std::string& product) {
            return engine_->courses_for(creator).courses_of(product);
        });
    work_ = std::make_unique<jobs::WorkLoop>(store, metrics_, *engine_, *stripe_, *mail_,
                                             *notifier_, *feed_, wall_clock_ms);
    writer_ = std::make_unique<store::InboxWriter>(store, [this] { work_->wake(); });
    work_->carry_deliveries(*writer_);
    writer_->on_trouble_change([](const std::string& error) {
        if (error.empty())
            log_info("storage: the inbox takes events again; webhooks are answered 200");
        else
            telemetry::log_error("storage: the inbox cannot commit (" + error +
                                 "); webhooks are answered 503 until it can");
    });
    work_->start();
    // Should the rest of the start fail, the loop stops before the writer whose deliveries its
    // batches carry is destroyed (members go in reverse order, the writer first).
    struct StopWorkOnThrow {
        jobs::WorkLoop& work;
        int before = std::uncaught_exceptions();
        ~StopWorkOnThrow() {
            if (std::uncaught_exceptions() > before) work.stop();
        }
    } stop_work_on_throw{*work_};
    notifier_->start();
    imports_ = std::make_unique<PastDueImports>(
        config_, creators_, store, *clock_, [this] { work_->wake(); }, fake_clock_ != nullptr);
    services_.reset(
        new http::Services{config_, creators_, *clock_, fake_clock_, wall_clock_ms, metrics_,
                           *writer_, *api_db_, *engine_, *work_, mail_->base_rates(),
                           [this](const std::string& creator) { imports_->request(creator); },
                           secrets_box_, *connector_});
    http::install_routes(http_, *services_);
    // On SQLite one instance uses the store: its own registry is the only one to change.
    creators_config_ = config_;
    api_db_->use([this](store::Connection& db) {
        if (db.backend() != store::Backend::postgresql) return;
        creators_digest_ = store::creators_digest(db);
        creator_refresh_.start("creator refresh", [this] { refresh_creators(); });
    });
}

void Module::refresh_creators() {
    const auto digest =
        api_db_->use([](store::Connection& db) { return store::creators_digest(db); });
    if (digest == creators_digest_) return;
    std::lock_guard lock(creators_.changes());
    api_db_->use([this](store::Connection& db) {
        plugin::refresh_creators(db, creators_config_, creators_, secrets_box_);
    });
    creators_digest_ = digest;
}

Module::~Module() {
    creator_refresh_.stop();
    stop();
    backfill_.reset();
    imports_.reset();
    work_->stop();   // no batch carries the inbox's deliveries any more
    writer_.reset(); // commits what is queued; the next start processes it
    work_.reset();
}

StoreOptions store_options(const config::StorageConfig& storage) {
    StoreOptions options;
    options.path = storage.sqlite_path;
    options.synchronous = storage.synchronous;
    options.postgres_url = storage.postgres_url;
    options.claim_lease = std::chrono::seconds{storage.claim_lease_seconds};
    options.on_upgrade = [](const std::string& line) { telemetry::log_info(line); };
    return options;
}

std::string store_name(const config::StorageConfig& storage) {
    return storage.postgres_url.empty() ? storage.sqlite_path
                                        : store::redacted_postgres_url(storage.postgres_url);
}

StoreOptions Module::store_options() const {
    return plugin::store_options(config_.storage);
}

namespace {

// The one address `host` names, as digits, or the reason there is none. "localhost" names ::1
// and 127.0.0.1; given the name, httplib binds the first of them it can, so a second service on
// the same port would take the other one and share the first's clients by address family.
std::optional<std::string> numeric_address(const std::string& host, std::string& why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0) {
        why = ::gai_strerror(rc);
        return std::nullopt;
    }
    char text[NI_MAXHOST];
    const int rc = ::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0,
                                 NI_NUMERICHOST);
    ::freeaddrinfo(found);
    if (rc != 0) {
        why = ::gai_strerror(rc);
        return std::nullopt;
    }
    return std::string(text);
}

} // namespace

bool Module::serve() {
    const auto& s = config_.server;
    std::string why;
    const auto address = numeric_address(s.host, why);
    if (!address) {
        telemetry::log_error("cannot bind " + s.listen + ": " + why);
        return false;
    }
    int port = s.port;
    errno = 0;
    if (port == 0 ? (port = http_.bind_to_any_port(*address)) < 0
                  : !http_.bind_to_port(*address, port)) {
        // One address, so errno is its bind's (or listen's): "Address already in use" names the
        // usual cause, another server on the port.
        telemetry::log_error("cannot bind " + s.listen + ": " +
                             (errno != 0 ? std::strerror(errno) : "unknown error"));
        return false;
    }
    port_ = port;
    if (options_.backfill_at_start && !backfill_)
        backfill_ = std::make_unique<StartupBackfill>(
            config_, creators_, store_options(), *clock_, [this] { work_->wake(); },
            fake_clock_ != nullptr, started_ms_);
    const bool v6 = address->find(':') != std::string::npos;
    log_info("listening on http://" + (v6 ? "[" + *address + "]" : *address) + ":" +
             std::to_string(port));
    return http_.listen_after_bind();
}

bool Module::wait_until_listening(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!http_.is_running()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

void Module::stop() {
    http_.stop();
}

void Module::on_access_change(AccessListener listener) {
    feed_->add(std::move(listener));
    work_->wake();
}

std::optional<access::AccessAnswer> Module::access(const std::string& creator,
                                                   const std::string& member,
                                                   const std::string& course_or_product) {
    if (!creators_.find(creator)) return std::nullopt;
    const auto courses = engine_->courses_for(creator);
    if (courses.products_for(course_or_product).empty()) return std::nullopt;
    return api_db_->use([&](store::Connection& db) {
        return access::query_access(db, creator, courses, member, course_or_product);
    });
}

} // namespace dunning::plugin
