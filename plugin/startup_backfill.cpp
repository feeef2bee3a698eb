#include "plugin/startup_backfill.hpp"

#include "jobs/backfill.hpp"
#include "telemetry/log.hpp"

namespace dunning::plugin {

using telemetry::log_info;

StartupBackfill::StartupBackfill(const config::Config& config,
                                 const config::CreatorRegistry& creators, store::StoreOptions store,
                                 const Clock& clock, std::function<void()> wake, bool no_waiting,
                                 std::int64_t started_ms)
    : creators_(creators), store_(std::move(store)), clock_(clock), wake_(std::move(wake)),
      started_ms_(started_ms) {
    retry::StripeClientOptions options;
    options.api_base = config.stripe.api_base;
    options.max_tries = 5;
    if (no_waiting)
        options.sleep = [](std::chrono::milliseconds) {};
    else
        options.sleep = [this](std::chrono::milliseconds d) { pause(d); };
    stripe_ = std::make_unique<jobs::StripeGateway>(config, creators_, std::move(options));
    thread_ = std::thread([this] { run(); });
}

StartupBackfill::~StartupBackfill() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_signal_.notify_all();
    thread_.join();
}

void StartupBackfill::pause(std::chrono::milliseconds how_long) {
    std::unique_lock lock(mutex_);
    stop_signal_.wait_for(lock, how_long, [this] { return stopping_.load(); });
}

void StartupBackfill::run() {
    try {
        auto db = store::open_store(store_);
        for (const auto& creator : creators_.all()) {
            if (stopping_) return;
            if (creator->disabled || !stripe_->auth_for(creator->id)) continue;
            jobs::BackfillHooks hooks;
            hooks.stopping = [this] { return stopping_.load(); };
            const jobs::BackfillOptions options{creator->id, std::nullopt, false, started_ms_};
            const auto r = jobs::backfill_creator(*db, *stripe_, options, clock_.now(), hooks);
            if (r.skipped) continue; // never received an event: nothing can have been missed
            if (!r.ok()) {
                telemetry::log_warn("backfill " + creator->id + ": " + r.error +
                                    "; run `dunning backfill --creator " + creator->id + "` later");
                continue;
            }
            log_info("backfill " + creator->id + ": " + std::to_string(r.pages) + " page(s), " +
                     std::to_string(r.fetched) + " event(s) fetched, " +
                     std::to_string(r.inserted) + " new, " + std::to_string(r.duplicates) +
                     " already stored");
            if (r.inserted > 0) wake_();
        }
    } catch (const std::exception& e) {
        telemetry::log_error(std::string("backfill at start stopped: ") + e.what());
    }
}

} // namespace dunning::plugin
