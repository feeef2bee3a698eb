// Lifecycle benchmark: N cases (default 100,000) live through the engine at the same time, in
// plugin mode, on a fake clock that jumps from one due moment to the next. Each case: first
// failure (invoice.payment_failed + payment_intent.payment_failed) → a Tick at every wake-up →
// each charge answered (declined until its scripted retry) → paid, or paid by invoice.paid after
// the final notice, or escalated after the three emails. Every case is then checked.
//   --mode memory: CaseStates in a std::vector, decide() only; --threads T (default 2), each
//                  thread owning 1/T of the cases and its own event queue.
//   --mode store:  through jobs::Engine::run_case on a real SQLite file, committed in batches
//                  as the service does (64 webhooks per commit as the inbox worker,
//                  run_due_timers for ticks, jobs::SettleBatch for charge results and emails
//                  sent); one thread, like the worker.
// Usage: lifecycle_bench [--mode memory|store] [--cases N] [--threads T] [--budget S]
//                        [--synchronous normal|full] [--checkpoints thread|commit] [--dir DIR]
//                        [--keep] [--pragma X]...
#include "bench/scheduler/bench_support.hpp"
#include "jobs/background_loop.hpp"
#include "jobs/engine.hpp"
#include "jobs/settle_batch.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/case_json.hpp"
#include "store/cases.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"
#include "store/sqlite_connection.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>

using namespace schedbench;
namespace fs = std::filesystem;

namespace {

const Timestamp base = from_unix(1'780'000'000);

enum class Kind : std::uint8_t { start, wake, paid };
struct Due {
    std::int64_t at;
    std::uint32_t index;
    Kind kind;
    bool operator>(const Due& o) const { return at > o.at; }
};
using DueQueue = std::priority_queue<Due, std::vector<Due>, std::greater<>>;

// ---- memory: the pure engine ---------------------------------------------------------------

class MemorySim {
  public:
    MemorySim(std::size_t first, std::size_t count, const CasePolicy& policy)
        : first_(first), states_(count), tracks_(count), queued_(count, 0), policy_(policy) {
        std::vector<Due> starts;
        starts.reserve(count);
        for (std::size_t k = 0; k < count; ++k) {
            states_[k].creator_id = creator;
            starts.push_back(
                {to_unix(start_of(first + k, base)), static_cast<std::uint32_t>(k), Kind::start});
        }
        queue_ = DueQueue(std::greater<>(), std::move(starts));
    }

    void run() {
        while (!queue_.empty()) {
            const Due d = queue_.top();
            queue_.pop();
            const auto now = from_unix(d.at);
            const std::size_t i = first_ + d.index;
            switch (d.kind) {
            case Kind::start:
                feed(d.index, invoice_failed(i, now), now);
                feed(d.index, payment_failed(i, now), now);
                if (plan_for(i).fate == Fate::paid_after_final)
                    queue_.push({to_unix(now + paid_delay), d.index, Kind::paid});
                break;
            case Kind::wake:
                if (states_[d.index].next_wakeup == now) feed(d.index, Tick{}, now); // else stale
                break;
            case Kind::paid:
                feed(d.index, invoice_paid(i, now), now);
                break;
            }
        }
        for (std::size_t k = 0; k < states_.size(); ++k)
            check_case(first_ + k, states_[k], tracks_[k], policy_, totals_);
    }

    const Totals& totals() const { return totals_; }

  private:
    // One input from outside, then the charge answers it provokes, then the next wake-up.
    void feed(std::uint32_t k, const CaseInput& input, Timestamp now) {
        decide_one(k, input, now);
        const auto& wake = states_[k].next_wakeup;
        if (wake && to_unix(*wake) != queued_[k]) {
            queued_[k] = to_unix(*wake);
            queue_.push({queued_[k], k, Kind::wake});
        }
    }

    void decide_one(std::uint32_t k, const CaseInput& input, Timestamp now) {
        auto d = decide(std::move(states_[k]), input, now, policy_);
        states_[k] = std::move(d.next);
        ++totals_.inputs;
        for (const auto& e : d.effects)
            count(tracks_[k], e);
        // The dispatchers answer a charge, and report an email sent, before the next tick.
        for (const auto& e : d.effects) {
            if (const auto* c = std::get_if<ChargeInvoice>(&e))
                decide_one(k, charge_answer(first_ + k, c->attempt, now), now);
            else if (const auto* m = std::get_if<SendEmail>(&e); m && goes_out(states_[k], *m))
                decide_one(k, EmailSent{m->message, m->stage}, now);
        }
    }

    std::size_t first_;
    std::vector<CaseState> states_;
    std::vector<Track> tracks_;
    std::vector<std::int64_t> queued_; // the wake-up last put in the queue, per case
    const CasePolicy& policy_;
    DueQueue queue_;
    Totals totals_;
};

// ---- store: the service's path -------------------------------------------------------------

class StoreSim {
  public:
    StoreSim(store::Connection& db, const jobs::Engine& engine, FakeClock& clock, std::size_t cases,
             double budget_s, bool by_invoice)
        : db_(db), engine_(engine), clock_(clock), budget_s_(budget_s), by_invoice_(by_invoice) {
        std::vector<Due> starts;
        starts.reserve(cases);
        for (std::size_t i = 0; i < cases; ++i)
            starts.push_back(
                {to_unix(start_of(i, base)), static_cast<std::uint32_t>(i), Kind::start});
        events_ = DueQueue(std::greater<>(), std::move(starts));
    }

    // Returns false when the time budget ran out first.
    bool run() {
        Stopwatch wall;
        for (;;) {
            const auto next = next_moment();
            if (!next) return true;
            if (budget_s_ > 0 && wall.seconds() > budget_s_) return false;
            clock_.set(*next);
            ++steps_;
            deliver_due(to_unix(*next));
            // The worker's drain loop: timers, then the charges and emails they queued, until
            // quiet.
            for (;;) {
                const auto ticks = jobs::run_due_timers(db_, engine_, engine_.clock().now());
                inputs_ += ticks;
                const auto charged =
                    dispatch_charges(); // before the emails, as Stripe answers first
                if (ticks + charged + dispatch_emails() == 0) break;
            }
        }
    }

    std::uint64_t inputs() const { return inputs_; }
    std::uint64_t steps() const { return steps_; }

  private:
    std::optional<Timestamp> next_moment() {
        auto st =
            db_.prepare("SELECT min(next_wakeup_at) FROM cases WHERE next_wakeup_at IS NOT NULL");
        st->step();
        std::optional<std::int64_t> t;
        if (!st->is_null(0)) t = st->int64_at(0);
        if (!events_.empty() && (!t || events_.top().at < *t)) t = events_.top().at;
        if (!t) return std::nullopt;
        return from_unix(*t);
    }

    // The webhooks of this moment, as the inbox worker takes them: up to 64 per commit, each
    // under its own savepoint (process_rows in jobs/inbox_processor.cpp).
    void deliver_due(std::int64_t now) {
        while (!events_.empty() && events_.top().at <= now) {
            store::Transaction tx(db_);
            for (int k = 0; k < 64 && !events_.empty() && events_.top().at <= now; ++k) {
                const Due d = events_.top();
                events_.pop();
                deliver(d);
            }
            tx.commit();
        }
    }

    // A webhook, as the inbox worker applies it (route_event in jobs/inbox_processor.cpp).
    void apply_event(const Event& e) {
        store::Savepoint unit(db_);
        std::optional<store::CaseRecord> c;
        if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) {
            c = store::find_case_by_invoice(db_, creator, inv->invoice_id);
            if (!c) {
                c = store::CaseRecord{};
                c->state.creator_id = creator;
            }
        } else if (by_invoice_) { // what an indexed lookup costs: see README,
                                  // "find_case_by_payment"
            const auto& p = std::get<PaymentFacts>(e.facts); // "pi_b00001234" → "in_b00001234"
            c = store::find_case_by_invoice(db_, creator,
                                            id("in_b", index_of(p.payment_intent_id)));
        } else {
            const auto& p = std::get<PaymentFacts>(e.facts);
            c = store::find_case_by_payment(db_, creator, p.payment_intent_id, p.charge_id);
        }
        if (!c) throw std::logic_error("payment event for an unknown case: " + e.id);
        engine_.run_case(db_, *c, e);
        ++inputs_;
    }

    void deliver(const Due& d) {
        const auto now = from_unix(d.at);
        if (d.kind == Kind::paid) return apply_event(invoice_paid(d.index, now));
        apply_event(invoice_failed(d.index, now));
        apply_event(payment_failed(d.index, now));
        if (plan_for(d.index).fate == Fate::paid_after_final)
            events_.push({to_unix(now + paid_delay), d.index, Kind::paid});
    }

    // What dispatch_due does for charges, with Stripe's answer scripted: read the case, "call
    // Stripe", then finish the job and feed the result to the case, committed in batches
    // (jobs::SettleBatch, as the dispatcher does).
    std::size_t dispatch_charges() {
        std::size_t n = 0;
        const auto now = clock_.now();
        jobs::SettleBatch batch(db_);
        for (const auto& job : queue_.claim(db_, store::JobKind::charge, now, 100)) {
            batch.before(job.case_id);
            auto c = store::load_case(db_, job.case_id.value_or(0));
            if (!c) throw std::logic_error("charge for a missing case");
            const auto& charge = std::get<store::ChargeJob>(job.payload);
            const int attempt = charge.attempt;
            const auto i = index_of(charge.invoice_id);
            ChargeResult result = charge_answer(i, attempt, now);
            if (!c->state.is_open()) {
                result = ChargeResult{};
                result.attempt = attempt;
                result.kind = ChargeResult::Kind::abandoned;
            }
            batch.add(c->id, "charge", [this, job, now, result, id = c->id](store::Connection& db) {
                store::finish_job(db, job, "done", "simulated", now);
                if (auto fresh = store::load_case(db, id)) engine_.run_case(db, *fresh, result);
            });
            ++n;
        }
        batch.flush();
        inputs_ += n;
        return n;
    }

    // What the mail dispatcher does, with every send accepted: a failure email of a case still
    // open goes out and the case hears of it; one of a closed case is cancelled.
    std::size_t dispatch_emails() {
        std::size_t n = 0;
        const auto now = clock_.now();
        jobs::SettleBatch batch(db_);
        for (const auto& job : queue_.claim(db_, store::JobKind::email, now, 100)) {
            batch.before(job.case_id);
            auto c = store::load_case(db_, job.case_id.value_or(0));
            if (!c) throw std::logic_error("email for a missing case");
            const auto& payload = std::get<store::EmailJob>(job.payload);
            const SendEmail email{payload.message, payload.stage};
            const bool sent = email.message == "payment_received" || goes_out(c->state, email);
            batch.add(c->id, "email",
                      [this, job, now, sent, email, id = c->id](store::Connection& db) {
                          store::finish_job(db, job, sent ? "done" : "cancelled", "simulated", now);
                          if (!sent || email.message == "payment_received") return;
                          if (auto fresh = store::load_case(db, id))
                              engine_.run_case(db, *fresh, EmailSent{email.message, email.stage});
                      });
            ++n;
        }
        batch.flush();
        inputs_ += n;
        return n;
    }

    store::Connection& db_;
    const jobs::Engine& engine_;
    FakeClock& clock_;
    double budget_s_;
    bool by_invoice_;
    DueQueue events_;
    store::JobQueue queue_;
    std::uint64_t inputs_ = 0, steps_ = 0;
};

// Reads every case and its jobs back and checks the finished ones.
Totals check_store(store::Connection& db, const CasePolicy& policy, std::uint64_t inputs) {
    std::unordered_map<std::int64_t, Track> tracks;
    // Platform notifications name their case in the body; access.* ones are not simulated in
    // memory mode, so they are left out of the counts.
    auto rows = db.prepare(
        "SELECT coalesce(case_id, json_extract(payload, '$.data.case.id')), kind, payload "
        "FROM jobs WHERE case_id IS NOT NULL OR json_extract(payload, '$.type') LIKE 'case.%'");
    while (rows->step()) {
        const auto payload = nlohmann::json::parse(rows->text_at(2));
        auto& t = tracks[rows->int64_at(0)];
        const std::string kind(rows->text_at(1));
        if (kind == "charge") {
            ++t.n[c_charge];
            t.max_attempt = std::max(t.max_attempt, payload.at("attempt").get<int>());
        } else {
            const bool email = kind == "email";
            const std::string msg = payload.value(email ? "message" : "type", "");
            ++t.n[counter_of(kind == "platform_notification" ? "notify_host" : kind, msg,
                             payload.value("stage", 0))];
        }
    }
    Totals totals;
    totals.inputs = inputs;
    std::uint64_t unfinished = 0;
    auto cases = db.prepare("SELECT id, state FROM cases");
    while (cases->step()) {
        const auto s = store::state_from_json(nlohmann::json::parse(cases->text_at(1)));
        if (s.next_wakeup || (s.is_open() && !s.escalated_at)) {
            ++unfinished;
            continue;
        }
        check_case(index_of(s.invoice.invoice_id), s, tracks[cases->int64_at(0)], policy, totals);
    }
    if (unfinished)
        std::printf("  %llu cases still in progress (not checked)\n",
                    static_cast<unsigned long long>(unfinished));
    return totals;
}

void report(const char* mode, std::size_t cases, int threads, double secs, double cpu,
            const Totals& t) {
    std::printf("lifecycle_bench --mode %s: %zu cases, %d thread(s): %.2f s wall (%.2f s CPU), "
                "%llu inputs, "
                "%.0f inputs/s, %.0f finished cases/s, peak RSS %.1f MiB\n",
                mode, cases, threads, secs, cpu, static_cast<unsigned long long>(t.inputs),
                static_cast<double>(t.inputs) / secs, static_cast<double>(t.cases_checked) / secs,
                peak_rss_mib());
    print_totals(t);
    std::printf(
        "RESULT lifecycle_%s cases=%zu finished=%llu threads=%d wall_s=%.2f cpu_s=%.2f inputs=%llu "
        "inputs_per_s=%.0f inputs_per_cpu_s=%.0f peak_rss_mib=%.1f violations=%llu\n",
        mode, cases, static_cast<unsigned long long>(t.cases_checked), threads, secs, cpu,
        static_cast<unsigned long long>(t.inputs), static_cast<double>(t.inputs) / secs,
        static_cast<double>(t.inputs) / cpu, peak_rss_mib(),
        static_cast<unsigned long long>(t.violations));
}

int run_memory(std::size_t cases, int threads, const CasePolicy& policy) {
    Stopwatch wall;
    const double cpu0 = cpu_seconds();
    std::vector<std::unique_ptr<MemorySim>> sims(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k) {
        const std::size_t from =
            cases * static_cast<std::size_t>(k) / static_cast<std::size_t>(threads);
        const std::size_t to =
            cases * static_cast<std::size_t>(k + 1) / static_cast<std::size_t>(threads);
        pool.emplace_back([&, k, from, to] {
            sims[static_cast<std::size_t>(k)] =
                std::make_unique<MemorySim>(from, to - from, policy);
            sims[static_cast<std::size_t>(k)]->run();
        });
    }
    for (auto& t : pool)
        t.join();
    const double secs = wall.seconds();
    Totals totals;
    for (const auto& s : sims)
        totals.add(s->totals());
    report("memory", cases, threads, secs, cpu_seconds() - cpu0, totals);
    return totals.violations == 0 && totals.cases_checked == cases ? 0 : 1;
}

int run_store(std::size_t cases, double budget, const std::string& synchronous, bool by_invoice,
              std::string dir, bool keep, const std::vector<std::string>& pragmas,
              bool checkpoint_thread) {
    if (dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "lifebench-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) return 1;
        dir = tmpl;
    }
    const store::StoreOptions store{(fs::path(dir) / "dunning.db").string(), synchronous};
    const auto config = bench_config();
    FakeClock clock(base);
    jobs::Engine engine(config, clock);
    auto db = store::open_store(store);
    for (const auto& p : pragmas) // what a setting of the store would change, before it is one
        db->exec("PRAGMA " + p);
    // As the service: the WAL is copied into the file on a thread of its own (its CPU time counts
    // in the run's), unless --checkpoints commit leaves that to the commits.
    std::optional<store::WalCheckpointer> checkpointer;
    jobs::BackgroundLoop checkpoints; // stops before the checkpointer goes
    if (checkpoint_thread) {
        checkpointer.emplace(store, store::WalCheckpointer::Options{});
        checkpoints.start(
            "WAL checkpoint", [&] { checkpointer->round(); }, {}, store::WalCheckpointer::period);
    }
    StoreSim sim(*db, engine, clock, cases, budget, by_invoice);
    // What the run asked of SQLite, which the machine's load does not change: commits, pages
    // written to the WAL, statement steps.
    db->engine_work(true);
    db->statement_steps(true);
    Stopwatch wall;
    const double cpu0 = cpu_seconds();
    const bool finished = sim.run();
    const double secs = wall.seconds(), cpu = cpu_seconds() - cpu0;
    checkpoints.stop();
    const auto work = db->engine_work();
    const auto steps = db->statement_steps();
    if (!finished)
        std::printf("  time budget of %.0f s ran out after %llu clock steps; simulated up to %s\n",
                    budget, static_cast<unsigned long long>(sim.steps()),
                    dunning::iso8601(clock.now()).c_str());
    std::printf(
        "  store: %s (synchronous=%s, payment events found %s, WAL checkpoints %s), %.0f MiB, "
        "%llu clock steps\n",
        store.path.c_str(), synchronous.c_str(),
        by_invoice ? "by invoice id" : "by find_case_by_payment",
        checkpoint_thread ? "on their own thread" : "by the commits",
        static_cast<double>(fs::file_size(store.path)) / 1048576.0,
        static_cast<unsigned long long>(sim.steps()));
    auto totals = check_store(*db, engine.policy_for(creator), sim.inputs());
    report("store", cases, 1, secs, cpu, totals);
    const auto per_input = [&](double x) { return x / static_cast<double>(sim.inputs()); };
    std::printf("RESULT lifecycle_store_work synchronous=%s lookup=%s commits_per_input=%.3f "
                "pages_written_per_input=%.2f statement_steps_per_input=%.0f\n",
                synchronous.c_str(), by_invoice ? "by_invoice" : "by_payment",
                per_input(static_cast<double>(work.commits)),
                per_input(static_cast<double>(work.pages_written)),
                per_input(static_cast<double>(steps)));
    db.reset();
    if (!keep) fs::remove_all(dir);
    return totals.violations == 0 && (!finished || totals.cases_checked == cases) ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"lifecycle benchmark"};
    std::string mode = "memory", synchronous = "normal", lookup = "payment", dir,
                checkpoints = "thread";
    std::size_t cases = 100'000;
    int threads = 2;
    double budget = 0;
    bool keep = false;
    app.add_option("--mode", mode, "memory or store")->check(CLI::IsMember({"memory", "store"}));
    app.add_option("--cases", cases, "cases to simulate");
    app.add_option("--threads", threads, "memory mode: threads, each owning 1/T of the cases")
        ->check(CLI::Range(1, 64));
    app.add_option("--budget", budget,
                   "store mode: stop after this many seconds (0: run to the end)");
    app.add_option("--synchronous", synchronous, "store mode: normal or full")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--payment-lookup", lookup,
                   "store mode: how a payment_intent event finds its case: payment (the service's "
                   "find_case_by_payment) or invoice (an indexed lookup, for comparison)")
        ->check(CLI::IsMember({"payment", "invoice"}));
    app.add_option("--checkpoints", checkpoints,
                   "store mode: thread (the service's WalCheckpointer) or commit (SQLite's own, "
                   "on the committing thread past 10,000 pages)")
        ->check(CLI::IsMember({"thread", "commit"}));
    app.add_option("--dir", dir,
                   "store mode: directory for the database (default: a fresh temp dir)");
    app.add_flag("--keep", keep, "store mode: keep the database");
    std::vector<std::string> pragmas;
    app.add_option("--pragma", pragmas,
                   "store mode: run `PRAGMA X` on the store after opening it (repeatable), e.g. "
                   "wal_autocheckpoint=10000; none by default: the service's settings");
    CLI11_PARSE(app, argc, argv);
    if (cases == 0 || cases > 99'999'999) return 2;
    try {
        if (mode == "memory") {
            const auto policy = jobs::policy_from_config(bench_config().creators.front());
            return run_memory(cases, threads, policy);
        }
        return run_store(cases, budget, synchronous, lookup == "invoice", dir, keep, pragmas,
                         checkpoints == "thread");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lifecycle_bench: %s\n", e.what());
        return 1;
    }
}
