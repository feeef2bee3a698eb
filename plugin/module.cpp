#include "module.hpp"

#include "log.hpp"

#include <nlohmann/json.hpp>

#include <thread>

namespace dunning::plugin {

Timestamp SystemClock::now() const {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

Module::Module(config::Config config, ModuleOptions options) : config_(std::move(config)) {
    if (options.test_clock) {
        auto fake = std::make_unique<FakeClock>(options.test_clock_start);
        fake_clock_ = fake.get();
        clock_ = std::move(fake);
    } else {
        clock_ = std::make_unique<SystemClock>();
    }
    const auto store = store_options();
    reader_ = open_store(store);
    engine_ = std::make_unique<Engine>(config_, *clock_);
    retry::StripeClientOptions stripe_options;
    stripe_options.api_base = config_.stripe.api_base;
    // Under a test clock nothing may wait in real time: Stripe's retries back off by the clock.
    if (fake_clock_) stripe_options.sleep = [](std::chrono::milliseconds) {};
    stripe_ = std::make_unique<StripeGateway>(config_, std::move(stripe_options));
    mail_ = std::make_unique<MailDispatcher>(config_, make_transport(config_));
    host_ = std::make_unique<HostDispatcher>(config_.host, store, *clock_);
    feed_ = std::make_unique<AccessFeed>([this](const std::string& creator, const std::string& product) {
        return engine_->courses_for(creator).courses_of(product);
    });
    worker_ = std::make_unique<InboxWorker>(store, metrics_, *engine_, *stripe_, *mail_, *host_, *feed_,
                                            wall_clock_ms);
    writer_ = std::make_unique<InboxWriter>(store, [this] { worker_->wake(); });
    worker_->start();
    host_->start();
    install_routes();
}

Module::~Module() {
    stop();
    writer_.reset(); // commits what is queued before the worker goes
    worker_.reset();
}

StoreOptions Module::store_options() const {
    return {config_.storage.sqlite_path, config_.storage.synchronous};
}

void Module::install_routes() {
    const int threads = config_.server.threads;
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_.set_tcp_nodelay(true);
    http_.set_keep_alive_max_count(100000);
    http_.set_payload_max_length(config_.server.max_body_bytes);
    http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 413) {
            if (req.path.starts_with("/webhooks/")) metrics_.event_rejected("body_too_large");
            send_error(res, 413, "body larger than " +
                                     std::to_string(config_.server.max_body_bytes) + " bytes");
        } else if (res.status == 404) {
            send_error(res, 404, "no such endpoint: " + req.method + " " + req.path);
        } else {
            send_error(res, res.status, "request failed");
        }
    });
    install_webhook_routes(http_, *this);
    install_api_routes(http_, *this);
    install_access_routes(http_, *this);
    if (fake_clock_) install_test_clock_routes(http_, *this);
}

bool Module::serve() {
    const auto& s = config_.server;
    int port = s.port;
    if (port == 0) {
        port = http_.bind_to_any_port(s.host);
        if (port < 0) return false;
    } else if (!http_.bind_to_port(s.host, port)) {
        return false;
    }
    port_ = port;
    log_info("listening on http://" + s.host + ":" + std::to_string(port));
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

void Module::stop() { http_.stop(); }

void Module::on_access_change(AccessListener listener) {
    feed_->add(std::move(listener));
    worker_->wake();
}

std::optional<access::AccessAnswer> Module::access(const std::string& creator, const std::string& member,
                                                   const std::string& course_or_product) {
    if (!config_.find_creator(creator)) return std::nullopt;
    const auto& courses = engine_->courses_for(creator);
    if (courses.products_for(course_or_product).empty()) return std::nullopt;
    return with_reader([&](SQLite::Database& db) {
        return access::query_access(db, creator, courses, member, course_or_product);
    });
}

} // namespace dunning::plugin
