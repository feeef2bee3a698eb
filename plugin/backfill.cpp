#include "plugin/backfill.hpp"

#include "core/promise.hpp"
#include "jobs/backfill.hpp"
#include "jobs/inbox_processor.hpp"
#include "plugin/creator_seed.hpp"
#include "plugin/module.hpp"
#include "plugin/secrets.hpp"

#include <ostream>

namespace dunning::plugin {

namespace {

struct Processed {
    std::int64_t done = 0, ignored = 0, poison = 0;
};

// The service's worker would take these rows too; processing them here makes the command's
// result visible at once, and a row is processed once whoever takes it. The rest is an
// instance's to do (jobs::process_pending).
Processed process_pending(store::Connection& db, const jobs::Engine& engine) {
    Processed p;
    jobs::Passes passes;
    passes.now_ms = wall_clock_ms;
    passes.seen = [&p](const store::InboxRecord&, jobs::RowOutcome outcome, std::int64_t) {
        if (outcome == jobs::RowOutcome::done) ++p.done;
        if (outcome == jobs::RowOutcome::ignored) ++p.ignored;
        if (outcome == jobs::RowOutcome::poison) ++p.poison;
    };
    jobs::process_pending(db, engine, passes);
    return p;
}

std::optional<Timestamp> since_time(const std::string& since) {
    const auto date = parse_iso_date(since);
    if (!date) return std::nullopt;
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::sys_days(*date));
}

} // namespace

int backfill_command(const config::Config& config, const BackfillCliOptions& o, std::ostream& out,
                     std::ostream& err) {
    jobs::BackfillOptions options{o.creator, std::nullopt, true, std::nullopt};
    if (!o.since.empty()) {
        options.since = since_time(o.since);
        if (!options.since) {
            err << "dunning: --since " << o.since << ": not a date (YYYY-MM-DD)\n";
            return 2;
        }
    }
    auto db = store::open_store(store_options(config.storage));
    const SystemClock clock;
    config::CreatorRegistry creators;
    seed_creators(*db, config, creators, secret_box(config.storage), clock.now());
    if (!creators.find(o.creator)) {
        err << "dunning: unknown creator " << o.creator << '\n';
        return 2;
    }
    retry::StripeClientOptions stripe_options;
    stripe_options.api_base = config.stripe.api_base;
    stripe_options.max_tries = 5;
    jobs::StripeGateway stripe(config, creators, std::move(stripe_options));
    jobs::BackfillHooks hooks;
    if (o.progress)
        hooks.on_page = [&err](const jobs::BackfillReport& r) {
            err << "page " << r.pages << ": " << r.fetched << " event(s) fetched\n";
        };
    const auto r = jobs::backfill_creator(*db, stripe, options, clock.now(), hooks);
    if (!r.ok()) {
        err << "dunning: backfill of " << o.creator << " failed: " << r.error
            << "; nothing was stored\n";
        return 1;
    }
    const jobs::Engine engine(config, creators, clock);
    const auto p = process_pending(*db, engine);
    out << "backfilled " << o.creator << " from " << iso8601(from_unix(r.created_gte)) << ": "
        << r.pages << " page(s), " << r.fetched << " event(s) fetched, " << r.inserted << " new, "
        << r.duplicates << " already stored, " << r.not_handled << " of types not handled; "
        << p.done << " processed, " << p.ignored << " ignored, " << p.poison << " poison\n";
    return p.poison > 0 ? 1 : 0;
}

} // namespace dunning::plugin
