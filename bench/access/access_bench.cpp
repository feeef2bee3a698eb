// Access benchmark (bench/access/README.md): the real `dunning serve --test-clock` binary as a
// child process, a host platform receiver on loopback in this process, signed Stripe webhooks.
//
//   setup       its own server process (not measured; synchronous=normal by default): N failed
//               invoices (invoice.payment_failed, distinct members and invoices) → processed →
//               test clock +20 days (final notice) → +14 days 1 hour (deadline passed: case
//               escalated, member locked) → every access.locked has reached the host. Then that
//               server is stopped.
//   measured    `dunning serve` as built, on the same database, the test clock where setup left
//               it, [storage] synchronous as asked (default "full", the service's default):
//   restore     for each locked member: the signed invoice.paid webhook is sent (t0) and the
//               host receiver notes the member's access.restored (t1); latency = t1 − t0.
//               `sequential`: one payment at a time. `open loop`: payments at a fixed rate from
//               several connections, t0 = the scheduled send time; one run per --open-loop
//               RATE:COUNT. The clock is not moved. A restore that does not arrive within
//               --wait is counted at the time waited (censored, "≥").
//   query       GET /v1/creators/{c}/access?member=…&course=… from keep-alive threads, members
//               granted (paid in the sequential run), locked (never paid) and unknown, a third
//               each.
//   in-process  the server stopped, plugin::Module on the same database in this process:
//               module.access(creator, member, course) in a loop.
//
// Prints progress on stderr, `RESULT key=value …` lines on stdout, and with --markdown FILE the
// results table that bench/access/run puts into results.md.
#include "config/config.hpp"
#include "plugin/module.hpp"
#include "store/database.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "webhook/signature.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace dunning;
using dunning::testing::read_file;
using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string creator = "bench";
const std::string stripe_secret = "whsec_bench_secret_0123456789";
const std::string api_token = "bench-token-0123456789";
const std::string host_secret = "whsec_host_bench_secret_0123456789";
const std::string product = "prod_bench";
const std::string course = "course-1";
constexpr std::int64_t day = 86400;

// ---- small helpers ------------------------------------------------------------------------

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

void say(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const auto t = std::time(nullptr);
    char ts[16];
    std::strftime(ts, sizeof ts, "%H:%M:%S", std::localtime(&t));
    std::fprintf(stderr, "[%s] %s\n", ts, buf);
}

[[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error(why);
}

std::string member_id(std::size_t i) {
    char b[32];
    std::snprintf(b, sizeof b, "cus_bench%07zu", i);
    return b;
}
std::string unknown_member(std::size_t i) {
    char b[32];
    std::snprintf(b, sizeof b, "cus_nobody%07zu", i);
    return b;
}
std::string suffixed(const char* prefix, std::size_t i) {
    char b[48];
    std::snprintf(b, sizeof b, "%s%07zu", prefix, i);
    return b;
}
// "cus_bench0001234" → 1234; -1 for anything else.
long index_of_member(const std::string& m) {
    if (m.size() != 16 || m.rfind("cus_bench", 0) != 0) return -1;
    return std::strtol(m.c_str() + 9, nullptr, 10);
}

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

// One "Key: value kB" field of /proc/<pid>/status, in MiB.
double proc_status_mib(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
    return 0;
}

// ---- CPU accounting: who had the cores during a phase --------------------------------------

const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));

double system_busy_s() { // all CPUs, user+nice+system+irq+softirq+steal
    std::ifstream in("/proc/stat");
    std::string cpu;
    double v[8] = {};
    in >> cpu;
    for (double& x : v)
        in >> x;
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}
double process_cpu_s(pid_t pid) { // utime + stime, all threads
    const auto s = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(s.substr(s.rfind(')') + 2));
    std::string f;
    double ut = 0, st = 0;
    for (int i = 0; i < 13 && in >> f; ++i) {
        if (i == 11) ut = std::stod(f);
        if (i == 12) st = std::stod(f);
    }
    return (ut + st) / hz;
}
double self_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

struct CpuWindow {
    pid_t server;
    double t0, busy0, srv0, self0;
    explicit CpuWindow(pid_t pid)
        : server(pid), t0(now_ns() / 1e9), busy0(system_busy_s()),
          srv0(pid > 0 ? process_cpu_s(pid) : 0), self0(self_cpu_s()) {}
    // Cores used on average since construction: "server/driver/other".
    std::string cores() const {
        const double wall = now_ns() / 1e9 - t0;
        const double srv = (server > 0 ? process_cpu_s(server) - srv0 : 0) / wall;
        const double self = (self_cpu_s() - self0) / wall;
        const double other = std::max(0.0, (system_busy_s() - busy0) / wall - srv - self);
        char b[64];
        std::snprintf(b, sizeof b, "%.2f/%.2f/%.2f", srv, self, other);
        return b;
    }
};

// ---- latency figures ------------------------------------------------------------------------

// A latency, or for a payment whose access.restored never came within the wait a lower bound
// (the wait itself): such samples are "censored" and a quantile that lands on one reads "≥".
struct Sample {
    std::int64_t ns = 0;
    bool censored = false;
};
struct Quantile {
    double ms = 0;
    bool censored = false;
};
struct Stats {
    std::size_t n = 0, censored = 0;
    Quantile p50, p90, p99, p999, max;
    double mean = 0; // of the uncensored samples
};
Stats stats_of(std::vector<Sample> v) {
    Stats s;
    s.n = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.ns < b.ns; });
    auto q = [&](double p) {
        const auto k = static_cast<std::size_t>(std::ceil(p * double(v.size()))) - 1;
        const auto& x = v[std::min(k, v.size() - 1)];
        return Quantile{double(x.ns) / 1e6, x.censored};
    };
    s.p50 = q(0.50), s.p90 = q(0.90), s.p99 = q(0.99), s.p999 = q(0.999);
    s.max = Quantile{double(v.back().ns) / 1e6, v.back().censored};
    // A censored sample may sort below an uncensored one; the max is then "≥" anyway.
    for (const auto& x : v)
        s.max.censored |= x.censored;
    double sum = 0;
    std::size_t m = 0;
    for (const auto& x : v) {
        if (x.censored) {
            ++s.censored;
            continue;
        }
        sum += double(x.ns);
        ++m;
    }
    s.mean = m ? sum / double(m) / 1e6 : 0;
    return s;
}
Stats stats_ms(const std::vector<std::int64_t>& ns) {
    std::vector<Sample> v;
    v.reserve(ns.size());
    for (auto x : ns)
        v.push_back({x, false});
    return stats_of(std::move(v));
}
std::string q_str(const Quantile& q) { // for RESULT lines: "12.34" or ">=15000.00"
    char b[48];
    std::snprintf(b, sizeof b, "%s%.2f", q.censored ? ">=" : "", q.ms);
    return b;
}
std::string q_md(const Quantile& q) { // for results.md: "12.3 ms" or "≥ 15.0 s"
    char b[48];
    if (q.ms >= 10000)
        std::snprintf(b, sizeof b, "%s%.1f s", q.censored ? "≥ " : "", q.ms / 1000);
    else if (q.ms >= 10)
        std::snprintf(b, sizeof b, "%s%.1f ms", q.censored ? "≥ " : "", q.ms);
    else
        std::snprintf(b, sizeof b, "%s%.2f ms", q.censored ? "≥ " : "", q.ms);
    return b;
}
std::string fmt_stats(const Stats& s) {
    char b[300];
    std::snprintf(
        b, sizeof b,
        "n=%zu censored=%zu p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s mean_ms=%.2f", s.n,
        s.censored, q_str(s.p50).c_str(), q_str(s.p90).c_str(), q_str(s.p99).c_str(),
        q_str(s.p999).c_str(), q_str(s.max).c_str(), s.mean);
    return b;
}

// ---- child processes ------------------------------------------------------------------------

using Child = dunning::testing::ChildProcess;

// perf record on the server for one phase (--perf-dir).
class PerfRecord {
  public:
    PerfRecord(const std::string& dir, const std::string& phase, pid_t pid) {
        if (dir.empty()) return;
        child_ = std::make_unique<Child>(
            std::vector<std::string>{"perf", "record", "-F", "499", "-g", "-p", std::to_string(pid),
                                     "-o", dir + "/perf-" + phase + ".data"},
            dir + "/perf-" + phase + ".log");
        std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let it attach
    }
    ~PerfRecord() {
        if (child_) child_->stop(SIGINT);
    }

  private:
    std::unique_ptr<Child> child_;
};

// ---- the host platform: receives the module's notifications ---------------------------------

class HostReceiver {
  public:
    HostReceiver(std::size_t members, bool nodelay)
        : restored_at_(members), locked_(members), restored_(members) {
        for (auto& a : restored_at_)
            a.store(0);
        for (auto& a : locked_)
            a.store(0);
        for (auto& a : restored_)
            a.store(0);
        // The dispatcher sends one notification at a time over one keep-alive connection.
        http_.new_task_queue = [] { return new httplib::ThreadPool(4); };
        http_.set_keep_alive_max_count(1000000);
        // Web servers a host platform would run (nginx, Node, Go's net/http) set TCP_NODELAY.
        http_.set_tcp_nodelay(nodelay);
        http_.Post("/hooks/dunning", [this](const httplib::Request& req, httplib::Response& res) {
            const auto t = now_ns();
            on_notification(req, t);
            res.set_content("{\"received\":true}", "application/json");
        });
        port_ = http_.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) fail("host receiver: cannot bind");
        thread_ = std::thread([this] { http_.listen_after_bind(); });
        while (!http_.is_running())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~HostReceiver() {
        http_.stop();
        thread_.join();
    }
    int port() const { return port_; }

    std::int64_t restored_at(std::size_t i) const { return restored_at_[i].load(); }
    // Waits until member i's access.restored is in; false on timeout.
    bool wait_restored(std::size_t i, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return restored_at_[i].load() != 0; });
    }
    std::uint64_t count(const std::string& type) {
        std::lock_guard lock(mutex_);
        return by_type_[type];
    }
    std::uint64_t total() const { return total_.load(); }
    std::uint64_t bad_signatures() const { return bad_sig_.load(); }
    std::uint64_t duplicates() const { return dup_.load(); }
    std::uint64_t locked_members() const { return locked_members_.load(); }
    std::uint64_t restored_members() const { return restored_members_.load(); }
    std::string summary() {
        std::lock_guard lock(mutex_);
        std::string s;
        for (const auto& [k, v] : by_type_)
            s += (s.empty() ? "" : ",") + k + ":" + std::to_string(v);
        return s;
    }

  private:
    void on_notification(const httplib::Request& req, std::int64_t t) {
        ++total_;
        const auto sig = req.get_header_value("Dunning-Signature");
        if (!webhook::verify_signature(req.body, sig, {host_secret}, Timestamp{},
                                       std::chrono::seconds{0}))
            ++bad_sig_;
        const auto j = json::parse(req.body, nullptr, false);
        if (!j.is_object()) return;
        const auto type = j.value("type", "");
        const auto id = j.value("id", "");
        const long i = index_of_member(j.value("member", ""));
        {
            std::lock_guard lock(mutex_);
            ++by_type_[type];
            if (!seen_ids_.insert(id).second) ++dup_;
        }
        if (i < 0 || static_cast<std::size_t>(i) >= restored_at_.size()) return;
        if (type == "access.locked") {
            if (locked_[i].exchange(1) == 0) ++locked_members_;
        } else if (type == "access.restored") {
            if (restored_[i].exchange(1) == 0) ++restored_members_;
            std::int64_t zero = 0;
            restored_at_[i].compare_exchange_strong(zero, t);
            std::lock_guard lock(mutex_);
            cv_.notify_all();
        }
    }

    httplib::Server http_;
    std::thread thread_;
    int port_ = 0;
    std::vector<std::atomic<std::int64_t>> restored_at_; // steady ns of the first access.restored
    std::vector<std::atomic<std::uint8_t>> locked_, restored_;
    std::atomic<std::uint64_t> total_{0}, bad_sig_{0}, dup_{0}, locked_members_{0},
        restored_members_{0};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::string, std::uint64_t> by_type_;
    std::set<std::string> seen_ids_;
};

// ---- Stripe events ----------------------------------------------------------------------------

// Member i's monthly membership invoice (49.00 EUR, product prod_bench), Stripe API 2020-08-27,
// built on Stripe's own fixture; `paid`: the invoice.paid event, else invoice.payment_failed.
class EventFactory {
  public:
    EventFactory(const fs::path& fixtures, std::int64_t failed_at)
        : failed_(
              json::parse(read_file(fixtures / "api-2020-08-27" / "invoice.payment_failed.json"))),
          paid_(json::parse(read_file(fixtures / "api-2020-08-27" / "invoice.paid.json"))),
          failed_at_(failed_at) {}

    std::string body(std::size_t i, bool paid, std::int64_t at) const {
        json e = paid ? paid_ : failed_;
        const auto inv_id = suffixed("in_bench", i);
        const auto sub_id = suffixed("sub_bench", i);
        const std::int64_t created =
            failed_at_ - 3600; // finalized an hour before the first attempt
        e["id"] = suffixed(paid ? "evt_bench_paid_" : "evt_bench_fail_", i);
        e["created"] = at;
        e["request"] = {{"id", nullptr}, {"idempotency_key", nullptr}}; // automatic collection
        auto& o = e["data"]["object"];
        o["id"] = inv_id;
        o["account_name"] = "Bench Academy";
        o["account_country"] = "DE";
        o["customer"] = member_id(i);
        o["customer_email"] = suffixed("member", i) + "@example.com";
        o["customer_name"] = "Member " + std::to_string(i);
        o["amount_due"] = 4900;
        o["amount_paid"] = paid ? 4900 : 0;
        o["amount_remaining"] = paid ? 0 : 4900;
        o["subtotal"] = 4900;
        o["total"] = 4900;
        o["currency"] = "eur";
        o["attempt_count"] = paid ? 2 : 1;
        o["billing_reason"] = "subscription_cycle";
        o["charge"] = suffixed(paid ? "ch_bench_ok_" : "ch_bench", i);
        o["payment_intent"] = suffixed("pi_bench", i);
        o["subscription"] = sub_id;
        o["created"] = created;
        o["period_start"] = created - 30 * day;
        o["period_end"] = created;
        o["number"] = suffixed("BENCH-", i);
        o["description"] = nullptr;
        o["hosted_invoice_url"] =
            "https://invoice.stripe.com/i/acct_bench/" + suffixed("test_bench", i);
        o["invoice_pdf"] =
            "https://pay.stripe.com/invoice/acct_bench/" + suffixed("test_bench", i) + "/pdf";
        o["next_payment_attempt"] = paid ? json(nullptr) : json(failed_at_ + 3 * day);
        o["status_transitions"]["finalized_at"] = created;
        o["status_transitions"]["paid_at"] = paid ? json(at) : json(nullptr);
        o["webhooks_delivered_at"] = paid ? json(at) : json(nullptr);
        auto& line = o["lines"]["data"][0];
        line["id"] = suffixed("il_bench", i);
        line["amount"] = 4900;
        line["currency"] = "eur";
        line["description"] = "1 × Bench Academy membership (at €49.00 / month)";
        line["invoice_item"] = nullptr;
        line["type"] = "subscription";
        line["subscription"] = sub_id;
        line["period"] = {{"start", created - 30 * day}, {"end", created}};
        auto& price = line["price"];
        price["id"] = "price_bench_monthly";
        price["product"] = product;
        price["currency"] = "eur";
        price["unit_amount"] = 4900;
        price["unit_amount_decimal"] = "4900";
        price["type"] = "recurring";
        price["recurring"] = {
            {"interval", "month"}, {"interval_count", 1}, {"usage_type", "licensed"}};
        o["lines"]["url"] = "/v1/invoices/" + inv_id + "/lines";
        return e.dump(2); // Stripe pretty-prints its deliveries
    }

  private:
    json failed_, paid_;
    std::int64_t failed_at_;
};

struct Signed {
    std::string body;
    std::string signature;
};

httplib::Client client(int port, int read_timeout_s = 30) {
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(read_timeout_s, 0);
    c.set_write_timeout(30, 0);
    return c;
}

bool post_webhook(httplib::Client& c, const Signed& e) {
    const auto r =
        c.Post("/webhooks/stripe/" + creator, httplib::Headers{{"Stripe-Signature", e.signature}},
               e.body, "application/json");
    return r && r->status == 200;
}

// ---- the service ------------------------------------------------------------------------------

struct Options {
    std::string dunning;
    std::string fixtures = ACCESS_BENCH_FIXTURES_DIR;
    std::string dir;
    std::string synchronous = "full";                            // of the measured server
    std::vector<std::string> open_loops{"50:3000", "200:10000"}; // RATE:COUNT, run in this order
    std::size_t seq_cases = 500;                                 // sequential restores
    std::size_t extra_locked = 1000; // never paid: locked members for the query mix
    int connections = 8;
    double wait_s =
        30; // for access.restored: per payment (sequential), after the last send (open loop)
    int setup_connections = 4;
    double query_seconds = 10;
    int query_threads = 4;
    std::size_t inproc_calls = 1000000;
    std::string setup_synchronous = "normal";
    std::string perf_dir;
    std::string dump_dir; // per-payment latencies as CSV
    std::string markdown;
    bool keep = false;
    bool receiver_nodelay = true;
    bool fresh_outbox = false; // the measured server mails into an empty directory, not setup's
    int stored_copies = 0;     // earlier paid invoices of every member, added after setup
};

// Gives every member `copies` earlier invoices, paid and done with: each case of the store is
// copied under new invoice, payment and charge ids (same member, status paid, no timer), with a
// done inbox row, done jobs and access history of its own. The measured server then works on a
// store `copies + 1` times as large, its members with a history.
void add_stored_copies(const fs::path& db_path, int copies) {
    auto db = dunning::store::connect_store({db_path.string(), "normal"});
    dunning::store::Transaction tx(*db);
    const std::string k =
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < " +
        std::to_string(copies) + ") ";
    db->exec(k +
             "INSERT INTO cases (creator_id, invoice_id, status, customer_id, payment_intent_id, "
             "charge_id, amount_due, currency, opened_at, updated_at, state, next_wakeup_at) "
             "SELECT creator_id, invoice_id || '_h' || n, 'paid', customer_id, "
             "payment_intent_id || '_h' || n, charge_id || '_h' || n, amount_due, currency, "
             "opened_at, updated_at, state, NULL FROM cases, k");
    db->exec(k + "INSERT INTO inbox (creator_id, event_id, type, account, created, received_at, "
                 "source, state, note, processed_at) "
                 "SELECT creator_id, event_id || '_h' || n, type, account, created, received_at, "
                 "source, 'done', note, processed_at FROM inbox, k");
    // Each copy's body, found by its event id (the inbox's unique key).
    db->exec(k + "INSERT INTO inbox_bodies (inbox_id, body) "
                 "SELECT c.id, b.body FROM inbox o JOIN inbox_bodies b ON b.inbox_id = o.id, k "
                 "JOIN inbox c ON c.creator_id = o.creator_id AND c.event_id = o.event_id || "
                 "'_h' || n");
    db->exec(k +
             "INSERT INTO jobs (kind, case_id, order_key, payload, idempotency_key, state, "
             "tries, due_at, created_at, done_at, result) "
             "SELECT kind, case_id, NULL, payload, idempotency_key || '_h' || n, 'done', tries, "
             "due_at, created_at, coalesce(done_at, created_at), result FROM jobs, k "
             "WHERE state <> 'pending'");
    db->exec(k +
             "INSERT INTO access_history (creator_id, customer_id, product_id, from_level, "
             "to_level, reason, case_id, override_id, at) "
             "SELECT creator_id, customer_id, product_id, from_level, to_level, reason, case_id, "
             "override_id, at FROM access_history, k");
    tx.commit();
    db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::string config_toml(const std::string& synchronous, const fs::path& dir,
                        const std::string& outbox, int port, int host_port) {
    std::ostringstream t;
    t << "# written by bench/access/access_bench\n"
      << "[server]\nlisten = \"127.0.0.1:" << port
      << "\"\n\n"
      // The payments are signed before the runs, which can outlast the 300 s tolerance.
      << "[stripe]\nwebhook_tolerance_seconds = 0\n\n"
      << "[storage]\nsqlite_path = \"" << (dir / "dunning.db").string() << "\"\nsynchronous = \""
      << synchronous << "\"\n\n"
      << "[mail]\ntransport = \"outbox\"\noutbox_dir = \"" << (dir / outbox).string()
      << "\"\nfrom = \"Bench Academy <billing@bench-academy.example>\"\n\n"
      << "[host]\nwebhook_url = \"http://127.0.0.1:" << host_port << "/hooks/dunning\"\n"
      << "webhook_secret = \"" << host_secret << "\"\n\n"
      << "[[creators]]\nid = \"" << creator << "\"\nname = \"Bench Academy\"\nlocale = \"de\"\n"
      << "webhook_secrets = [\"" << stripe_secret << "\"]\napi_token = \"" << api_token << "\"\n\n"
      << "[[creators.products]]\nstripe_product = \"" << product << "\"\ncourses = [\"" << course
      << "\"]\n";
    return t.str();
}

std::map<std::string, double> scrape_metrics(httplib::Client& c) {
    std::map<std::string, double> m;
    const auto r = c.Get("/metrics");
    if (!r || r->status != 200) return m;
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        if (sp == std::string::npos) continue;
        m[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
    }
    return m;
}

std::int64_t clock_now(httplib::Client& c) {
    const auto r = c.Get("/v1/test-clock");
    if (!r || r->status != 200) fail("GET /v1/test-clock failed");
    return json::parse(r->body).at("now").get<std::int64_t>();
}

void advance(httplib::Client& c, std::int64_t seconds) {
    const auto t = now_ns();
    const auto r =
        c.Post("/v1/test-clock/advance", json{{"seconds", seconds}}.dump(), "application/json");
    if (!r || r->status != 200)
        fail("POST /v1/test-clock/advance failed: " +
             (r ? r->body : httplib::to_string(r.error())));
    say("  test clock +%.2f days: %.1f s", double(seconds) / day, double(now_ns() - t) / 1e9);
}

template <class Pred> bool wait_for(Pred pred, double seconds, double poll_s = 0.05) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (!pred()) {
        if (Clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
    }
    return true;
}

// Posts events [first, last) from `threads` connections as fast as the server acknowledges.
std::size_t post_all(int port, const std::vector<Signed>& events, int threads) {
    std::atomic<std::size_t> failed{0}, next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
            auto c = client(port);
            for (std::size_t i; (i = next++) < events.size();)
                if (!post_webhook(c, events[i])) ++failed;
        });
    for (auto& t : ts)
        t.join();
    return failed;
}

struct RestoreResult {
    Stats latency, ack;
    std::vector<std::pair<std::int64_t, Sample>>
        series; // (t0 − start of the run, latency) per payment
    std::size_t sent = 0, acked = 0, arrived = 0, late_sends = 0;
    double wall_s = 0, achieved_rate = 0, wait_s = 0;
    std::string cpu;
};

// One payment at a time: send, wait for the member's access.restored (at most `wait_s`), next.
RestoreResult restore_sequential(int port, HostReceiver& host, const std::vector<Signed>& paid,
                                 std::size_t first, std::size_t count, double wait_s,
                                 pid_t server) {
    RestoreResult r;
    r.wait_s = wait_s;
    CpuWindow cpu(server);
    auto c = client(port);
    std::vector<Sample> lat;
    std::vector<std::int64_t> ack;
    lat.reserve(count), ack.reserve(count);
    const auto start = now_ns();
    int misses_in_a_row = 0;
    for (std::size_t i = first; i < first + count; ++i) {
        const auto t0 = now_ns();
        const bool ok = post_webhook(c, paid[i]);
        ack.push_back(now_ns() - t0);
        ++r.sent;
        if (ok) ++r.acked;
        if (ok && host.wait_restored(
                      i, std::chrono::milliseconds(static_cast<std::int64_t>(wait_s * 1000)))) {
            lat.push_back({host.restored_at(i) - t0, false});
            r.series.push_back({t0 - start, lat.back()});
            ++r.arrived;
            misses_in_a_row = 0;
            continue;
        }
        lat.push_back({now_ns() - t0, true});
        r.series.push_back({t0 - start, lat.back()});
        if (++misses_in_a_row == 5) {
            say("  5 payments in a row without access.restored within %.0f s: stopping this run",
                wait_s);
            break;
        }
    }
    r.wall_s = double(now_ns() - start) / 1e9;
    r.cpu = cpu.cores();
    r.latency = stats_of(std::move(lat));
    r.ack = stats_ms(ack);
    return r;
}

// Open loop: payment k is due at start + k/rate whatever happened to the others; `connections`
// threads each send their share (k ≡ thread mod connections) on a keep-alive connection.
// t0 = the scheduled time, so a server that falls behind is charged for the wait. After the
// last send, arrivals are awaited for `wait_s`; the ones still missing are censored.
RestoreResult restore_open_loop(int port, HostReceiver& host, const std::vector<Signed>& paid,
                                std::size_t first, std::size_t count, double rate, int connections,
                                double wait_s, pid_t server) {
    RestoreResult r;
    r.wait_s = wait_s;
    CpuWindow cpu(server);
    std::vector<std::int64_t> t0(count, 0);
    std::vector<std::vector<std::int64_t>> acks(connections);
    std::atomic<std::size_t> acked{0}, late{0};
    const auto start = now_ns() + 50'000'000; // 50 ms for the threads to get going
    const double gap_ns = 1e9 / rate;
    std::vector<std::thread> ts;
    for (int t = 0; t < connections; ++t)
        ts.emplace_back([&, t] {
            auto c = client(port);
            for (std::size_t k = t; k < count; k += connections) {
                const auto due = start + static_cast<std::int64_t>(double(k) * gap_ns);
                std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(due)));
                const auto sent = now_ns();
                if (sent - due > 5'000'000) ++late; // sender behind schedule by > 5 ms
                t0[k] = due;
                if (post_webhook(c, paid[first + k])) ++acked;
                acks[t].push_back(now_ns() - sent);
            }
        });
    for (auto& t : ts)
        t.join();
    const auto sent_all = now_ns();
    r.sent = count;
    r.acked = acked;
    r.late_sends = late;
    r.achieved_rate = double(count) / (double(sent_all - start) / 1e9);
    const bool all = wait_for(
        [&] {
            for (std::size_t k = 0; k < count; ++k)
                if (host.restored_at(first + k) == 0) return false;
            return true;
        },
        wait_s, 0.02);
    const auto end = now_ns();
    r.wall_s = double(end - start) / 1e9;
    r.cpu = cpu.cores();
    if (!all) say("  not all arrived within %.0f s of the last send", wait_s);
    std::vector<Sample> lat;
    lat.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
        if (const auto t1 = host.restored_at(first + k); t1 != 0) {
            lat.push_back({t1 - t0[k], false});
            ++r.arrived;
        } else {
            lat.push_back({end - t0[k], true});
        }
        r.series.push_back({t0[k] - start, lat.back()});
    }
    r.latency = stats_of(std::move(lat));
    std::vector<std::int64_t> all_acks;
    for (auto& a : acks)
        all_acks.insert(all_acks.end(), a.begin(), a.end());
    r.ack = stats_ms(all_acks);
    return r;
}

// ---- access queries ---------------------------------------------------------------------------

// The members asked about: a third paid (granted, with a row), a third never paid (locked),
// a third unknown to the module (granted, no row).
struct MemberMix {
    std::size_t paid_first, paid_count, locked_first, locked_count;
    enum Kind { paid = 0, locked = 1, unknown = 2 };
    std::pair<std::string, Kind> pick(std::mt19937_64& rng) const {
        const auto r = rng();
        const auto kind = static_cast<Kind>(r % 3);
        const auto x = (r >> 8);
        switch (kind) {
        case paid:
            if (paid_count == 0) return {unknown_member(x % 1000000), unknown};
            return {member_id(paid_first + x % paid_count), kind};
        case locked:
            return {member_id(locked_first + x % locked_count), kind};
        default:
            return {unknown_member(x % 1000000), kind};
        }
    }
};

struct QueryResult {
    double rps = 0;
    Stats latency;
    std::size_t requests = 0, errors = 0, wrong = 0;
    std::string cpu;
};

QueryResult query_http(int port, const MemberMix& mix, int threads, double seconds, pid_t server) {
    QueryResult q;
    std::atomic<std::size_t> errors{0}, wrong{0};
    std::vector<std::vector<std::int64_t>> lat(threads);
    const auto auth = httplib::Headers{{"Authorization", "Bearer " + api_token}};
    // Warm-up: connections open, pages cached.
    {
        auto c = client(port);
        std::mt19937_64 rng(7);
        for (int i = 0; i < 2000; ++i) {
            const auto [m, k] = mix.pick(rng);
            c.Get("/v1/creators/" + creator + "/access?member=" + m + "&course=" + course, auth);
        }
    }
    CpuWindow cpu(server);
    const auto start = now_ns();
    const auto until = start + static_cast<std::int64_t>(seconds * 1e9);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            auto c = client(port);
            std::mt19937_64 rng(1000 + t);
            auto& mine = lat[t];
            mine.reserve(1 << 20);
            while (now_ns() < until) {
                const auto [m, kind] = mix.pick(rng);
                const auto path =
                    "/v1/creators/" + creator + "/access?member=" + m + "&course=" + course;
                const auto t0 = now_ns();
                const auto r = c.Get(path, auth);
                mine.push_back(now_ns() - t0);
                if (!r || r->status != 200) {
                    ++errors;
                    continue;
                }
                const bool locked = r->body.find("\"level\":\"locked\"") != std::string::npos;
                if (locked != (kind == MemberMix::locked)) ++wrong;
            }
        });
    for (auto& t : ts)
        t.join();
    const double wall = double(now_ns() - start) / 1e9;
    q.cpu = cpu.cores();
    std::vector<std::int64_t> all;
    for (auto& v : lat)
        all.insert(all.end(), v.begin(), v.end());
    q.requests = all.size();
    q.rps = double(all.size()) / wall;
    q.errors = errors;
    q.wrong = wrong;
    q.latency = stats_ms(std::move(all));
    return q;
}

struct InprocResult {
    double calls_per_s = 0, mean_us = 0, p50_us = 0, p99_us = 0, max_us = 0;
    std::size_t calls = 0, wrong = 0, missing = 0;
    double open_ms = 0;
};

InprocResult query_inprocess(const std::string& config_path, std::int64_t clock_at,
                             const MemberMix& mix, std::size_t calls) {
    InprocResult r;
    auto loaded = config::load_config(config_path);
    if (!loaded) fail("config: " + loaded.error().front());
    auto cfg = std::move(loaded).value();
    // No host here: this Module's worker must not go on with the measured server's notification
    // backlog while access() is timed.
    cfg.host = {};
    const auto t_open = now_ns();
    plugin::Module module(std::move(cfg), plugin::ModuleOptions{true, from_unix(clock_at)});
    r.open_ms = double(now_ns() - t_open) / 1e6;
    // The members, made up front so that only the call is timed.
    std::mt19937_64 rng(42);
    constexpr std::size_t pool = 1 << 16;
    std::vector<std::pair<std::string, MemberMix::Kind>> members;
    members.reserve(pool);
    for (std::size_t i = 0; i < pool; ++i)
        members.push_back(mix.pick(rng));
    for (std::size_t i = 0; i < 20000; ++i)
        (void)module.access(creator, members[i % pool].first, course);
    std::vector<std::int64_t> lat(calls);
    const auto start = now_ns();
    for (std::size_t i = 0; i < calls; ++i) {
        const auto& [m, kind] = members[i & (pool - 1)];
        const auto t0 = now_ns();
        const auto a = module.access(creator, m, course);
        lat[i] = now_ns() - t0;
        if (!a) {
            ++r.missing;
            continue;
        }
        if ((a->level == AccessLevel::locked) != (kind == MemberMix::locked)) ++r.wrong;
    }
    const double wall = double(now_ns() - start) / 1e9;
    r.calls = calls;
    r.calls_per_s = double(calls) / wall;
    r.mean_us = wall * 1e6 / double(calls);
    const auto s = stats_ms(std::move(lat));
    r.p50_us = s.p50.ms * 1000, r.p99_us = s.p99.ms * 1000, r.max_us = s.max.ms * 1000;
    return r;
}

// ---- the whole run ----------------------------------------------------------------------------

// `dunning serve --test-clock` on `config`, answering /healthz.
std::unique_ptr<Child> start_server(const Options& o, const fs::path& dir,
                                    const std::string& config, std::int64_t clock_start,
                                    const char* log, int port) {
    auto server = std::make_unique<Child>(
        std::vector<std::string>{o.dunning, "serve", "--config", config, "--test-clock",
                                 "--test-clock-start", std::to_string(clock_start)},
        (dir / log).string());
    auto c = client(port, 2);
    if (!wait_for(
            [&] {
                if (!server->alive())
                    fail("the server exited at start-up; " + (dir / log).string() + ":\n" +
                         read_file(dir / log));
                const auto r = c.Get("/healthz");
                return r && r->status == 200;
            },
            30, 0.05))
        fail("the server did not answer /healthz within 30 s");
    return server;
}

// Until the host has received nothing new for `quiet_s`.
void wait_quiet(HostReceiver& host, double quiet_s) {
    for (std::uint64_t before = ~0ULL; before != host.total();) {
        before = host.total();
        std::this_thread::sleep_for(std::chrono::duration<double>(quiet_s));
    }
}

int run(const Options& o) {
    const auto dir = o.dir.empty() ? fs::temp_directory_path() /
                                         ("dunning-bench-access-" + std::to_string(getpid()))
                                   : fs::path(o.dir);
    fs::create_directories(dir / "outbox");
    if (!o.perf_dir.empty()) fs::create_directories(o.perf_dir);
    struct Cleanup {
        fs::path dir;
        bool keep;
        ~Cleanup() {
            if (keep) {
                say("kept %s", dir.c_str());
                return;
            }
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{dir, o.keep};

    struct OpenLoop {
        double rate;
        std::size_t count, first;
        RestoreResult result;
    };
    std::vector<OpenLoop> loops;
    std::size_t paying = o.seq_cases;
    for (const auto& spec : o.open_loops) {
        const auto colon = spec.find(':');
        const double rate = colon == std::string::npos ? 0 : std::atof(spec.c_str());
        const long count = colon == std::string::npos ? 0 : std::atol(spec.c_str() + colon + 1);
        if (rate <= 0 || count <= 0)
            fail("--open-loop wants RATE:COUNT, e.g. 200:10000; got " + spec);
        loops.push_back({rate, static_cast<std::size_t>(count), paying, {}});
        paying += static_cast<std::size_t>(count);
    }
    const std::size_t seq_first = 0, locked_first = paying;
    const std::size_t members = paying + o.extra_locked;
    const std::int64_t t_start = 1'780'000'000; // 2026-05-28T20:26:40Z, on the test clock

    HostReceiver host(members, o.receiver_nodelay);
    const int port = free_port();
    const auto setup_config = (dir / "dunning-setup.toml").string();
    const auto config_path = (dir / "dunning.toml").string();
    std::ofstream(setup_config) << config_toml(o.setup_synchronous, dir, "outbox", port,
                                               host.port());
    std::ofstream(config_path) << config_toml(
        o.synchronous, dir, o.fresh_outbox ? "outbox-measured" : "outbox", port, host.port());
    say("dir %s, server port %d, host receiver port %d", dir.c_str(), port, host.port());
    auto api = client(port, 900);

    // -- setup (not measured): its own server process, then stopped ------------------------------
    const auto t_setup = now_ns();
    say("setup: %zu failed invoices (%zu sequential + %zu open-loop + %zu never paid); setup "
        "server: "
        "synchronous=%s",
        members, o.seq_cases, paying - o.seq_cases, o.extra_locked, o.setup_synchronous.c_str());
    auto server = start_server(o, dir, setup_config, t_start, "server-setup.log", port);
    const pid_t setup_pid = server->pid();
    CpuWindow setup_cpu(setup_pid);
    const EventFactory events(o.fixtures, t_start);
    {
        std::vector<Signed> failed(members);
        for (std::size_t i = 0; i < members; ++i) {
            failed[i].body = events.body(i, false, t_start);
            failed[i].signature =
                webhook::sign_payload(failed[i].body, stripe_secret, plugin::SystemClock().now());
        }
        say("  invoice.payment_failed body: %zu bytes", failed[0].body.size());
        const auto t = now_ns();
        if (const auto n = post_all(port, failed, o.setup_connections); n > 0)
            fail(std::to_string(n) +
                 " invoice.payment_failed deliveries were not acknowledged with 200");
        say("  posted in %.1f s", double(now_ns() - t) / 1e9);
    }
    double poison = 0;
    if (!wait_for(
            [&] {
                auto m = scrape_metrics(api);
                poison = m["dunning_inbox_poison"];
                return m["dunning_webhook_events_accepted_total"] >= double(members) &&
                       m.contains("dunning_inbox_pending") && m["dunning_inbox_pending"] == 0;
            },
            600, 0.2))
        fail("the failed invoices were not processed within 600 s");
    if (poison > 0)
        fail(std::to_string(poison) + " events are poison; see the inbox table in " + dir.string());
    say("  processed %.1f s after the start of setup", double(now_ns() - t_setup) / 1e9);
    {
        PerfRecord perf(o.perf_dir, "setup-advance", setup_pid);
        advance(api, 20 * day);        // day 20: the final notice (only the newest stage goes out)
        advance(api, 14 * day + 3600); // day 34 + 1 h: the final notice's deadline passed → locked
    }
    const std::int64_t t_paid = clock_now(api);
    if (!wait_for([&] { return host.locked_members() >= members; }, 600, 0.1))
        fail("only " + std::to_string(host.locked_members()) + " of " + std::to_string(members) +
             " members were reported locked to the host within 600 s (" + host.summary() + ")");
    wait_quiet(
        host,
        1.5); // every notification of the setup is in (case.opened, case.escalated, access.locked)
    const auto setup_notes = host.summary();
    const double setup_rss = proc_status_mib(setup_pid, "VmHWM");
    const auto setup_cores = setup_cpu.cores();
    server->stop(SIGTERM);
    const double setup_s = double(now_ns() - t_setup) / 1e9;
    say("setup done in %.1f s (server/driver/other cores %s); host received %s", setup_s,
        setup_cores.c_str(), setup_notes.c_str());

    if (o.stored_copies > 0) {
        const auto t = now_ns();
        add_stored_copies(dir / "dunning.db", o.stored_copies);
        say("stored copies: every member has %d earlier paid invoices (%.1f s)", o.stored_copies,
            double(now_ns() - t) / 1e9);
    }
    const double store_mib = double(fs::file_size(dir / "dunning.db")) / 1048576.0;
    say("the store holds %.0f MiB when the measured server starts", store_mib);

    // -- the measured server: same database, the clock where setup left it ----------------------
    say("measured server: synchronous=%s, %s", o.synchronous.c_str(),
        o.fresh_outbox ? "empty mail outbox" : "mail outbox holding setup's emails");
    server = start_server(o, dir, config_path, t_paid, "server.log", port);
    const pid_t pid = server->pid();
    if (clock_now(api) != t_paid)
        fail("the measured server's test clock does not start where setup ended");
    std::vector<Signed> paid(paying);
    for (std::size_t i = 0; i < paid.size(); ++i) {
        paid[i].body = events.body(i, true, t_paid);
        paid[i].signature =
            webhook::sign_payload(paid[i].body, stripe_secret, plugin::SystemClock().now());
    }
    const MemberMix mix{seq_first, o.seq_cases, locked_first, o.extra_locked};
    { // warm-up: the server's first requests, its SQLite connections' page caches
        auto c = client(port);
        std::mt19937_64 rng(3);
        const auto auth = httplib::Headers{{"Authorization", "Bearer " + api_token}};
        for (int i = 0; i < 500; ++i)
            c.Get("/v1/creators/" + creator + "/access?member=" + mix.pick(rng).first +
                      "&course=" + course,
                  auth);
    }

    RestoreResult seq;
    if (o.seq_cases > 0) {
        say("restore, sequential: %zu payments one at a time", o.seq_cases);
        PerfRecord perf(o.perf_dir, "sequential", pid);
        seq = restore_sequential(port, host, paid, seq_first, o.seq_cases, o.wait_s, pid);
        say("  %zu of %zu restored; latency %s; %.1f s; CPU server/driver/other %s", seq.arrived,
            seq.sent, fmt_stats(seq.latency).c_str(), seq.wall_s, seq.cpu.c_str());
        wait_quiet(host, 1.0);
    }

    // Queries before the open-loop run, which may leave a backlog behind.
    QueryResult q;
    if (o.query_seconds > 0) {
        say("queries over HTTP: %d threads for %.0f s", o.query_threads, o.query_seconds);
        PerfRecord perf(o.perf_dir, "query", pid);
        q = query_http(port, mix, o.query_threads, o.query_seconds, pid);
        say("  %.0f req/s; latency %s; errors %zu, wrong answers %zu; CPU server/driver/other %s",
            q.rps, fmt_stats(q.latency).c_str(), q.errors, q.wrong, q.cpu.c_str());
    }

    for (auto& loop : loops) {
        say("restore, open loop: %zu payments at %.0f/s over %d connections, then up to %.0f s for "
            "the rest",
            loop.count, loop.rate, o.connections, o.wait_s);
        PerfRecord perf(o.perf_dir, "open-loop-" + std::to_string(static_cast<int>(loop.rate)),
                        pid);
        auto& r = loop.result;
        r = restore_open_loop(port, host, paid, loop.first, loop.count, loop.rate, o.connections,
                              o.wait_s, pid);
        say("  %zu of %zu restored; latency %s; sent at %.1f/s, %zu late; CPU server/driver/other "
            "%s",
            r.arrived, r.sent, fmt_stats(r.latency).c_str(), r.achieved_rate, r.late_sends,
            r.cpu.c_str());
        wait_quiet(host, 1.0); // the next rate starts without this one's backlog
    }
    paid.clear();

    const double rss_peak = proc_status_mib(pid, "VmHWM"), rss_now = proc_status_mib(pid, "VmRSS");
    say("server RSS: peak %.1f MiB, now %.1f MiB", rss_peak, rss_now);
    const auto t_stop = now_ns();
    const int rc = server->stop(SIGTERM);
    server.reset();
    say("server stopped (exit %d) in %.1f s", rc, double(now_ns() - t_stop) / 1e9);

    // -- queries in-process -----------------------------------------------------------------------
    InprocResult in;
    if (o.inproc_calls > 0) {
        say("in-process: plugin::Module on the same database, %zu access() calls", o.inproc_calls);
        in = query_inprocess(config_path, t_paid, mix, o.inproc_calls);
        say("  %.0f calls/s, mean %.2f us, p50 %.2f us, p99 %.2f us, max %.0f us; wrong %zu, none "
            "%zu",
            in.calls_per_s, in.mean_us, in.p50_us, in.p99_us, in.max_us, in.wrong, in.missing);
    }

    // -- results --------------------------------------------------------------------------------
    auto result_line = [](const char* name, const RestoreResult& r) {
        std::printf("RESULT %s %s sent=%zu acked=%zu arrived=%zu ack_p50_ms=%.2f ack_p99_ms=%.2f "
                    "wall_s=%.1f "
                    "rate=%.1f late=%zu cpu=%s\n",
                    name, fmt_stats(r.latency).c_str(), r.sent, r.acked, r.arrived, r.ack.p50.ms,
                    r.ack.p99.ms, r.wall_s, r.achieved_rate, r.late_sends, r.cpu.c_str());
    };
    result_line("restore_sequential", seq);
    for (const auto& loop : loops)
        result_line(("restore_open_loop_" + std::to_string(static_cast<int>(loop.rate))).c_str(),
                    loop.result);
    std::printf("RESULT query_http threads=%d rps=%.0f %s errors=%zu wrong=%zu cpu=%s\n",
                o.query_threads, q.rps, fmt_stats(q.latency).c_str(), q.errors, q.wrong,
                q.cpu.c_str());
    std::printf(
        "RESULT query_inprocess calls=%zu calls_per_s=%.0f mean_us=%.2f p50_us=%.2f p99_us=%.2f "
        "max_us=%.0f wrong=%zu none=%zu\n",
        in.calls, in.calls_per_s, in.mean_us, in.p50_us, in.p99_us, in.max_us, in.wrong,
        in.missing);
    std::printf("RESULT server peak_rss_mib=%.1f rss_mib=%.1f setup_s=%.1f setup_peak_rss_mib=%.1f "
                "notifications=%llu bad_signatures=%llu duplicate_ids=%llu\n",
                rss_peak, rss_now, setup_s, setup_rss,
                static_cast<unsigned long long>(host.total()),
                static_cast<unsigned long long>(host.bad_signatures()),
                static_cast<unsigned long long>(host.duplicates()));
    std::printf("RESULT host_notifications %s\n", host.summary().c_str());
    std::printf("RESULT store stored_copies=%d db_mib=%.0f\n", o.stored_copies, store_mib);
    std::fflush(stdout);
    if (!o.dump_dir.empty()) {
        fs::create_directories(o.dump_dir);
        auto dump = [&](const std::string& name, const RestoreResult& r) {
            std::ofstream csv(fs::path(o.dump_dir) / ("restore-" + name + ".csv"));
            csv << "sent_s,latency_ms,arrived\n";
            for (const auto& [at, x] : r.series)
                csv << double(at) / 1e9 << ',' << double(x.ns) / 1e6 << ',' << (x.censored ? 0 : 1)
                    << '\n';
        };
        dump("sequential", seq);
        for (const auto& loop : loops)
            dump("open-loop-" + std::to_string(static_cast<int>(loop.rate)), loop.result);
    }

    if (!o.markdown.empty()) {
        std::ofstream md(o.markdown);
        char b[700];
        auto row = [&](const std::string& what, const std::string& figure,
                       const std::string& note) {
            md << "| " << what << " | " << figure << " | " << note << " |\n";
        };
        auto lat = [&](const RestoreResult& r) {
            return "p50 **" + q_md(r.latency.p50) + "**, p90 " + q_md(r.latency.p90) + ", p99 **" +
                   q_md(r.latency.p99) + "**, max " + q_md(r.latency.max) + "; **" +
                   std::to_string(r.arrived) + " of " + std::to_string(r.sent) + "** arrived";
        };
        auto verdict = [&](const RestoreResult& r) {
            const bool met = r.sent > 0 && !r.latency.p99.censored && r.latency.p99.ms < 100.0;
            char b[300];
            std::snprintf(
                b, sizeof b,
                "target p99 < 100 ms: **%s**; webhook answered in p50 %.1f / p99 %.1f ms; "
                "CPU server/driver/other %s",
                met ? "met" : "missed", r.ack.p50.ms, r.ack.p99.ms, r.cpu.c_str());
            return std::string(b);
        };
        md << "| measurement | figure | notes |\n|---|---|---|\n";
        if (o.seq_cases > 0) {
            std::snprintf(b, sizeof b,
                          "invoice.paid → access.restored at the host, **sequential** (%zu "
                          "payments, one at a time)",
                          o.seq_cases);
            const std::string what = b;
            std::string note = verdict(seq);
            if (seq.arrived < seq.sent) {
                char w[120];
                std::snprintf(w, sizeof w, "; missing ones waited for %.0f s each", seq.wait_s);
                note += w;
            }
            row(what, lat(seq), note);
        }
        for (const auto& loop : loops) {
            const auto& r = loop.result;
            std::snprintf(b, sizeof b,
                          "same, **open loop at %.0f/s**, %d connections (%zu payments)", loop.rate,
                          o.connections, loop.count);
            const std::string what = b;
            std::snprintf(
                b, sizeof b,
                "; sent at %.1f/s (%zu sends > 5 ms late); waited up to %.0f s after the last send",
                r.achieved_rate, r.late_sends, r.wait_s);
            const std::string tail = b;
            row(what, lat(r), verdict(r) + tail);
        }
        if (o.query_seconds > 0) {
            std::snprintf(b, sizeof b, "**%.0f req/s**, p50 %s, p99 %s, max %s", q.rps,
                          q_md(q.latency.p50).c_str(), q_md(q.latency.p99).c_str(),
                          q_md(q.latency.max).c_str());
            std::string fig = b;
            std::snprintf(
                b, sizeof b,
                "%zu requests in %.0f s, %zu errors, %zu wrong answers; CPU server/driver/other %s",
                q.requests, o.query_seconds, q.errors, q.wrong, q.cpu.c_str());
            row("GET /v1/creators/{c}/access?member=…&course=…, " +
                    std::to_string(o.query_threads) + " keep-alive threads",
                fig, b);
        }
        if (o.inproc_calls > 0) {
            std::snprintf(b, sizeof b, "**%.0f calls/s**, mean %.2f µs, p50 %.2f µs, p99 %.2f µs",
                          in.calls_per_s, in.mean_us, in.p50_us, in.p99_us);
            std::string fig = b;
            std::snprintf(b, sizeof b,
                          "%zu calls, one thread, %zu wrong answers, %zu without an answer",
                          in.calls, in.wrong, in.missing);
            row("plugin::Module::access(creator, member, course), in-process", fig, b);
        }
        std::snprintf(b, sizeof b, "peak (VmHWM) **%.1f MiB**, at the end %.1f MiB", rss_peak,
                      rss_now);
        row("measured server RSS", b,
            std::string("over the restores and the HTTP queries; its mail outbox directory: ") +
                (o.fresh_outbox ? "empty at the start (--fresh-outbox)"
                                : "the one setup wrote its final notices into (" +
                                      std::to_string(members) + " files)"));
        std::snprintf(b, sizeof b, "%.1f s for %zu members, setup server peak RSS %.1f MiB",
                      setup_s, members, setup_rss);
        std::string fig = b;
        std::snprintf(b, sizeof b,
                      "not a target; setup server synchronous=%s; the host received %s",
                      o.setup_synchronous.c_str(), setup_notes.c_str());
        row("setup: failures → +20 d → +14 d 1 h → all locked", fig, b);
        std::snprintf(b, sizeof b, "%llu in all, %llu bad signatures, %llu repeated ids",
                      static_cast<unsigned long long>(host.total()),
                      static_cast<unsigned long long>(host.bad_signatures()),
                      static_cast<unsigned long long>(host.duplicates()));
        row("host notifications received", b, host.summary());
        std::snprintf(b, sizeof b, "%.0f MiB when the measured server started", store_mib);
        row("store", b,
            o.stored_copies > 0
                ? "every member with " + std::to_string(o.stored_copies) +
                      " earlier paid invoices (--stored-copies): cases, inbox rows, jobs, access "
                      "history"
                : std::string("setup's data only"));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{
        "Access benchmark: payment → access restored and host notified; access query throughput"};
    app.add_option("--dunning", o.dunning, "The dunning binary")->required();
    app.add_option("--fixtures", o.fixtures, "Stripe fixtures directory (api-2020-08-27/ inside)");
    app.add_option("--dir", o.dir, "Working directory (default: a fresh one under $TMPDIR)");
    app.add_option("--synchronous", o.synchronous, "[storage] synchronous of the measured server")
        ->check(CLI::IsMember({"full", "normal"}));
    app.add_option(
        "--open-loop", o.open_loops,
        "RATE:COUNT: an open-loop run of COUNT payments at RATE per second; repeat for several, "
        "run in the order given (default 50:3000 200:10000)");
    app.add_option("--sequential-cases", o.seq_cases, "Payments in the sequential run");
    app.add_option("--extra-locked", o.extra_locked,
                   "Members left locked (never paid), for the query mix")
        ->check(CLI::PositiveNumber);
    app.add_option("--connections", o.connections, "Open-loop sender connections")
        ->check(CLI::Range(1, 64));
    app.add_option("--wait", o.wait_s,
                   "Seconds to wait for access.restored: per payment (sequential), "
                   "after the last send (open loop)");
    app.add_option("--query-seconds", o.query_seconds, "Duration of the HTTP query run (0: skip)");
    app.add_option("--query-threads", o.query_threads, "HTTP query threads")
        ->check(CLI::Range(1, 64));
    app.add_option("--inproc-calls", o.inproc_calls, "In-process access() calls (0: skip)");
    app.add_option("--setup-synchronous", o.setup_synchronous,
                   "[storage] synchronous of the setup server")
        ->check(CLI::IsMember({"full", "normal"}));
    app.add_option(
        "--receiver-nodelay", o.receiver_nodelay,
        "TCP_NODELAY on the host receiver's sockets (true, as web servers do; false to see Nagle)");
    app.add_flag(
        "--fresh-outbox", o.fresh_outbox,
        "The measured server writes mail into an empty outbox directory instead of the one "
        "holding setup's final notices (the file outbox scans its directory on every send)");
    app.add_option("--perf-dir", o.perf_dir,
                   "Record the server with perf per phase into this directory");
    app.add_option("--dump", o.dump_dir,
                   "Write each payment's send time and latency to DIR/restore-*.csv");
    app.add_option("--markdown", o.markdown, "Write the results table (Markdown) to this file");
    app.add_flag("--keep", o.keep, "Keep the working directory");
    app.add_option("--stored-copies", o.stored_copies,
                   "Before the measured server starts, give every member this many earlier paid "
                   "invoices (cases, inbox rows, jobs, access history): a store K+1 times as large")
        ->check(CLI::NonNegativeNumber);
    CLI11_PARSE(app, argc, argv);
    if (o.seq_cases == 0 && o.open_loops.empty()) {
        std::fprintf(stderr,
                     "access_bench: nothing to pay (no --open-loop and --sequential-cases 0)\n");
        return 2;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        say("ERROR: %s", e.what());
        return 1;
    }
}
