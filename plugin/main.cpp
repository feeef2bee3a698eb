// The `dunning` command line: serve, check-config, replay, backfill, preview, secrets rotate-key,
// migrate-store.
#include "config/config.hpp"
#include "plugin/backfill.hpp"
#include "plugin/migrate_store.hpp"
#include "plugin/module.hpp"
#include "plugin/preview.hpp"
#include "plugin/replay.hpp"
#include "plugin/secrets.hpp"
#include "telemetry/log.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <thread>

namespace {

using namespace dunning;

std::optional<config::Config> load(const std::string& path) {
    auto loaded = config::load_config(path);
    if (loaded) return std::move(loaded).value();
    for (const auto& problem : loaded.error())
        std::cerr << problem << '\n';
    std::cerr << "dunning: " << loaded.error().size() << " problem(s) in " << path << '\n';
    return std::nullopt;
}

// 50000 thousandths → "50.00"; a third decimal only when it is set.
std::string major_amount(std::int64_t milli) {
    std::string out = std::to_string(milli / 1000) + "." + std::to_string(milli % 1000 / 100) +
                      std::to_string(milli % 100 / 10);
    return milli % 10 ? out + std::to_string(milli % 10) : out;
}

// What becomes of a claim that is still unpaid when the creator's dunning ends.
std::string escalation_summary(const dunning::EscalationPolicy& p) {
    const std::string rest = p.auto_handover ? "the rest marked for handover (handover_pending)"
                                             : "the rest escalated for the creator's decision";
    if (p.write_off_below_milli == 0) return "nothing written off, " + rest;
    return "written off below " + major_amount(p.write_off_below_milli) + " (invoice currency), " +
           rest;
}

// The catalogue number claims are filed under, and the products that override it.
std::string court_claim_summary(const dunning::config::CreatorConfig& creator) {
    std::string out = std::to_string(creator.escalation.court_claim_type);
    for (const auto& p : creator.products)
        if (p.court_claim_type)
            out += ", " + p.stripe_product + ": " + std::to_string(*p.court_claim_type);
    return out;
}

int check_config(const std::string& path) {
    const auto c = load(path);
    if (!c) return 2;
    std::cout << path << ": OK — " << c->creators.size() << " creator(s), listen "
              << c->server.listen << ", database " << dunning::plugin::store_name(c->storage)
              << '\n';
    for (const auto& creator : c->creators)
        std::cout << "  " << creator.id
                  << ": unpaid after dunning: " << escalation_summary(creator.escalation.policy)
                  << "; promise to pay: "
                  << (c->server.promise_links()
                          ? "up to " + std::to_string(creator.escalation.policy.promise_max_days) +
                                " days ahead"
                          : std::string("no link (set [server] public_url and link_secret)"))
                  << "; while an objection stands: access "
                  << (creator.access.policy.grant_on_objection ? "granted" : "unchanged")
                  << "; court dunning claim type " << court_claim_summary(creator) << '\n';
    return 0;
}

// SIGHUP reads the configuration file again (Module::reload). SIGINT/SIGTERM stop the server;
// the Module then commits what it holds and closes. A file
// size limit reached (SIGXFSZ) is a failed write the store answers like a full disk, not the
// end of the process.
int serve(const std::string& path, bool test_clock, long long clock_start, bool backfill_at_start) {
    auto c = load(path);
    if (!c) return 2;
    std::signal(SIGXFSZ, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::unique_ptr<plugin::Module> module;
    try {
        plugin::ModuleOptions options{test_clock, from_unix(clock_start), backfill_at_start};
        if (test_clock && clock_start == 0) options.test_clock_start = plugin::SystemClock().now();
        module = std::make_unique<plugin::Module>(std::move(*c), options);
    } catch (const std::exception& e) {
        std::cerr << "dunning: " << e.what() << '\n';
        return 1;
    }
    if (test_clock)
        telemetry::log_warn("test clock enabled: POST /v1/test-clock/advance moves time");
    std::thread waiter([&] {
        for (int sig = 0; sigwait(&signals, &sig) == 0;) {
            if (sig == SIGHUP) {
                telemetry::log_info("SIGHUP: reading " + path + " again");
                module->reload(path);
                continue;
            }
            telemetry::log_info("stopping");
            module->stop();
            return;
        }
    });
    const bool ok = module->serve();
    if (!ok) {
        std::cerr << "dunning: cannot listen on " << module->config().server.listen << '\n';
        kill(getpid(), SIGTERM);
    }
    waiter.join();
    module.reset();
    return ok ? 0 : 1;
}

int replay(const std::string& path, const plugin::ReplayOptions& options) {
    auto c = load(path);
    if (!c) return 2;
    try {
        const auto r = plugin::replay(*c, options, std::cerr);
        std::cout << "replayed " << r.events << " event(s) from " << r.lines
                  << " line(s): " << r.inserted << " new, " << r.duplicates << " already stored, "
                  << r.rejected << " rejected; " << r.done << " processed, " << r.ignored
                  << " ignored, " << r.poison << " poison\n";
        return r.rejected > 0 || r.poison > 0 ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "dunning: " << e.what() << '\n';
        return 1;
    }
}

int backfill(const std::string& path, const plugin::BackfillCliOptions& options) {
    auto c = load(path);
    if (!c) return 2;
    try {
        return plugin::backfill_command(*c, options, std::cout, std::cerr);
    } catch (const std::exception& e) {
        std::cerr << "dunning: " << e.what() << '\n';
        return 1;
    }
}

int preview(const std::string& path, const plugin::PreviewOptions& options) {
    auto c = load(path);
    if (!c) return 2;
    try {
        plugin::preview(*c, options, std::cout);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "dunning: " << e.what() << '\n';
        return 1;
    }
}

int rotate_key(const std::string& path, const plugin::RotateKeyOptions& options) {
    auto c = load(path);
    if (!c) return 2;
    try {
        return plugin::rotate_key(*c, options, std::cout, std::cerr);
    } catch (const std::exception& e) {
        std::cerr << "dunning: " << e.what() << "; nothing was changed\n";
        return 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"dunning: recovers failed Stripe membership payments (webhooks, retries, dunning "
                 "emails, course access)"};
    app.require_subcommand(1);
    app.footer("The store is the SQLite file [storage] sqlite_path (default dunning.db beside the "
               "configuration), or the PostgreSQL database [storage] postgres_url "
               "(\"postgresql://user:${ENV}@host/db\", \"${NAME}\" taken from the environment); "
               "the two exclude each other. See README, Configuration.");
    std::string config_path;

    auto* serve_cmd =
        app.add_subcommand("serve", "Run the service: webhook receiver, worker, creator and access "
                                    "API (handovers to collection agencies, court dunning data), "
                                    "the members' promise-to-pay page (/promise/…), "
                                    "notifications to the platform");
    serve_cmd->add_option("--config", config_path, "TOML configuration file")->required();
    bool test_clock = false;
    long long clock_start = 0;
    serve_cmd->add_flag(
        "--test-clock", test_clock,
        "Use a clock moved by POST /v1/test-clock/advance (tests only, never production)");
    serve_cmd->add_option("--test-clock-start", clock_start,
                          "Unix time the test clock starts at (default: now)");
    bool no_backfill = false;
    serve_cmd->add_flag("--no-backfill", no_backfill,
                        "Do not fetch, at start, the events Stripe kept since each creator's "
                        "newest stored event (see `dunning backfill`)");

    auto* check_cmd = app.add_subcommand(
        "check-config", "Validate a configuration file, print each creator's end-of-dunning rule "
                        "and court dunning claim type, and exit");
    check_cmd->add_option("--config", config_path, "TOML configuration file")->required();

    plugin::ReplayOptions replay_options;
    auto* replay_cmd = app.add_subcommand(
        "replay",
        "Feed exported Stripe events (JSON lines) through the same processing as webhooks");
    replay_cmd->add_option("--config", config_path, "TOML configuration file")->required();
    replay_cmd
        ->add_option("events", replay_options.events_path,
                     "File with one event per line, e.g. from `stripe events list`")
        ->required()
        ->check(CLI::ExistingFile);
    replay_cmd->add_option("--creator", replay_options.creator,
                           "Creator id for events that carry no Connect account");
    bool no_progress = false;
    replay_cmd->add_flag("--no-progress", no_progress, "Do not draw the progress bar");

    plugin::BackfillCliOptions backfill_options;
    auto* backfill_cmd = app.add_subcommand(
        "backfill",
        "Fetch a creator's events from Stripe's Events API (GET /v1/events, 100 a page; Stripe "
        "keeps 30 days) and process them exactly as their webhooks: events already stored are "
        "skipped, so a rerun adds nothing. Starts at --since, else at the newest event stored for "
        "the creator, else 30 days back. Shows pages and events fetched, new and already stored; "
        "exits 1 with Stripe's message when Stripe fails after retries (429 and 5xx are retried "
        "with backoff), storing nothing then. Safe while the service runs on the same database.");
    backfill_cmd->add_option("--config", config_path, "TOML configuration file")->required();
    backfill_cmd
        ->add_option("--creator", backfill_options.creator,
                     "Creator id (its own Stripe key, or the platform key for its stripe_account)")
        ->required();
    backfill_cmd->add_option("--since", backfill_options.since,
                             "YYYY-MM-DD (UTC): fetch events created from this day on, at most "
                             "30 days back");
    bool backfill_quiet = false;
    backfill_cmd->add_flag("--no-progress", backfill_quiet, "Do not show each page fetched");

    plugin::PreviewOptions preview_options;
    auto* preview_cmd = app.add_subcommand(
        "preview", "Show a dunning email as a member would receive it (sample data)");
    preview_cmd->add_option("--config", config_path, "TOML configuration file")->required();
    preview_cmd->add_option("--creator", preview_options.creator, "Creator id")->required();
    preview_cmd
        ->add_option("--stage", preview_options.stage,
                     "Ladder stage 1..N, or a message: reminder, formal_reminder, final_notice, "
                     "action_required, update_payment_method, payment_received, card_expiring")
        ->required();
    preview_cmd->add_option("--locale", preview_options.locale,
                            "de or en (default: the creator's)");
    preview_cmd->add_option("--html", preview_options.html_path,
                            "Also write the HTML part to this file");

    plugin::RotateKeyOptions rotate_options;
    auto* secrets_cmd = app.add_subcommand("secrets", "Creators' secrets sealed in the database");
    secrets_cmd->require_subcommand(1);
    auto* rotate_cmd = secrets_cmd->add_subcommand(
        "rotate-key",
        "Re-seal every stored secret under a new key (AES-256-GCM), in one transaction. The "
        "values are opened with [storage] secrets_key and previous_secrets_keys; rows already "
        "under the new key are skipped, so it is safe to run again. The new key (32 bytes, "
        "standard base64, e.g. `openssl rand -base64 32`) is read from an environment variable "
        "or a file, never the command line (it would show in ps). Prints what to change in the "
        "configuration afterwards.");
    rotate_cmd->add_option("--config", config_path, "TOML configuration file")->required();
    auto* env_opt = rotate_cmd->add_option("--new-key-env", rotate_options.new_key_env,
                                           "Name of the environment variable holding the new key");
    rotate_cmd
        ->add_option("--new-key-file", rotate_options.new_key_file,
                     "File holding the new key (readable by the operator only)")
        ->check(CLI::ExistingFile)
        ->excludes(env_opt);

    plugin::MigrateStoreOptions migrate_options;
    auto* migrate_cmd = app.add_subcommand(
        "migrate-store",
        "Copy a SQLite store into PostgreSQL: every table, every row (secrets stay sealed as "
        "stored), in one PostgreSQL transaction, so a failure leaves the database as it was. Both "
        "stores are opened as the service opens them: the SQLite file is brought to the latest "
        "schema, an empty PostgreSQL database gets it. Rows are upserted by primary key and "
        "PostgreSQL's rows that SQLite no longer holds are deleted: a rerun brings over what is "
        "new, changed or deleted in the SQLite store since (the old installation may keep "
        "running meanwhile). Refuses a PostgreSQL database holding events SQLite does not (a "
        "service ran on it). Shows \"table: N rows\" as each table is done, then each table's "
        "rows on both sides; after a committed copy, gathers PostgreSQL's statistics (ANALYZE); "
        "exits 1 (rolled back) when a table of PostgreSQL would hold another "
        "number of rows than SQLite's, 2 on bad arguments. No --config: the stores are named "
        "here.");
    migrate_cmd
        ->add_option("--from", migrate_options.from,
                     "sqlite:PATH, the SQLite store to copy (it must exist)")
        ->required();
    migrate_cmd
        ->add_option("--to", migrate_options.to,
                     "postgresql://user:${PGPASSWORD}@host/db (\"${NAME}\" taken from the "
                     "environment, so the password stays off the command line; shown as ***)")
        ->required();

    CLI11_PARSE(app, argc, argv);
    if (*migrate_cmd) return plugin::migrate_store_command(migrate_options, std::cout, std::cerr);
    if (*rotate_cmd) return rotate_key(config_path, rotate_options);
    if (*preview_cmd) return preview(config_path, preview_options);
    if (*backfill_cmd) {
        backfill_options.progress = !backfill_quiet;
        return backfill(config_path, backfill_options);
    }
    if (*serve_cmd) return serve(config_path, test_clock, clock_start, !no_backfill);
    if (*check_cmd) return check_config(config_path);
    replay_options.progress = !no_progress;
    return replay(config_path, replay_options);
}
