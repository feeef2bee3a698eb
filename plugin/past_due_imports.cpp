#include "plugin/past_due_imports.hpp"

#include "jobs/import_past_due.hpp"
#include "telemetry/log.hpp"

namespace dunning::plugin {

PastDueImports::PastDueImports(const config::Config& config,
                               const config::CreatorRegistry& creators, store::StoreOptions store,
                               const Clock& clock, std::function<void()> wake, bool no_waiting)
    : store_(std::move(store)), clock_(clock), wake_(std::move(wake)) {
    retry::StripeClientOptions options;
    options.api_base = config.stripe.api_base;
    options.max_tries = 5;
    if (no_waiting) options.sleep = [](std::chrono::milliseconds) {};
    stripe_ = std::make_unique<jobs::StripeGateway>(config, creators, std::move(options));
    thread_ = std::thread([this] { run(); });
}

PastDueImports::~PastDueImports() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_worker_.notify_all();
    thread_.join();
}

void PastDueImports::request(const std::string& creator) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(creator);
    }
    wake_worker_.notify_all();
}

void PastDueImports::run() {
    std::unique_ptr<store::Connection> db;
    for (;;) {
        std::string creator;
        {
            std::unique_lock lock(mutex_);
            wake_worker_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            creator = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            if (!db) db = store::open_store(store_);
            import_one(*db, creator);
        } catch (const std::exception& e) {
            telemetry::log_error("import of past-due invoices of " + creator + ": " + e.what());
        }
    }
}

void PastDueImports::import_one(store::Connection& db, const std::string& creator) {
    const auto r = jobs::import_past_due(db, *stripe_, creator, clock_.now());
    if (!r.ok()) {
        telemetry::log_warn("import of past-due invoices of " + creator + ": " + r.error);
        return;
    }
    telemetry::log_info("import of past-due invoices of " + creator + ": " +
                        std::to_string(r.open) + " open, " + std::to_string(r.past_due) +
                        " past due, " + std::to_string(r.inserted) + " new");
    if (r.inserted > 0) wake_();
}

} // namespace dunning::plugin
