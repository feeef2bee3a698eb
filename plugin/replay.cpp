#include "plugin/replay.hpp"

#include "jobs/inbox_processor.hpp"
#include "plugin/creator_seed.hpp"
#include "plugin/module.hpp"
#include "plugin/secrets.hpp"
#include "store/inbox.hpp"
#include "webhook/event_parser.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <fstream>
#include <ostream>
#include <stdexcept>

namespace dunning::plugin {

using jobs::Engine;
using jobs::RowOutcome;
using store::AppendOutcome;
using store::InboxRow;
using store::insert_inbox_row;
using store::open_store;

namespace {

using nlohmann::json;

class Progress {
  public:
    Progress(std::ostream& out, std::int64_t total, bool enabled)
        : out_(out), total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1),
          start_(std::chrono::steady_clock::now()) {}

    void update(const char* phase, std::int64_t done) {
        if (!enabled_ || total_ == 0) return;
        const int percent = static_cast<int>(done * 100 / total_);
        // On a terminal the bar moves each percent; in a log, a line each tenth.
        const int step = tty_ ? percent : percent / 10 * 10;
        if (step == last_percent_) return;
        last_percent_ = step;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        const int filled = percent / 5;
        out_ << (tty_ ? "\r" : "") << phase << " [" << std::string(filled, '#')
             << std::string(20 - filled, '.') << "] " << done << '/' << total_ << " (" << percent
             << "%, " << static_cast<std::int64_t>(secs > 0 ? done / secs : 0) << "/s)"
             << (tty_ ? "" : "\n") << std::flush;
    }
    void finish() {
        if (enabled_ && tty_ && total_ > 0) out_ << '\n';
        last_percent_ = -1;
    }

  private:
    std::ostream& out_;
    std::int64_t total_;
    bool enabled_, tty_;
    int last_percent_ = -1;
    std::chrono::steady_clock::time_point start_;
};

std::int64_t count_lines(const std::string& path) {
    std::ifstream in(path);
    std::int64_t n = 0;
    for (std::string line; std::getline(in, line);)
        ++n;
    return n;
}

// The events a line holds: one event, or the data of a `stripe events list` page.
std::vector<std::string> events_in(const std::string& line) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("object", "") == "list" && j.contains("data") &&
        j["data"].is_array()) {
        std::vector<std::string> out;
        for (const auto& e : j["data"])
            out.push_back(e.dump());
        return out;
    }
    return {line};
}

class Replayer {
  public:
    Replayer(const config::CreatorRegistry& c, const ReplayOptions& o, std::ostream& err,
             store::Connection& db)
        : creators_(c), options_(o), err_(err), db_(db) {}

    void add(const std::string& body, std::int64_t line_no, ReplayReport& r) {
        ++r.events;
        auto env = webhook::parse_envelope(body);
        if (!env) return reject(line_no, env.error(), r);
        const auto creator = env.value().account.empty()
                                 ? creators_.find(options_.creator)
                                 : creators_.find_by_account(env.value().account);
        if (!creator)
            return reject(line_no,
                          env.value().account.empty()
                              ? "event has no account; pass --creator"
                              : "no creator is connected with account " + env.value().account,
                          r);
        InboxRow row{creator->id,
                     env.value().id,
                     env.value().type,
                     env.value().account,
                     "replay",
                     body,
                     to_unix(env.value().created),
                     wall_clock_ms()};
        ++(insert_inbox_row(db_, row) == AppendOutcome::inserted ? r.inserted : r.duplicates);
    }

  private:
    void reject(std::int64_t line_no, const std::string& why, ReplayReport& r) {
        ++r.rejected;
        if (r.rejected <= 20) err_ << options_.events_path << ':' << line_no << ": " << why << '\n';
    }

    const config::CreatorRegistry& creators_;
    const ReplayOptions& options_;
    std::ostream& err_;
    store::Connection& db_;
};

// Effects (charges, emails) are queued as jobs for the service to carry out; rows a running
// service decides for are its to finish (jobs::process_pending).
void process_all(store::Connection& db, const Engine& engine, ReplayReport& r, Progress& progress,
                 std::int64_t total) {
    std::int64_t seen = 0;
    jobs::Passes passes;
    passes.now_ms = wall_clock_ms;
    passes.seen = [&](const store::InboxRecord&, RowOutcome outcome, std::int64_t) {
        if (outcome == RowOutcome::done) ++r.done;
        if (outcome == RowOutcome::ignored) ++r.ignored;
        if (outcome == RowOutcome::poison) ++r.poison;
        progress.update("processing", std::min(++seen, total));
    };
    jobs::process_pending(db, engine, passes);
}

} // namespace

ReplayReport replay(const config::Config& config, const ReplayOptions& o, std::ostream& err) {
    std::ifstream in(o.events_path);
    if (!in) throw std::runtime_error("cannot read " + o.events_path);
    auto db = open_store(store_options(config.storage));
    config::CreatorRegistry creators(config); // the file's, and those of the admin API
    add_api_creators(*db, config, creators, secret_box(config.storage));
    if (!o.creator.empty() && !creators.find(o.creator))
        throw std::runtime_error("unknown creator " + o.creator);
    ReplayReport r;
    Progress reading(err, count_lines(o.events_path), o.progress);
    Replayer replayer(creators, o, err, *db);
    // Commits every thousand lines so a running service's receiver is never held up long.
    auto tx = std::make_unique<store::Transaction>(*db);
    for (std::string line; std::getline(in, line);) {
        ++r.lines;
        if (line.find_first_not_of(" \t\r") != std::string::npos)
            for (const auto& body : events_in(line))
                replayer.add(body, r.lines, r);
        reading.update("reading", r.lines);
        if (r.lines % 1000 == 0) {
            tx->commit();
            tx = std::make_unique<store::Transaction>(*db);
        }
    }
    tx->commit();
    reading.finish();
    Progress processing(err, r.inserted, o.progress);
    const SystemClock clock;
    const Engine engine(config, creators, clock);
    process_all(*db, engine, r, processing, r.inserted);
    processing.finish();
    return r;
}

} // namespace dunning::plugin
