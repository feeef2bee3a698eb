#include "store/job_queue.hpp"

#include "store/statement.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

namespace dunning::store {

namespace {

using nlohmann::json;

std::int64_t unix_of(Timestamp t) {
    return static_cast<std::int64_t>(to_unix(t));
}

std::mt19937_64& rng() {
    static thread_local std::mt19937_64 r{std::random_device{}()};
    return r;
}

std::string random_hex() {
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 16; ++i)
        id += hex[std::uniform_int_distribution<int>(0, 15)(rng())];
    return id;
}

// This machine (its name and boot) and this process's PID namespace ("" where /proc does not
// tell): a process ID names one process only within them.
const std::string& local_place() {
    static const std::string place = [] {
        std::string boot;
        std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot);
        std::error_code ec;
        const auto ns = std::filesystem::read_symlink("/proc/self/ns/pid", ec).string();
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
        for (char* c = host; *c; ++c)
            if (*c == '/') *c = '_';
        return boot.size() == 36 && !ec && !ns.empty() ? std::string(host) + "/" + boot + "/" + ns
                                                       : std::string();
    }();
    return place;
}

std::string new_run_id() {
    return run_id_of_process(static_cast<long>(getpid()));
}

std::optional<std::int64_t> optional_int(const Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}

// Due jobs of one kind in no run's hands (never claimed, or the claim's lease ran out at
// `wall_ms`) but this one's; a keyed job only when it is its key's oldest. A claim without a
// lease (made before leases existed) has run out. With `lock_rows`, where transactions run side
// by side (PostgreSQL), the rows read are locked to the caller's transaction and rows another one
// has locked are passed by: instances claiming at once get different jobs and never wait for each
// other.
std::vector<Job> due_jobs(Connection& db, JobKind kind, Timestamp now, int limit,
                          const std::string& run, std::int64_t wall_ms,
                          std::vector<std::int64_t>& unreadable, bool lock_rows) {
    static const std::string select =
        "SELECT id, case_id, order_key, payload, idempotency_key, tries, created_at FROM jobs j "
        "WHERE state = 'pending' AND kind = ?1 AND due_at <= ?2 AND (claimed_by IS NULL OR "
        "(claimed_by <> ?3 AND coalesce(claimed_until, 0) <= ?5)) AND (order_key IS NULL OR "
        "NOT EXISTS (SELECT 1 FROM jobs p WHERE p.state = 'pending' AND p.order_key = j.order_key "
        "AND p.id < j.id)) ORDER BY due_at, id LIMIT ?4";
    static const std::string select_locking = select + " FOR UPDATE OF j SKIP LOCKED";
    CachedStatement st(db, lock_rows && db.locks_keys() ? select_locking : select);
    st.bind(1, kind_name(kind));
    st.bind(2, unix_of(now));
    st.bind(3, run);
    st.bind(4, limit);
    st.bind(5, wall_ms);
    std::vector<Job> out;
    while (st.executeStep()) {
        Job j;
        j.id = st.getColumn(0).getInt64();
        try {
            j.payload = decode_payload(kind_name(kind), json::parse(st.getColumn(3).getString()));
        } catch (const std::exception&) {
            unreadable.push_back(j.id);
            continue;
        }
        j.case_id = optional_int(st.getColumn(1));
        if (!st.getColumn(2).isNull()) j.order_key = st.getColumn(2).getString();
        j.idempotency_key = st.getColumn(4).getString();
        j.tries = st.getColumn(5).getInt();
        j.created = from_unix(st.getColumn(6).getInt64());
        j.claimed_by = run;
        out.push_back(std::move(j));
    }
    return out;
}

} // namespace

std::chrono::seconds BackoffPolicy::delay(int failures) const {
    const double seconds =
        static_cast<double>(base.count()) * std::pow(factor, std::max(failures - 1, 0));
    return std::chrono::seconds(
        static_cast<std::int64_t>(std::min(seconds, static_cast<double>(cap.count()))));
}

Timestamp BackoffPolicy::next_try(Timestamp now, int failures) const {
    const auto spread = jitter.count() > 0
                            ? std::uniform_int_distribution<std::int64_t>(0, jitter.count())(rng())
                            : 0;
    return now + delay(failures) + std::chrono::seconds(spread);
}

bool BackoffPolicy::gives_up(int failures) const {
    if (max_attempts > 0 && failures >= max_attempts) return true;
    if (give_up_after.count() <= 0) return false;
    std::chrono::seconds retrying{0}; // the waits between the tries so far, as scheduled
    for (int n = 1; n < failures; ++n) {
        retrying += delay(n);
        if (retrying >= give_up_after) return true;
    }
    return false;
}

std::int64_t enqueue(Connection& db, const NewJob& job, Timestamp now) {
    // A keyed job behind a pending one of its key waits with due_at NULL (see the schema). The
    // casts give PostgreSQL the parameters' types, which a SELECT list does not tell it.
    CachedStatement st(
        db,
        "INSERT INTO jobs (kind, case_id, order_key, payload, idempotency_key, due_at, created_at) "
        "SELECT ?1, CAST(?2 AS BIGINT), CAST(?3 AS TEXT), ?4, ?5, CASE WHEN ?3 IS NOT NULL AND "
        "EXISTS (SELECT 1 FROM jobs WHERE state = 'pending' AND order_key = ?3) THEN NULL "
        "ELSE CAST(?6 AS BIGINT) END, CAST(?7 AS BIGINT) "
        "WHERE ?8 = 0 OR NOT EXISTS (SELECT 1 FROM jobs WHERE kind = ?1 AND idempotency_key = ?5) "
        "RETURNING id");
    st.bind(1, kind_name(kind_of(job.payload)));
    if (job.case_id) st.bind(2, *job.case_id);
    if (job.order_key) st.bind(3, *job.order_key);
    st.bind(4, payload_text(job.payload));
    st.bind(5, job.idempotency_key);
    st.bind(6, unix_of(job.due.value_or(now)));
    st.bind(7, unix_of(now));
    st.bind(8, job.once ? 1 : 0);
    return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

std::string run_id_of_process(long pid) {
    const auto& place = local_place();
    return place.empty() ? random_hex() : place + "/" + std::to_string(pid) + "/" + random_hex();
}

std::size_t release_claims_of_dead_processes(Connection& db) {
    const auto& place = local_place();
    if (place.empty()) return 0;
    const auto prefix = place + "/";
    CachedStatement runs(db, "SELECT DISTINCT claimed_by FROM jobs WHERE state = 'pending' AND "
                             "claimed_by IS NOT NULL");
    std::vector<std::string> dead;
    while (runs.executeStep()) {
        const auto run = runs.getColumn(0).getString();
        if (!run.starts_with(prefix)) continue; // another machine's, namespace's or boot's
        const auto rest = run.substr(prefix.size());
        const auto slash = rest.find('/');
        long pid = 0;
        const auto digits = rest.substr(0, slash);
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), pid);
        if (slash == std::string::npos || error != std::errc() ||
            end != digits.data() + digits.size() || pid <= 0 ||
            pid > std::numeric_limits<pid_t>::max())
            continue;
        if (kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) dead.push_back(run);
    }
    std::size_t released = 0;
    CachedStatement release(db, "UPDATE jobs SET claimed_by = NULL, claimed_until = NULL WHERE "
                                "state = 'pending' AND claimed_by = ?");
    for (const auto& run : dead) {
        release.bind(1, run);
        released += static_cast<std::size_t>(release.exec());
        release.reset();
    }
    return released;
}

JobQueue::JobQueue() : run_(new_run_id()) {}

JobQueue::JobQueue(std::string run, std::optional<std::chrono::milliseconds> lease, WallClock wall)
    : run_(std::move(run)), lease_(lease), wall_(std::move(wall)) {}

std::chrono::milliseconds JobQueue::lease(const Connection& db) const {
    return lease_.value_or(db.claim_lease);
}

std::int64_t JobQueue::wall_ms(Connection& db) const {
    if (wall_) return wall_();
    if (db.backend() == Backend::postgresql) {
        // The database's clock: a machine whose clock runs ahead would otherwise see the other
        // instances' leases run out early.
        CachedStatement st(db,
                           "SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)");
        st.executeStep();
        return st.getColumn(0).getInt64();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<Job> JobQueue::claim(Connection& db, JobKind kind, Timestamp now, int limit) const {
    std::vector<std::int64_t> unreadable;
    if (due_jobs(db, kind, now, limit, run_, wall_ms(db), unreadable, false).empty() &&
        unreadable.empty())
        return {};
    if (!unreadable.empty()) {
        // Setting an unreadable job aside lets the next job of its key become due, which must not
        // meet a unit queueing one behind it: under the whole write lock, and before anything is
        // claimed, so that a failure here leaves no claim behind.
        Transaction tx(db);
        for (const auto id : unreadable) {
            Job j;
            j.id = id;
            finish_job(db, j, "failed", "unreadable payload", now);
        }
        tx.commit();
    }
    return claim_due(db, kind, now, limit);
}

// The claim writes only its own rows' claim (locked by due_jobs where transactions run side by
// side): it needs no member's key and does not wait for other claims or decisions. A job found
// unreadable only now is left for the next claim to set aside.
std::vector<Job> JobQueue::claim_due(Connection& db, JobKind kind, Timestamp now, int limit) const {
    Transaction tx(db, Transaction::keyed);
    std::vector<std::int64_t> unreadable;
    const auto wall = wall_ms(db);
    auto due = due_jobs(db, kind, now, limit, run_, wall, unreadable, true);
    // The claim's condition again: a run renewing its lease (hold, outside this transaction)
    // since the jobs were read keeps its job.
    CachedStatement mark(db, "UPDATE jobs SET claimed_by = ?1, claimed_until = ?2 WHERE id = ?3 "
                             "AND (claimed_by IS NULL OR (claimed_by <> ?1 AND "
                             "coalesce(claimed_until, 0) <= ?4))");
    std::vector<Job> jobs;
    const auto length = lease(db);
    for (auto& j : due) {
        mark.bind(1, run_);
        // A zero lease is none: the claim holds only against this run itself (a clock set back
        // after a restart must not make the run before look alive).
        if (length.count() > 0)
            mark.bind(2, wall + length.count());
        else
            mark.bind(2);
        mark.bind(3, j.id);
        mark.bind(4, wall);
        if (mark.exec() == 1) jobs.push_back(std::move(j));
        mark.reset();
    }
    tx.commit();
    return jobs;
}

bool JobQueue::hold(Connection& db, const Job& job) const {
    const auto length = lease(db);
    if (length.count() == 0) return true; // one instance: nobody else takes a claimed job
    CachedStatement st(db, "UPDATE jobs SET claimed_until = ? WHERE id = ? AND claimed_by = ? "
                           "AND state = 'pending'");
    st.bind(1, wall_ms(db) + length.count());
    st.bind(2, job.id);
    st.bind(3, run_);
    return st.exec() == 1;
}

// In one transaction (its callers hold none): each UPDATE committed on its own was a commit,
// and at synchronous = full an fsync, per job given back; a dispatcher that yields to webhooks
// after its first job gives back up to 99.
void JobQueue::release(Connection& db, const std::vector<Job>& jobs) const {
    if (jobs.empty()) return;
    Transaction tx(db, Transaction::keyed); // writes only this run's own claims
    CachedStatement st(db, "UPDATE jobs SET claimed_by = NULL WHERE id = ? AND claimed_by = ?");
    for (const auto& j : jobs) {
        st.bind(1, j.id);
        st.bind(2, run_);
        st.exec();
        st.reset();
    }
    tx.commit();
}

namespace {
// The fence of the three below: a claimed job is written only while its run still holds it
// (parameter n: Job::claimed_by), or while nobody does and it is still pending (the run gave it
// back, e.g. when the store failed, before its bookkeeping was committed).
std::string held(int n) {
    const auto p = "?" + std::to_string(n);
    return "(" + p + " = '' OR claimed_by = " + p +
           " OR (claimed_by IS NULL AND state = 'pending'))";
}
} // namespace

bool finish_job(Connection& db, const Job& job, const std::string& state, const std::string& result,
                Timestamp now) {
    CachedStatement st(db, std::string("UPDATE jobs SET state = ?1, result = ?2, done_at = ?3, "
                                       "claimed_by = NULL WHERE id = ?4 AND ") +
                               held(5) + " RETURNING order_key");
    st.bind(1, state);
    st.bind(2, result);
    st.bind(3, unix_of(now));
    st.bind(4, job.id);
    st.bind(5, job.claimed_by);
    if (!st.executeStep()) return false; // another run's now
    if (st.getColumn(0).isNull()) return true;
    const auto key = st.getColumn(0).getString();
    st.reset();
    // The key's next job (now its oldest pending) becomes due.
    CachedStatement next(db, "UPDATE jobs SET due_at = ?1 WHERE due_at IS NULL AND id = ("
                             "SELECT id FROM jobs WHERE state = 'pending' AND order_key = ?2 "
                             "ORDER BY id LIMIT 1)");
    next.bind(1, unix_of(now));
    next.bind(2, key);
    next.exec();
    return true;
}

Retry fail_job(Connection& db, const Job& job, const BackoffPolicy& policy,
               const std::string& error, Timestamp now) {
    const int failures = job.tries + 1;
    if (policy.gives_up(failures))
        return finish_job(db, job, "failed", error, now) ? Retry::gave_up : Retry::not_held;
    CachedStatement st(db, std::string("UPDATE jobs SET tries = ?1, due_at = ?2, last_error = ?3, "
                                       "claimed_by = NULL WHERE id = ?4 AND ") +
                               held(5));
    st.bind(1, failures);
    st.bind(2, unix_of(policy.next_try(now, failures)));
    st.bind(3, error);
    st.bind(4, job.id);
    st.bind(5, job.claimed_by);
    return st.exec() == 1 ? Retry::scheduled : Retry::not_held;
}

bool postpone_job(Connection& db, const Job& job, Timestamp due, const std::string& note) {
    CachedStatement st(db, std::string("UPDATE jobs SET due_at = ?1, last_error = ?2, "
                                       "claimed_by = NULL WHERE id = ?3 AND ") +
                               held(4));
    st.bind(1, unix_of(due));
    st.bind(2, note);
    st.bind(3, job.id);
    st.bind(4, job.claimed_by);
    return st.exec() == 1;
}

bool charge_under_way(Connection& db, std::int64_t case_id, Timestamp due_by) {
    // The case's own few jobs (jobs_by_case): `kind || ''` keeps SQLite from searching jobs_due,
    // every pending charge of every case, instead.
    CachedStatement st(db, "SELECT 1 FROM jobs WHERE case_id = ? AND kind || '' = 'charge' "
                           "AND state = 'pending' AND due_at <= ? LIMIT 1");
    st.bind(1, case_id);
    st.bind(2, unix_of(due_by));
    return st.executeStep();
}

std::vector<JobRecord> case_actions(Connection& db, std::int64_t case_id) {
    CachedStatement st(
        db, "SELECT kind, state, coalesce(result, ''), coalesce(last_error, ''), "
            "payload, tries, created_at, done_at FROM jobs WHERE case_id = ? ORDER BY id");
    st.bind(1, case_id);
    std::vector<JobRecord> out;
    while (st.executeStep()) {
        JobRecord e{st.getColumn(0).getString(),
                    st.getColumn(1).getString(),
                    st.getColumn(2).getString(),
                    st.getColumn(3).getString(),
                    json::parse(st.getColumn(4).getString()),
                    st.getColumn(5).getInt(),
                    st.getColumn(6).getInt64(),
                    optional_int(st.getColumn(7))};
        out.push_back(std::move(e));
    }
    return out;
}

PendingJobs pending_jobs(Connection& db, JobKind kind) {
    // Walks the kind's pending jobs (jobs_due, then each row for its created_at): a scrape of the
    // metrics reads what is waiting, and no index by age is kept for it at every change of a job.
    PendingJobs p;
    CachedStatement st(db, "SELECT count(*), min(created_at) FROM jobs "
                           "WHERE state = 'pending' AND kind = ?");
    st.bind(1, kind_name(kind));
    if (!st.executeStep()) return p;
    p.count = st.getColumn(0).getInt64();
    if (!st.getColumn(1).isNull()) p.oldest = from_unix(st.getColumn(1).getInt64());
    return p;
}

} // namespace dunning::store
