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
//   --postgres-url URL [--instances N]: the store on an empty PostgreSQL database instead,
//                  with N instances of the service on it (a connection and a thread each,
//                  meeting between moments of the clock).
//                  The webhooks of a moment are applied as on SQLite, in transactions that take
//                  the store's whole write lock (the service's inbox worker takes it shared
//                  with a lock per member on PostgreSQL); they are about 2 of 13 inputs a case.
// Usage: lifecycle_bench [--mode memory|store] [--cases N] [--threads T] [--budget S]
//                        [--synchronous normal|full] [--checkpoints thread|commit] [--dir DIR]
//                        [--keep] [--pragma X]... [--postgres-url URL [--instances N]]
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
#include "store/statement.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <filesystem>
#include <mutex>
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

// One instance of the service on the store: its connection, its job queue (a run of its own,
// as another process's would be), and the webhooks the load balancer gives it.
struct Instance {
    store::Connection& db;
    store::JobQueue queue;
    DueQueue events;
    std::uint64_t inputs = 0;
};

class StoreSim {
  public:
    // One instance per connection. Case i's webhooks go to instance i % N; timers, charges and
    // emails go to whichever instance claims them first, as they do between real instances.
    StoreSim(const std::vector<store::Connection*>& dbs, store::Connection& moments,
             const jobs::Engine& engine, FakeClock& clock, std::size_t cases, double budget_s,
             bool by_invoice)
        : moments_(moments), engine_(engine), clock_(clock), budget_s_(budget_s),
          by_invoice_(by_invoice) {
        for (auto* db : dbs)
            instances_.push_back(std::make_unique<Instance>(Instance{*db, {}, {}, 0}));
        std::vector<std::vector<Due>> starts(instances_.size());
        for (std::size_t i = 0; i < cases; ++i)
            starts[i % starts.size()].push_back(
                {to_unix(start_of(i, base)), static_cast<std::uint32_t>(i), Kind::start});
        for (std::size_t k = 0; k < instances_.size(); ++k)
            instances_[k]->events = DueQueue(std::greater<>(), std::move(starts[k]));
    }

    // Returns false when the time budget ran out first. The clock jumps to the next due moment;
    // every instance then works the moment until it finds nothing left (its webhooks, then
    // timers, charges and emails until quiet), and the next moment starts once all have. With
    // one instance this runs on the calling thread alone; with more, each has a thread of its
    // own and they meet at a barrier between moments.
    bool run() {
        Stopwatch wall;
        bool done = false, finished = false;
        std::exception_ptr error;
        std::mutex error_mutex;
        const auto advance = [&]() noexcept {
            if (error) {
                done = true;
                return;
            }
            try {
                const auto next = next_moment();
                if (!next) {
                    done = finished = true;
                    return;
                }
                if (budget_s_ > 0 && wall.seconds() > budget_s_) {
                    done = true;
                    return;
                }
                clock_.set(*next);
                ++steps_;
            } catch (...) {
                error = std::current_exception();
                done = true;
            }
        };
        std::barrier sync(static_cast<std::ptrdiff_t>(instances_.size()), advance);
        const auto work = [&](Instance& in) {
            sync.arrive_and_wait(); // the first moment
            while (!done) {
                try {
                    work_moment(in);
                } catch (...) {
                    std::lock_guard lock(error_mutex);
                    if (!error) error = std::current_exception();
                    failed_ = true; // an instance waiting for this one's charge stops waiting
                }
                sync.arrive_and_wait();
            }
        };
        std::vector<std::jthread> others;
        for (std::size_t k = 1; k < instances_.size(); ++k)
            others.emplace_back([&, k] { work(*instances_[k]); });
        work(*instances_[0]);
        others.clear(); // joins
        if (error) std::rethrow_exception(error);
        return finished;
    }

    std::uint64_t inputs() const {
        std::uint64_t n = 0;
        for (const auto& in : instances_)
            n += in->inputs;
        return n;
    }
    std::uint64_t steps() const { return steps_; }

  private:
    void work_moment(Instance& in) {
        const auto now = clock_.now();
        deliver_due(in, to_unix(now));
        // The worker's drain loop: timers, then the charges and emails they queued, until quiet.
        for (;;) {
            const auto ticks = jobs::run_due_timers(in.db, engine_, now);
            in.inputs += ticks;
            const auto charged = dispatch_charges(in); // before the emails, as Stripe answers first
            bool gave_back = false; // emails waiting for another instance's charge: look again
            const auto done = ticks + charged + dispatch_emails(in, gave_back);
            if (done == 0 && !gave_back) break;
            if (done == 0) { // only waiting: another instance is settling the charge
                if (instances_.size() == 1 || failed_)
                    throw std::logic_error("an email waits for a charge no instance answers");
                std::this_thread::sleep_for(std::chrono::microseconds{200});
            }
        }
    }

    std::optional<Timestamp> next_moment() {
        // Cached, as the service's own statements are: parsing it at every moment was 3.6 % of
        // the store mode's time (2,000 cases), which is the harness's, not the service's. On a
        // connection of its own, so that the instances' statement steps leave it out.
        store::CachedStatement st(
            moments_, "SELECT min(next_wakeup_at) FROM cases WHERE next_wakeup_at IS NOT NULL");
        st.executeStep();
        std::optional<std::int64_t> t;
        if (!st.getColumn(0).isNull()) t = st.getColumn(0).getInt64();
        for (const auto& in : instances_)
            if (!in->events.empty() && (!t || in->events.top().at < *t)) t = in->events.top().at;
        if (!t) return std::nullopt;
        return from_unix(*t);
    }

    // The webhooks of this moment, as the inbox worker takes them: up to 64 per commit, each
    // under its own savepoint (process_rows in jobs/inbox_processor.cpp).
    void deliver_due(Instance& in, std::int64_t now) {
        while (!in.events.empty() && in.events.top().at <= now) {
            store::Transaction tx(in.db);
            for (int k = 0; k < 64 && !in.events.empty() && in.events.top().at <= now; ++k) {
                const Due d = in.events.top();
                in.events.pop();
                deliver(in, d);
            }
            tx.commit();
        }
    }

    // A webhook, as the inbox worker applies it (route_event in jobs/inbox_processor.cpp).
    void apply_event(Instance& in, const Event& e) {
        auto& db = in.db;
        store::Savepoint unit(db);
        std::optional<store::CaseRecord> c;
        if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) {
            c = store::find_case_by_invoice(db, creator, inv->invoice_id);
            if (!c) {
                c = store::CaseRecord{};
                c->state.creator_id = creator;
            }
        } else if (by_invoice_) { // what an indexed lookup costs: see README,
                                  // "find_case_by_payment"
            const auto& p = std::get<PaymentFacts>(e.facts); // "pi_b00001234" → "in_b00001234"
            c = store::find_case_by_invoice(db, creator, id("in_b", index_of(p.payment_intent_id)));
        } else {
            const auto& p = std::get<PaymentFacts>(e.facts);
            c = store::find_case_by_payment(db, creator, p.payment_intent_id, p.charge_id);
        }
        if (!c) throw std::logic_error("payment event for an unknown case: " + e.id);
        engine_.run_case(db, *c, e);
        ++in.inputs;
    }

    void deliver(Instance& in, const Due& d) {
        const auto now = from_unix(d.at);
        if (d.kind == Kind::paid) return apply_event(in, invoice_paid(d.index, now));
        apply_event(in, invoice_failed(d.index, now));
        apply_event(in, payment_failed(d.index, now));
        if (plan_for(d.index).fate == Fate::paid_after_final)
            in.events.push({to_unix(now + paid_delay), d.index, Kind::paid});
    }

    // What dispatch_due does for charges, with Stripe's answer scripted: read the case, "call
    // Stripe", then finish the job and feed the result to the case, committed in batches
    // (jobs::SettleBatch, as the dispatcher does).
    std::size_t dispatch_charges(Instance& in) {
        std::size_t n = 0;
        const auto now = clock_.now();
        jobs::SettleBatch batch(in.db);
        for (const auto& job : in.queue.claim(in.db, store::JobKind::charge, now, 100)) {
            batch.before(job.case_id);
            auto c = store::load_case(in.db, job.case_id.value_or(0));
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
        in.inputs += n;
        return n;
    }

    // What the mail dispatcher does, with every send accepted: a failure email of a case still
    // open goes out and the case hears of it; one of a closed case is cancelled. A stage email
    // whose case has a charge due and unanswered (another instance is calling Stripe) waits for
    // the answer, as in the service (jobs/mail_jobs.cpp): here it is given back (`gave_back`),
    // and this instance or the one answering the charge takes it up again in this moment.
    std::size_t dispatch_emails(Instance& in, bool& gave_back) {
        std::size_t n = 0;
        const auto now = clock_.now();
        jobs::SettleBatch batch(in.db);
        std::vector<store::Job> waiting;
        for (const auto& job : in.queue.claim(in.db, store::JobKind::email, now, 100)) {
            const auto& payload = std::get<store::EmailJob>(job.payload);
            if (payload.message != "payment_received" &&
                store::charge_under_way(in.db, job.case_id.value_or(0), now)) {
                waiting.push_back(job);
                continue;
            }
            batch.before(job.case_id);
            auto c = store::load_case(in.db, job.case_id.value_or(0));
            if (!c) throw std::logic_error("email for a missing case");
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
        if (!waiting.empty()) in.queue.release(in.db, waiting);
        gave_back = !waiting.empty();
        in.inputs += n;
        return n;
    }

    std::vector<std::unique_ptr<Instance>> instances_;
    store::Connection& moments_; // reads the next moment
    const jobs::Engine& engine_;
    FakeClock& clock_;
    double budget_s_;
    bool by_invoice_;
    std::uint64_t steps_ = 0;
    std::atomic<bool> failed_{false}; // an instance's moment threw
};

// Reads every case and its jobs back and checks the finished ones.
Totals check_store(store::Connection& db, const CasePolicy& policy, std::uint64_t inputs) {
    std::unordered_map<std::int64_t, Track> tracks;
    // Platform notifications name their case in the body; access.* ones are not simulated in
    // memory mode, so they are left out of the counts. (Read in C++, not with the database's JSON
    // functions, which SQLite and PostgreSQL spell differently.)
    auto rows = db.prepare("SELECT case_id, kind, payload FROM jobs");
    while (rows->step()) {
        const auto payload = nlohmann::json::parse(rows->text_at(2));
        std::int64_t case_id = 0;
        if (!rows->is_null(0))
            case_id = rows->int64_at(0);
        else if (payload.value("type", "").starts_with("case."))
            case_id = payload.at("data").at("case").at("id").get<std::int64_t>();
        else
            continue;
        auto& t = tracks[case_id];
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
        const auto s = store::state_from_text(cases->text_at(1));
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

struct StoreRun {
    std::string synchronous = "normal";
    bool by_invoice = false;
    std::string dir;
    bool keep = false;
    std::vector<std::string> pragmas;
    bool checkpoint_thread = true;
    std::string postgres_url; // set: the store is this (empty) PostgreSQL database
    int instances = 1;
};

// The store's size in bytes: SQLite's file, or PostgreSQL's database.
double store_bytes(store::Connection& db, const store::StoreOptions& options) {
    if (options.postgres_url.empty()) return static_cast<double>(fs::file_size(options.path));
    auto st = db.prepare("SELECT pg_database_size(current_database())");
    st->step();
    return static_cast<double>(st->int64_at(0));
}

int run_store(std::size_t cases, double budget, const StoreRun& run) {
    const bool postgres = !run.postgres_url.empty();
    std::string dir = run.dir;
    if (!postgres && dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "lifebench-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) return 1;
        dir = tmpl;
    }
    store::StoreOptions store;
    if (postgres)
        store.postgres_url = run.postgres_url;
    else
        store.path = (fs::path(dir) / "dunning.db").string();
    store.synchronous = run.synchronous;
    const auto config = bench_config();
    FakeClock clock(base);
    jobs::Engine engine(config, clock);
    // One connection per instance; the first creates the schema.
    std::vector<std::unique_ptr<store::Connection>> dbs;
    for (int k = 0; k < run.instances; ++k)
        dbs.push_back(store::open_store(store));
    auto& db = dbs.front();
    if (postgres) { // the next moment and the final check read every case and job there
        auto cases_there = db->prepare("SELECT count(*) FROM cases");
        cases_there->step();
        if (cases_there->int64_at(0) > 0)
            throw std::runtime_error("the PostgreSQL database holds cases already: give an empty "
                                     "one");
    }
    for (const auto& p : run.pragmas) // what a setting of the store would change, before it is one
        db->exec("PRAGMA " + p);
    // As the service: the WAL is copied into the file on a thread of its own (its CPU time counts
    // in the run's), unless --checkpoints commit leaves that to the commits.
    std::optional<store::WalCheckpointer> checkpointer;
    jobs::BackgroundLoop checkpoints; // stops before the checkpointer goes
    if (run.checkpoint_thread && !postgres) {
        checkpointer.emplace(store, store::WalCheckpointer::Options{});
        checkpoints.start(
            "WAL checkpoint", [&] { checkpointer->round(); }, {}, store::WalCheckpointer::period);
    }
    std::vector<store::Connection*> connections;
    for (auto& c : dbs)
        connections.push_back(c.get());
    const auto moments = store::connect_store(store);
    StoreSim sim(connections, *moments, engine, clock, cases, budget, run.by_invoice);
    // What the run asked of SQLite, which the machine's load does not change: commits, pages
    // written to the WAL, statement steps (one instance on SQLite only).
    const bool counts = !postgres && run.instances == 1;
    if (counts) {
        db->engine_work(true);
        db->statement_steps(true);
    }
    Stopwatch wall;
    const double cpu0 = cpu_seconds();
    const bool finished = sim.run();
    const double secs = wall.seconds(), cpu = cpu_seconds() - cpu0;
    checkpoints.stop();
    if (!finished)
        std::printf("  time budget of %.0f s ran out after %llu clock steps; simulated up to %s\n",
                    budget, static_cast<unsigned long long>(sim.steps()),
                    dunning::iso8601(clock.now()).c_str());
    if (postgres)
        std::printf("  store: PostgreSQL, %d instance(s) (a connection and a thread each; the "
                    "server's CPU is not in the CPU time below), %.0f MiB, %llu clock steps\n",
                    run.instances, store_bytes(*db, store) / 1048576.0,
                    static_cast<unsigned long long>(sim.steps()));
    else
        std::printf("  store: %s (synchronous=%s, payment events found %s, WAL checkpoints %s), "
                    "%.0f MiB, %llu clock steps\n",
                    store.path.c_str(), run.synchronous.c_str(),
                    run.by_invoice ? "by invoice id" : "by find_case_by_payment",
                    run.checkpoint_thread ? "on their own thread" : "by the commits",
                    store_bytes(*db, store) / 1048576.0,
                    static_cast<unsigned long long>(sim.steps()));
    auto totals = check_store(*db, engine.policy_for(creator), sim.inputs());
    report(postgres ? "store_postgres" : "store", cases, run.instances, secs, cpu, totals);
    if (counts) {
        const auto work = db->engine_work();
        const auto steps = db->statement_steps();
        const auto per_input = [&](double x) { return x / static_cast<double>(sim.inputs()); };
        std::printf("RESULT lifecycle_store_work synchronous=%s lookup=%s commits_per_input=%.3f "
                    "pages_written_per_input=%.2f statement_steps_per_input=%.0f\n",
                    run.synchronous.c_str(), run.by_invoice ? "by_invoice" : "by_payment",
                    per_input(static_cast<double>(work.commits)),
                    per_input(static_cast<double>(work.pages_written)),
                    per_input(static_cast<double>(steps)));
    }
    dbs.clear();
    if (!postgres && !run.keep) fs::remove_all(dir);
    return totals.violations == 0 && (!finished || totals.cases_checked == cases) ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"lifecycle benchmark"};
    std::string mode = "memory", lookup = "payment", checkpoints = "thread";
    StoreRun run;
    std::size_t cases = 100'000;
    int threads = 2;
    double budget = 0;
    app.add_option("--mode", mode, "memory or store")->check(CLI::IsMember({"memory", "store"}));
    app.add_option("--cases", cases, "cases to simulate");
    app.add_option("--threads", threads, "memory mode: threads, each owning 1/T of the cases")
        ->check(CLI::Range(1, 64));
    app.add_option("--budget", budget,
                   "store mode: stop after this many seconds (0: run to the end)");
    app.add_option("--synchronous", run.synchronous, "store mode: normal or full (SQLite)")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--payment-lookup", lookup,
                   "store mode: how a payment_intent event finds its case: payment (the service's "
                   "find_case_by_payment) or invoice (an indexed lookup, for comparison)")
        ->check(CLI::IsMember({"payment", "invoice"}));
    app.add_option("--checkpoints", checkpoints,
                   "store mode: thread (the service's WalCheckpointer) or commit (SQLite's own, "
                   "on the committing thread past 10,000 pages)")
        ->check(CLI::IsMember({"thread", "commit"}));
    app.add_option("--dir", run.dir,
                   "store mode: directory for the database (default: a fresh temp dir)");
    app.add_flag("--keep", run.keep, "store mode: keep the database");
    app.add_option("--pragma", run.pragmas,
                   "store mode: run `PRAGMA X` on the store after opening it (repeatable), e.g. "
                   "wal_autocheckpoint=10000; none by default: the service's settings");
    app.add_option("--postgres-url", run.postgres_url,
                   "store mode: an empty PostgreSQL database (a postgresql:// URL or libpq's "
                   "key=value string) instead of a SQLite file; left with the run's data");
    app.add_option("--instances", run.instances,
                   "store mode on PostgreSQL: instances of the service on the database, each a "
                   "connection and a thread; case i's webhooks go to instance i mod N, timers, "
                   "charges and emails to whichever claims them")
        ->check(CLI::Range(1, 16));
    CLI11_PARSE(app, argc, argv);
    if (cases == 0 || cases > 99'999'999) return 2;
    if (run.postgres_url.empty() && run.instances > 1) {
        std::fprintf(stderr, "lifecycle_bench: --instances above 1 needs --postgres-url (several "
                             "instances share a PostgreSQL database, not a SQLite file)\n");
        return 2;
    }
    for (const char* sqlite_only :
         {"--pragma", "--dir", "--keep", "--synchronous", "--checkpoints"})
        if (!run.postgres_url.empty() && app.count(sqlite_only) > 0) {
            std::fprintf(stderr, "lifecycle_bench: %s is for a SQLite store\n", sqlite_only);
            return 2;
        }
    if (mode == "memory" && (app.count("--postgres-url") > 0 || app.count("--instances") > 0)) {
        std::fprintf(stderr,
                     "lifecycle_bench: --postgres-url and --instances are for --mode store\n");
        return 2;
    }
    run.by_invoice = lookup == "invoice";
    run.checkpoint_thread = checkpoints == "thread";
    try {
        if (mode == "memory") {
            const auto policy = jobs::policy_from_config(bench_config().creators.front());
            return run_memory(cases, threads, policy);
        }
        return run_store(cases, budget, run);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lifecycle_bench: %s\n", e.what());
        return 1;
    }
}
