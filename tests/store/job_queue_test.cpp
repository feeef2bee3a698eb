// The job queue against a real store (SQLite; PostgreSQL in store_postgres_job_queue_tests):
// order per key, backoff under a fake clock, giving up, and claims that a restart takes over.
#include "store/database.hpp"
#include "store/job_queue.hpp"
#include "store/statement.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace dunning::store {
namespace {

using namespace std::chrono_literals;

Timestamp at(std::int64_t s) {
    return from_unix(1'760'000'000 + s);
}

EmailJob email(const std::string& message) {
    return {message, 0};
}

class Queue : public ::testing::Test {
  protected:
    testing::TestStore store;
    StoreOptions options = store.options();
    std::unique_ptr<store::Connection> db = open_store(options);
    FakeClock clock{at(0)};
    std::int64_t wall = 1'760'000'000'000; // the machine's clock for leases, unix ms
    JobQueue::WallClock wall_clock = [this] { return wall; };
    JobQueue queue{"first run", std::nullopt, wall_clock}; // the store's own lease

    std::int64_t add(const std::string& message, std::optional<std::string> key = std::nullopt) {
        return enqueue(*db,
                       {.payload = email(message), .idempotency_key = message, .order_key = key},
                       clock.now());
    }
    std::vector<std::string> claim(const JobQueue& q, int limit = 100) {
        std::vector<std::string> out;
        for (const auto& j : q.claim(*db, JobKind::email, clock.now(), limit))
            out.push_back(std::get<EmailJob>(j.payload).message);
        return out;
    }
    Job claim_one() {
        auto jobs = queue.claim(*db, JobKind::email, clock.now(), 1);
        if (jobs.empty()) throw std::runtime_error("nothing due");
        return jobs.front();
    }
    std::string column(std::int64_t id, const std::string& name) {
        CachedStatement st(*db, "SELECT " + name + " FROM jobs WHERE id = ?");
        st.bind(1, id);
        if (!st.executeStep()) return "(none)";
        return st.getColumn(0).isNull() ? "" : st.getColumn(0).getString();
    }
    Timestamp due_at(std::int64_t id) { return from_unix(std::stoll(column(id, "due_at"))); }
};

TEST_F(Queue, JobsOfOneKeyRunOneAtATimeOldestFirst) {
    add("a1", "alpha/cus_a");
    add("a2", "alpha/cus_a");
    add("b1", "alpha/cus_b");
    add("free");
    clock.advance(1s);
    // Runs whose claims another may take over at once (leases are another test's subject).
    const auto run = [this](const char* name) {
        return JobQueue{name, std::chrono::milliseconds{0}, wall_clock};
    };
    const auto first = run("first");
    // a2 waits while a1 is pending, and also while a1 is in flight.
    EXPECT_EQ(claim(first), (std::vector<std::string>{"a1", "b1", "free"}));
    EXPECT_TRUE(claim(first).empty());
    EXPECT_TRUE(claim(run("another")).size() == 3u)
        << "another run takes the three over, still not a2";

    // a1 fails and is retried later: a2 still waits; the others finish.
    const auto fresh = run("fresh");
    auto jobs = fresh.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 3u);
    const BackoffPolicy policy{.jitter = 0s};
    EXPECT_EQ(fail_job(*db, jobs[0], policy, "HTTP 503", clock.now()), Retry::scheduled);
    finish_job(*db, jobs[1], "done", "ok", clock.now());
    finish_job(*db, jobs[2], "done", "ok", clock.now());
    add("a3", "alpha/cus_a"); // queued during the retry: behind both
    clock.advance(59s);
    EXPECT_TRUE(claim(fresh).empty());
    clock.advance(1s);
    jobs = fresh.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(std::get<EmailJob>(jobs[0].payload).message, "a1");
    EXPECT_EQ(jobs[0].tries, 1);
    finish_job(*db, jobs[0], "done", "ok", clock.now());
    EXPECT_EQ(claim(fresh), (std::vector<std::string>{"a2"}));
}

TEST_F(Queue, BackoffTimesComeFromThePolicy) {
    const BackoffPolicy policy{.base = 60s, .factor = 2, .cap = 600s, .jitter = 0s};
    EXPECT_EQ(policy.delay(1), 60s);
    EXPECT_EQ(policy.delay(2), 120s);
    EXPECT_EQ(policy.delay(4), 480s);
    EXPECT_EQ(policy.delay(5), 600s);
    EXPECT_EQ(policy.delay(40), 600s);

    const auto id = add("m");
    for (const auto expected : {60s, 120s, 240s, 480s, 600s, 600s}) {
        const auto job = claim_one();
        EXPECT_EQ(fail_job(*db, job, policy, "451 try later", clock.now()), Retry::scheduled);
        EXPECT_EQ(due_at(id), clock.now() + expected);
        clock.advance(expected - 1s);
        EXPECT_TRUE(claim(queue).empty()) << "claimable one second early";
        clock.advance(1s);
    }
    EXPECT_EQ(column(id, "tries"), "6");
    EXPECT_EQ(column(id, "last_error"), "451 try later");
    EXPECT_EQ(column(id, "state"), "pending");
}

TEST_F(Queue, JitterAddsAtMostItsSpread) {
    const BackoffPolicy policy{.base = 60s, .jitter = 30s};
    for (int i = 0; i < 200; ++i) {
        const auto next = policy.next_try(clock.now(), 1);
        EXPECT_GE(next, clock.now() + 60s);
        EXPECT_LE(next, clock.now() + 90s);
    }
}

TEST_F(Queue, GivesUpAfterMaxAttemptsAndKeepsTheJob) {
    const BackoffPolicy policy{.jitter = 0s, .max_attempts = 3};
    const auto id = add("m");
    EXPECT_EQ(fail_job(*db, claim_one(), policy, "550 no", clock.now()), Retry::scheduled);
    clock.advance(1h);
    EXPECT_EQ(fail_job(*db, claim_one(), policy, "550 no", clock.now()), Retry::scheduled);
    clock.advance(1h);
    EXPECT_EQ(fail_job(*db, claim_one(), policy, "550 still no", clock.now()), Retry::gave_up);
    clock.advance(24h);
    EXPECT_TRUE(claim(JobQueue{}).empty());
    EXPECT_EQ(column(id, "state"), "failed");
    EXPECT_EQ(column(id, "result"), "550 still no");
    EXPECT_EQ(column(id, "done_at"), std::to_string(to_unix(clock.now() - 24h)));
}

TEST_F(Queue, GivesUpOnceItsRetriesSpannedTheLimit) {
    // Waits of 1 h, 2 h, 4 h: the fourth failure comes after 7 h of retrying.
    const BackoffPolicy policy{.base = 1h, .cap = 24h, .jitter = 0s, .give_up_after = 7h};
    const auto id = add("m");
    for (int failure = 1; failure <= 3; ++failure) {
        EXPECT_EQ(fail_job(*db, claim_one(), policy, "timeout", clock.now()), Retry::scheduled);
        clock.advance(policy.delay(failure));
    }
    EXPECT_EQ(fail_job(*db, claim_one(), policy, "timeout", clock.now()), Retry::gave_up);
    EXPECT_EQ(column(id, "state"), "failed");
}

TEST_F(Queue, DowntimeDoesNotCountAsRetrying) {
    const BackoffPolicy policy{.jitter = 0s, .give_up_after = 24h};
    const auto id = add("m");
    clock.advance(10 * 24h); // the service was down (or the job postponed) for ten days
    EXPECT_EQ(fail_job(*db, claim_one(), policy, "timeout", clock.now()), Retry::scheduled);
    EXPECT_EQ(column(id, "state"), "pending");
}

TEST_F(Queue, AJobGivenUpLetsTheNextOfItsKeyRun) {
    add("a1", "k");
    add("a2", "k");
    EXPECT_EQ(fail_job(*db, claim_one(), BackoffPolicy{.max_attempts = 1}, "no", clock.now()),
              Retry::gave_up);
    EXPECT_EQ(claim(queue), (std::vector<std::string>{"a2"}));
}

TEST_F(Queue, ClaimedButUnfinishedJobsAreClaimableAfterARestart) {
    add("one");
    add("two");
    add("three");
    auto jobs = queue.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 3u);
    finish_job(*db, jobs[0], "done", "ok", clock.now());
    EXPECT_TRUE(claim(queue).empty()) << "in this run's hands";

    // The process ends here, "two" and "three" unfinished; the next run opens the store again.
    db.reset();
    db = open_store(options);
    JobQueue next_run{"next run", std::nullopt, wall_clock};
    if (db->backend() == Backend::postgresql) {
        // Several instances may share it: the claims hold until their lease has run out.
        EXPECT_TRUE(claim(next_run).empty());
        wall += options.claim_lease.count();
    }
    EXPECT_EQ(claim(next_run), (std::vector<std::string>{"two", "three"}));
}

TEST_F(Queue, AJobAnotherRunHoldsIsLeftAloneUntilItsLeaseRunsOut) {
    const JobQueue a{"a", std::chrono::milliseconds{1000}, wall_clock};
    const JobQueue b{"b", std::chrono::milliseconds{1000}, wall_clock};
    add("one");
    const auto jobs = a.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 1u);
    wall += 999;
    EXPECT_TRUE(claim(b).empty());
    wall += 1;
    const auto theirs = b.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_FALSE(a.hold(*db, jobs[0])) << "taken over: no longer a's to carry out";
    EXPECT_TRUE(b.hold(*db, theirs[0]));
    EXPECT_TRUE(finish_job(*db, theirs[0], "done", "ok", clock.now()));
    EXPECT_FALSE(b.hold(*db, theirs[0])) << "finished";
}

// A process of this machine that is gone (a restart after kill -9): its claims are given back at
// once. Those of a process still running, and ids that name no process of this machine, wait for
// their lease.
TEST_F(Queue, AGoneProcessOfThisMachineHasItsClaimsGivenBack) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    ASSERT_EQ(waitpid(child, nullptr, 0), child); // reaped: the process ID names nobody now
    const JobQueue gone{run_id_of_process(child), std::chrono::milliseconds{60'000}, wall_clock};
    const JobQueue alive{run_id_of_process(getpid()), std::chrono::milliseconds{60'000},
                         wall_clock};
    const JobQueue elsewhere{"another machine/7/x", std::chrono::milliseconds{60'000}, wall_clock};
    const JobQueue next{"next", std::chrono::milliseconds{60'000}, wall_clock};
    for (const auto* q : {&gone, &alive, &elsewhere}) {
        add("held by " + std::to_string(q == &gone) + std::to_string(q == &alive));
        ASSERT_EQ(claim(*q).size(), 1u);
    }
    EXPECT_TRUE(claim(next).empty());
    EXPECT_EQ(release_claims_of_dead_processes(*db), 1u);
    EXPECT_EQ(claim(next), std::vector<std::string>{"held by 10"});
    EXPECT_EQ(release_claims_of_dead_processes(*db), 0u);
    EXPECT_TRUE(claim(next).empty()) << "the others wait for their lease";
}

TEST_F(Queue, ARunWhoseJobWasTakenOverRecordsNothingOfIt) {
    const JobQueue a{"a", std::chrono::milliseconds{1000}, wall_clock};
    const JobQueue b{"b", std::chrono::milliseconds{1000}, wall_clock};
    const auto id = add("one");
    const auto mine = a.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(mine.size(), 1u);
    wall += 1000; // a hung past its lease
    const auto theirs = b.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_FALSE(finish_job(*db, mine[0], "done", "a's answer", clock.now()));
    EXPECT_EQ(fail_job(*db, mine[0], BackoffPolicy{}, "a's error", clock.now()), Retry::not_held);
    EXPECT_FALSE(postpone_job(*db, mine[0], clock.now() + 1h, "a's note"));
    EXPECT_EQ(column(id, "state"), "pending");
    EXPECT_EQ(column(id, "claimed_by"), "b");
    EXPECT_EQ(column(id, "tries"), "0");
    EXPECT_TRUE(finish_job(*db, theirs[0], "done", "b's answer", clock.now()));
    EXPECT_FALSE(finish_job(*db, mine[0], "done", "a's answer", clock.now())) << "b finished it";
    EXPECT_EQ(column(id, "result"), "b's answer");

    // A job the run gave back (its bookkeeping not yet committed when the store failed) and
    // nobody took since is still the run's to record.
    const auto two = add("two");
    const auto back = a.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(back.size(), 1u);
    a.release(*db, back);
    EXPECT_TRUE(finish_job(*db, back[0], "done", "sent", clock.now()));
    EXPECT_EQ(column(two, "state"), "done");
}

TEST_F(Queue, HoldingAJobRenewsItsLease) {
    const JobQueue a{"a", std::chrono::milliseconds{1000}, wall_clock};
    const JobQueue b{"b", std::chrono::milliseconds{1000}, wall_clock};
    add("one");
    const auto jobs = a.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 1u);
    wall += 900;
    EXPECT_TRUE(a.hold(*db, jobs[0]));
    wall += 900; // 1800 ms after the claim, 900 after the renewal
    EXPECT_TRUE(claim(b).empty());
    wall += 100;
    EXPECT_EQ(claim(b), (std::vector<std::string>{"one"}));
}

TEST_F(Queue, AZeroLeaseLetsAnotherRunTakeTheJobAtOnce) {
    // SQLite's: one instance uses the store, so a claim of another run is a run that ended.
    const JobQueue a{"a", std::chrono::milliseconds{0}, wall_clock};
    const JobQueue b{"b", std::chrono::milliseconds{0}, wall_clock};
    add("one");
    const auto jobs = a.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_TRUE(a.claim(*db, JobKind::email, clock.now(), 100).empty()) << "a's own claim";
    EXPECT_EQ(claim(b), (std::vector<std::string>{"one"}));
    EXPECT_TRUE(a.hold(*db, jobs[0])) << "a zero lease is not checked";
}

TEST_F(Queue, TheStoreChoosesTheLease) {
    add("one");
    const auto jobs = queue.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 1u);
    const auto until = column(jobs[0].id, "claimed_until");
    if (db->backend() == Backend::postgresql)
        EXPECT_EQ(std::stoll(until) - wall, options.claim_lease.count());
    else
        EXPECT_EQ(until, "") << "SQLite: no lease, the claim is this run's until it ends";
}

TEST_F(Queue, ReleasedJobsAreClaimableAgainAtOnce) {
    add("one");
    add("two");
    auto jobs = queue.claim(*db, JobKind::email, clock.now(), 100);
    queue.release(*db, {jobs[1]});
    EXPECT_EQ(claim(queue), (std::vector<std::string>{"two"}));
}

TEST_F(Queue, JobsAreGivenBackInOneCommit) {
    for (const auto* name : {"one", "two", "three", "four"})
        add(name);
    const auto jobs = queue.claim(*db, JobKind::email, clock.now(), 100);
    ASSERT_EQ(jobs.size(), 4u);
    db->engine_work(true);
    queue.release(*db, jobs);
    const auto commits = db->engine_work().commits;
    if (commits >= 0) { // SQLite counts its commits; PostgreSQL's connection does not
        EXPECT_EQ(commits, 1) << "one commit (and fsync) for all four, not one each";
    }
    EXPECT_EQ(claim(queue), (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST_F(Queue, PostponedJobsCountNoTry) {
    const auto id = add("m");
    postpone_job(*db, claim_one(), clock.now() + 1h, "held: case paused");
    EXPECT_TRUE(claim(queue).empty());
    clock.advance(1h);
    EXPECT_EQ(claim_one().tries, 0);
    EXPECT_EQ(column(id, "last_error"), "held: case paused");
}

TEST_F(Queue, OnceSkipsAJobWhoseKeyIsQueuedAlready) {
    const NewJob reminder{.payload = CardReminderJob{"alpha", "pm_1", "a@example.org", "", 3, 2027},
                          .idempotency_key = "card-alpha-pm_1-2027-03",
                          .once = true};
    EXPECT_GT(enqueue(*db, reminder, clock.now()), 0);
    EXPECT_EQ(enqueue(*db, reminder, clock.now()), 0);
    auto jobs = queue.claim(*db, JobKind::card_reminder, clock.now(), 10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].payload, reminder.payload);
    EXPECT_EQ(jobs[0].idempotency_key, "card-alpha-pm_1-2027-03");
    EXPECT_TRUE(queue.claim(*db, JobKind::email, clock.now(), 10).empty()) << "claims are per kind";
}

TEST_F(Queue, AnUnreadableJobIsSetAsideNotClaimed) {
    const auto id = add("m");
    db->exec("UPDATE jobs SET payload = '{\"stage\": 1}' WHERE id = " + std::to_string(id));
    add("n");
    EXPECT_EQ(claim(queue), (std::vector<std::string>{"n"}));
    EXPECT_EQ(column(id, "state"), "failed");
    EXPECT_EQ(column(id, "result"), "unreadable payload");
}

} // namespace
} // namespace dunning::store
