// Scheduler tick benchmark: N open cases in a real SQLite store (default 1,000,000), then
//   (a) run_due_timers with nothing due, many times: p50 / p99 / max;
//   (b) 1,000 and then 10,000 cases made due by moving the fake clock: one drain each
//       (run_due_timers until it returns 0), total and per case, to show due work is O(due).
// Usage: scheduler_tick_bench [--cases N] [--idle-ticks K] [--due D] [--dir DIR] [--keep]
//                             [--synchronous normal|full]   (default full, as the service)
//                             [--template FILE] [--scattered] [--pragma X]...
#include "bench/scheduler/bench_support.hpp"
#include "jobs/engine.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/case_json.hpp"
#include "store/database.hpp"
#include "store/statement.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

using namespace schedbench;
namespace fs = std::filesystem;

namespace {

const Timestamp t0 = from_unix(1'780'000'000); // 2026-05-28, the moment of the measurements
constexpr std::int64_t spread_seconds = 30 * 24 * 3600;

struct Layout {
    std::size_t cases;
    std::uint64_t stride; // i → slot (i * stride) % cases, a permutation: wake-ups not in id order

    std::size_t slot(std::size_t i) const {
        return static_cast<std::size_t>((static_cast<std::uint64_t>(i) * stride) % cases);
    }
    // The slot-th wake-up: spread over the next 30 days, one second apart at least for N ≤ 2.59M.
    Timestamp wakeup_of_slot(std::size_t s) const {
        return t0 +
               std::chrono::seconds(60 + static_cast<std::int64_t>(static_cast<std::int64_t>(s) *
                                                                   spread_seconds / cases));
    }
    Timestamp wakeup(std::size_t i) const { return wakeup_of_slot(slot(i)); }
};

// The default stride is 3 modulo 200,000 and 1,000,000: consecutive wake-ups then fall on three
// runs of consecutive ids, so a due batch reads neighbouring rows. --scattered takes a stride near
// 0.618 × N instead, so that a due batch's cases lie all over the file.
Layout layout_for(std::size_t n, bool scattered) {
    std::uint64_t stride = scattered ? (static_cast<std::uint64_t>(n) * 618 / 1000) | 1 : 1'000'003;
    while (std::gcd(stride, static_cast<std::uint64_t>(n)) != 1)
        stride += 2;
    return {n, stride};
}

// An open case just after its first failure, made by the engine itself: its next wake-up is
// the first retry, a day after the failure.
CaseState open_case(std::size_t i, Timestamp failed_at, const CasePolicy& policy) {
    CaseState s;
    s.creator_id = creator;
    s = decide(std::move(s), invoice_failed(i, failed_at), failed_at, policy).next;
    return decide(std::move(s), payment_failed(i, failed_at), failed_at, policy).next;
}

void load_cases(store::Connection& db, const Layout& layout, const CasePolicy& policy) {
    db.exec("PRAGMA cache_size = -65536"); // loading only; measurements use a fresh connection
    store::Transaction tx(db);
    store::CachedStatement st(
        db, "INSERT INTO cases (creator_id, invoice_id, status, customer_id, "
            "payment_intent_id, charge_id, amount_due, currency, opened_at, "
            "updated_at, state, next_wakeup_at, access_quiet) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (std::size_t i = 0; i < layout.cases; ++i) {
        const auto wake = layout.wakeup(i);
        const auto s = open_case(i, wake - std::chrono::days{1}, policy);
        if (s.next_wakeup != wake) throw std::logic_error("engine did not plan the first retry");
        st.bind(1, s.creator_id);
        st.bind(2, s.invoice.invoice_id);
        st.bind(3, status_of(s));
        st.bind(4, s.invoice.customer_id);
        st.bind(5, s.invoice.payment_intent_id);
        st.bind(6, s.invoice.charge_id);
        st.bind(7, static_cast<std::int64_t>(s.invoice.amount_due));
        st.bind(8, s.invoice.currency);
        st.bind(9, static_cast<std::int64_t>(to_unix(*s.opened_at)));
        st.bind(10, static_cast<std::int64_t>(to_unix(*s.opened_at)));
        st.bind(11, store::state_text(s));
        st.bind(12, static_cast<std::int64_t>(to_unix(wake)));
        st.bind(13, std::int64_t{quiet_claim(s) ? 1 : 0}); // as save_case writes it
        st.exec();
        st.reset();
    }
    tx.commit();
}

const char* due_query =
    "SELECT id FROM cases WHERE next_wakeup_at <= ? ORDER BY next_wakeup_at LIMIT ?";

void print_plan(store::Connection& db) {
    store::CachedStatement st(db, std::string("EXPLAIN QUERY PLAN ") + due_query);
    st.bind(1, static_cast<std::int64_t>(to_unix(t0)));
    st.bind(2, 500);
    std::printf("query plan of the due query (store/cases.cpp due_cases):\n  %s\n", due_query);
    while (st.executeStep())
        std::printf("  -> %s\n", st.getColumn(3).getText());
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Bytes this process caused to be written to storage so far (/proc/self/io write_bytes): the
// WAL's frames and the checkpoints' pages, whatever the load.
double written_bytes() {
    std::ifstream in("/proc/self/io");
    std::string key;
    double value = 0;
    while (in >> key >> value)
        if (key == "write_bytes:") return value;
    return 0;
}

double thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Wall time per tick, and this thread's CPU time per tick: on a busy machine a wall-time
// outlier with no CPU-time outlier is the thread waiting for a core, not the tick working.
void idle_ticks(store::Connection& db, const jobs::Engine& engine, int ticks, const char* label) {
    std::vector<double> us, cpu;
    us.reserve(static_cast<std::size_t>(ticks));
    cpu.reserve(static_cast<std::size_t>(ticks));
    for (int k = 0; k < ticks; ++k) {
        const double c0 = thread_cpu_us();
        Stopwatch sw;
        const auto n = jobs::run_due_timers(db, engine, engine.clock().now());
        us.push_back(sw.micros());
        cpu.push_back(thread_cpu_us() - c0);
        if (n != 0) throw std::logic_error("idle tick found due cases");
    }
    const auto max_of = [](const std::vector<double>& v) {
        return *std::max_element(v.begin(), v.end());
    };
    std::printf(
        "idle tick (%s) %d ticks: first %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us wall; "
        "CPU p99 %.1f us, max %.1f us\n",
        label, ticks, us.front(), percentile(us, 0.5), percentile(us, 0.99), max_of(us),
        percentile(cpu, 0.99), max_of(cpu));
    std::printf("RESULT idle_tick_%s_us p50=%.1f p99=%.1f max=%.1f cpu_p99=%.1f cpu_max=%.1f\n",
                label, percentile(us, 0.5), percentile(us, 0.99), max_of(us), percentile(cpu, 0.99),
                max_of(cpu));
}

std::int64_t count_where(store::Connection& db, const std::string& where, std::int64_t a = 0) {
    store::CachedStatement st(db, "SELECT count(*) FROM " + where);
    if (where.find('?') != std::string::npos) st.bind(1, a);
    st.executeStep();
    return st.getColumn(0).getInt64();
}

// Moves the clock so that slots [from, to) are due, drains them, and checks that exactly those
// cases were ticked: each made its first retry (a charge job) and sleeps until later.
void due_pass(store::Connection& db, const jobs::Engine& engine, FakeClock& clock,
              const Layout& layout, std::size_t from, std::size_t to) {
    const auto now = layout.wakeup_of_slot(to - 1);
    clock.set(now);
    const auto due = count_where(db, "cases WHERE next_wakeup_at <= ?", to_unix(now));
    const auto charges_before = count_where(db, "jobs WHERE kind = 'charge'");
    // What the drain asks of SQLite, whatever the load: commits, pages written to the WAL, pages
    // read because the connection's page cache did not hold them, statement steps; and the CPU
    // time of this thread.
    db.engine_work(true);
    db.statement_steps(true);
    const double cpu0 = thread_cpu_us();
    const double written0 = written_bytes();
    Stopwatch sw;
    std::size_t done = 0, calls = 0;
    for (;;) {
        const auto n = jobs::run_due_timers(db, engine, engine.clock().now());
        ++calls;
        if (n == 0) break;
        done += n;
    }
    const double ms = sw.seconds() * 1e3;
    const double cpu_ms = (thread_cpu_us() - cpu0) / 1e3;
    const double written_kib = (written_bytes() - written0) / 1024.0;
    const auto work = db.engine_work();
    const auto steps = db.statement_steps();
    const double cases_done = static_cast<double>(std::max<std::size_t>(done, 1));
    const double per_case = ms * 1e3 / cases_done;

    std::size_t moved = 0, expected = 0;
    store::CachedStatement wake(db, "SELECT next_wakeup_at FROM cases WHERE id = ?");
    for (std::size_t i = 0; i < layout.cases; ++i) {
        const auto slot = layout.slot(i);
        if (slot < from || slot >= to) continue;
        ++expected;
        wake.bind(1, static_cast<std::int64_t>(i + 1)); // rowids follow the insertion order
        if (wake.executeStep() && wake.getColumn(0).getInt64() > to_unix(now)) ++moved;
        wake.reset();
    }
    const auto still_due = count_where(db, "cases WHERE next_wakeup_at <= ?", to_unix(now));
    const auto charges = count_where(db, "jobs WHERE kind = 'charge'") - charges_before;
    std::printf("due pass: %lld due → %zu ticked in %zu run_due_timers calls: %.1f ms total, %.1f "
                "us per case\n",
                static_cast<long long>(due), done, calls, ms, per_case);
    std::printf("  after: %lld still due, %zu of the %zu made due moved to a later wake-up, %lld "
                "charges queued\n",
                static_cast<long long>(still_due), moved, expected,
                static_cast<long long>(charges));
    std::printf("  work per case: %.1f us CPU, %.2f pages read (page cache misses), %.2f pages "
                "written, %.1f statement steps, %.1f KiB written to storage; %lld commits\n",
                cpu_ms * 1e3 / cases_done, static_cast<double>(work.pages_read) / cases_done,
                static_cast<double>(work.pages_written) / cases_done,
                static_cast<double>(steps) / cases_done, written_kib / cases_done,
                static_cast<long long>(work.commits));
    std::printf("RESULT due_tick_%zu total_ms=%.1f per_case_us=%.1f cpu_per_case_us=%.1f "
                "pages_read_per_case=%.2f pages_written_per_case=%.2f steps_per_case=%.1f "
                "storage_kib_per_case=%.1f\n",
                to - from, ms, per_case, cpu_ms * 1e3 / cases_done,
                static_cast<double>(work.pages_read) / cases_done,
                static_cast<double>(work.pages_written) / cases_done,
                static_cast<double>(steps) / cases_done, written_kib / cases_done);
    if (static_cast<std::size_t>(due) != to - from || done != to - from || still_due != 0 ||
        moved != to - from || static_cast<std::size_t>(charges) != to - from)
        throw std::logic_error("due pass did not process exactly the due cases");
}

// Webhooks about a payment (payment_intent.*, charge.*) find their case by payment intent; those
// about an invoice by invoice id. Both should be index lookups whatever the number of cases.
void lookups(store::Connection& db, const Layout& layout) {
    for (const char* q :
         {// As store/cases.cpp asks them (the literal lets SQLite use the partial index).
          "SELECT id, state FROM cases WHERE creator_id = ? AND payment_intent_id = ? "
          "AND payment_intent_id <> ''",
          "SELECT id, state FROM cases WHERE creator_id = ? AND invoice_id = ?"}) {
        store::CachedStatement st(db, std::string("EXPLAIN QUERY PLAN ") + q);
        st.bind(1, creator);
        st.bind(2, "x");
        std::printf("query plan: %s\n", q);
        while (st.executeStep())
            std::printf("  -> %s\n", st.getColumn(3).getText());
    }
    const int n = 20;
    std::vector<double> by_payment, by_invoice;
    for (int k = 0; k < n; ++k) {
        const std::size_t i =
            static_cast<std::size_t>(mix(static_cast<std::uint64_t>(k)) % layout.cases);
        Stopwatch a;
        const auto p = store::find_case_by_payment(db, creator, id("pi_b", i), "");
        by_payment.push_back(a.micros());
        Stopwatch b;
        const auto v = store::find_case_by_invoice(db, creator, id("in_b", i));
        by_invoice.push_back(b.micros());
        if (!p || !v || p->id != v->id) throw std::logic_error("lookup found the wrong case");
    }
    std::printf(
        "case lookup, %d random cases: find_case_by_payment p50 %.1f us, max %.1f us; "
        "find_case_by_invoice p50 %.1f us, max %.1f us\n",
        n, percentile(by_payment, 0.5), *std::max_element(by_payment.begin(), by_payment.end()),
        percentile(by_invoice, 0.5), *std::max_element(by_invoice.begin(), by_invoice.end()));
    std::printf("RESULT lookup_us by_payment_p50=%.1f by_invoice_p50=%.1f\n",
                percentile(by_payment, 0.5), percentile(by_invoice, 0.5));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"scheduler tick benchmark"};
    std::size_t cases = 1'000'000, due = 10'000;
    int ticks = 1000;
    std::string dir;
    std::string synchronous = "full"; // the service's default
    bool keep = false;
    std::string template_file;
    bool scattered = false;
    std::vector<std::string> pragmas;
    app.add_option("--cases", cases, "open cases in the store");
    app.add_option("--idle-ticks", ticks, "idle ticks to time");
    app.add_option("--due", due,
                   "cases made due for the big due pass (a 1,000-case pass runs first)");
    app.add_option("--dir", dir, "directory for the database (default: a fresh temp dir)");
    app.add_flag("--keep", keep, "keep the database");
    app.add_option("--synchronous", synchronous, "the store's synchronous setting (as [storage])")
        ->check(CLI::IsMember({"normal", "full"}));
    app.add_option("--template", template_file,
                   "a store loaded before with the same --cases: copied instead of loading; "
                   "written after loading when the file does not exist");
    app.add_flag("--scattered", scattered,
                 "due cases far apart in the file (default: in runs of neighbouring ids)");
    app.add_option("--pragma", pragmas,
                   "a PRAGMA for the measuring connection, e.g. cache_size=-65536 (repeatable)");
    CLI11_PARSE(app, argc, argv);
    if (cases < 15 * (due + 1000) || cases > 2'500'000) { // the due slots span under 2 days
        std::fprintf(stderr, "--cases must be between 15 × (--due + 1000) and 2,500,000\n");
        return 2;
    }
    if (!dir.empty()) fs::create_directories(dir);
    if (dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "schedbench-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) return 1;
        dir = tmpl;
    }
    const store::StoreOptions store{(fs::path(dir) / "dunning.db").string(), synchronous};
    const auto config = bench_config();
    FakeClock clock(t0);
    jobs::Engine engine(config, clock);
    const auto layout = layout_for(cases, scattered);

    try {
        Stopwatch load;
        if (!template_file.empty() && fs::exists(template_file)) {
            fs::copy_file(template_file, store.path, fs::copy_options::overwrite_existing);
            // On disk before measuring, as a loaded store is: else the first checkpoint's sync
            // would write the whole copy back.
            const int fd = open(store.path.c_str(), O_RDONLY);
            if (fd < 0 || fsync(fd) != 0) throw std::runtime_error("cannot sync the copied store");
            close(fd);
            std::printf("scheduler_tick_bench: store copied from %s in %.1f s\n",
                        template_file.c_str(), load.seconds());
        } else {
            {
                auto db = store::open_store(store);
                load_cases(*db, layout, engine.policy_for(creator));
            } // the last connection closed: the WAL is checkpointed into the file and removed
            std::printf("scheduler_tick_bench: %zu open cases loaded in %.1f s (one transaction)\n",
                        cases, load.seconds());
            if (!template_file.empty()) fs::copy_file(store.path, template_file);
        }
        {
            auto db = store::connect_store(store);
            if (count_where(*db, "cases") != static_cast<std::int64_t>(cases) ||
                count_where(*db, "cases WHERE id = 2 AND next_wakeup_at = ?",
                            to_unix(layout.wakeup(1))) != 1)
                throw std::runtime_error("the store was not loaded with these --cases/--scattered");
        }
        const double bytes = static_cast<double>(fs::file_size(store.path));
        std::printf("database %s: %.0f MiB, %.0f bytes per case\n", store.path.c_str(),
                    bytes / 1048576.0, bytes / static_cast<double>(cases));
        std::printf("RESULT db_bytes_per_case=%.0f\n", bytes / static_cast<double>(cases));

        auto db = store::connect_store(store); // as the service's worker
        for (const auto& p : pragmas)
            db->exec("PRAGMA " + p);
        print_plan(*db);
        idle_ticks(*db, engine, ticks, "cold");
        idle_ticks(*db, engine, ticks, "warm");
        due_pass(*db, engine, clock, layout, 0, 1000);
        due_pass(*db, engine, clock, layout, 1000, 1000 + due);
        idle_ticks(*db, engine, ticks, "after_due");
        lookups(*db, layout);
        if (const auto wal = store.path + "-wal"; fs::exists(wal))
            std::printf("WAL file: %.1f MiB\n",
                        static_cast<double>(fs::file_size(wal)) / 1048576.0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "scheduler_tick_bench: %s\n", e.what());
        if (!keep) fs::remove_all(dir);
        return 1;
    }
    std::printf("peak RSS (VmHWM): %.1f MiB, CPU time %.1f s\n", peak_rss_mib(), cpu_seconds());
    std::printf("RESULT tick_peak_rss_mib=%.1f\n", peak_rss_mib());
    if (!keep) fs::remove_all(dir);
    return 0;
}
