#pragma once
// The one durable job queue: effects decided for a case (charges, emails, end-of-schedule
// actions), card reminders and notifications to the host platform, each a row of `jobs`
// written in the caller's transaction and carried out later by a dispatcher.
//
// - A job with an order key is not claimed while an earlier job with the same key is still
//   pending (waiting, due or in flight): a member's notifications reach the platform in order.
// - A claim marks the job as taken by one JobQueue (one run of the service) for a lease. On
//   PostgreSQL, where several instances share the queue, the lease lasts the connection's
//   claim_lease ([storage] claim_lease_seconds, 5 minutes unless set: longer than the slowest
//   single job, a Stripe call's 3 tries of 10 s connect and 30 s read (about 2 minutes) or an
//   SMTP session's 30 s, short enough that an instance's death delays the jobs it held by
//   minutes); the run
//   renews it (hold) before it carries out each job, and once it has run out another instance
//   may take the job over (the one that claimed it died, or hangs). On SQLite, which one instance
//   uses, the lease is zero: a job claimed by a run that ended without finishing it is claimable
//   again by the next run at once.
// - A failure is retried after the BackoffPolicy's delay until the policy gives up; the job then
//   stays in the table, state 'failed', with its last answer.
#include "core/time.hpp"
#include "store/job_payload.hpp"

#include "store/database.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

// The delay before the n-th retry: base · factor^(n-1), at most cap, plus up to `jitter` so that
// a recovering server is not hit by every job at once. Gives up after max_attempts failures or
// once the retries have spanned give_up_after (zero: no such limit), counted in the waits the
// policy scheduled: time the service was down or the job was postponed does not count, so
// after downtime a job gets its full share of retries.
struct BackoffPolicy {
    std::chrono::seconds base{60};
    double factor = 2;
    std::chrono::seconds cap{3600};
    std::chrono::seconds jitter{30};
    int max_attempts = 0;
    std::chrono::seconds give_up_after{0};

    std::chrono::seconds delay(int failures) const; // without the jitter
    Timestamp next_try(Timestamp now, int failures) const;
    bool gives_up(int failures) const; // after the failure numbered `failures`
};

struct NewJob {
    JobPayload payload;
    std::string idempotency_key; // what the other side dedupes on (Idempotency-Key, Message-ID, id)
    std::optional<std::int64_t> case_id{};
    std::optional<std::string> order_key{};
    std::optional<Timestamp> due{}; // none: now
    bool once = false; // skip it when a job of its kind with this idempotency key exists
};

struct Job {
    std::int64_t id = 0;
    JobPayload payload;
    std::string idempotency_key;
    std::optional<std::int64_t> case_id;
    std::optional<std::string> order_key;
    int tries = 0; // failures so far
    Timestamp created{};
    std::string claimed_by{}; // the run that claimed it (JobQueue::claim); "" for no claim
};

// Returns the new job's id, 0 when `once` skipped it.
std::int64_t enqueue(Connection& db, const NewJob& job, Timestamp now);

// A run's id for the process `pid` of this machine (its boot and PID namespace), with a random
// part: a later process on the machine can tell from it whether the run's process is gone. Just
// the random part where /proc does not tell the boot and namespace.
std::string run_id_of_process(long pid);
// Gives back the claims of runs whose process ran on this machine (this boot, this PID namespace)
// and is gone (kill -9, a crash), at once rather than when their lease runs out: a restarted
// instance takes up the jobs its predecessor held. The claims of a process that still runs, or
// ran elsewhere, wait for their lease. Returns how many jobs it gave back.
std::size_t release_claims_of_dead_processes(Connection& db);

class JobQueue {
  public:
    using WallClock = std::function<std::int64_t()>; // unix milliseconds

    JobQueue(); // a run of its own (run_id_of_process of this process)
    // `lease`: the connection's claim_lease when not given; `wall`: when not given, PostgreSQL's
    // clock (one for every instance, whatever their machines' clocks say) or, on SQLite, the
    // machine's. Leases are real time, not the module clock's.
    explicit JobQueue(std::string run, std::optional<std::chrono::milliseconds> lease = {},
                      WallClock wall = {});

    // Claims due jobs of one kind, earliest due first, at most `limit`, in one transaction (a
    // job whose payload cannot be read is set aside as failed first, in one of its own). A job
    // another run holds is left alone until its lease has run out. On PostgreSQL the claim takes
    // the write lock shared (Transaction::keyed) and locks the rows it claims, passing by those
    // another claim has locked (FOR UPDATE SKIP LOCKED): instances claim side by side, and
    // beside the events being decided.
    std::vector<Job> claim(Connection& db, JobKind kind, Timestamp now, int limit) const;
    // Right before carrying out a claimed job (outside a transaction): renews the claim for
    // another lease and says whether the job is still this run's. False: the lease ran out and
    // another instance took the job over, or it is finished; then leave it alone. Writes nothing
    // where the lease is zero.
    bool hold(Connection& db, const Job& job) const;
    // Gives claimed jobs back untouched (a dispatcher stopping before it got to them).
    void release(Connection& db, const std::vector<Job>& jobs) const;

  private:
    std::vector<Job> claim_due(Connection& db, JobKind kind, Timestamp now, int limit) const;
    std::chrono::milliseconds lease(const Connection& db) const;
    std::int64_t wall_ms(Connection& db) const;

    std::string run_;
    std::optional<std::chrono::milliseconds> lease_;
    WallClock wall_;
};

// These work in the caller's transaction, on a claimed job only while the run that claimed it
// (Job::claimed_by) still holds it: once another instance has taken the job over, what this run
// learnt is not written, and false (Retry::not_held) tells the caller to leave the job's case
// alone too. `state`: done | failed | cancelled.
bool finish_job(Connection& db, const Job& job, const std::string& state, const std::string& result,
                Timestamp now);
enum class Retry { scheduled, gave_up, not_held };
// A failed try: scheduled again after the policy's delay, or given up ('failed', `error` as
// result).
Retry fail_job(Connection& db, const Job& job, const BackoffPolicy& policy,
               const std::string& error, Timestamp now);
// Not tried now, for a reason that is no failure: due again at `due`, no try counted.
bool postpone_job(Connection& db, const Job& job, Timestamp due, const std::string& note);

// Whether a charge of the case due by `due_by` has no outcome yet: queued, or claimed by a run
// that has not recorded what Stripe answered.
bool charge_under_way(Connection& db, std::int64_t case_id, Timestamp due_by);

// What happened to a case's jobs, oldest first (the case API's actions).
struct JobRecord {
    std::string kind, state, result, last_error;
    nlohmann::json payload;
    int tries = 0;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> done_at;
};
std::vector<JobRecord> case_actions(Connection& db, std::int64_t case_id);

struct PendingJobs {
    std::int64_t count = 0;
    std::optional<Timestamp> oldest;
};
PendingJobs pending_jobs(Connection& db, JobKind kind);

} // namespace dunning::store
