// A claimed batch whose work throws leaves no job in this run's hands: an error of the job is
// its failed try, trouble of the store gives the batch back.
#include "jobs/claimed_jobs.hpp"
#include "store/statement.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

namespace dunning::jobs {
namespace {

using namespace std::chrono_literals;
using store::EmailJob;
using store::Job;
using store::JobKind;

class ClaimedJobs : public ::testing::Test {
  protected:
    testing::TempDir dir;
    store::StoreOptions options{(dir.path() / "dunning.sqlite").string(), "normal"};
    std::unique_ptr<store::Connection> db = store::open_store(options);
    Timestamp now = from_unix(1'760'000'000);
    store::JobQueue queue;
    const store::BackoffPolicy policy{.jitter = 0s};

    void add(const std::string& message) {
        store::enqueue(*db, {.payload = EmailJob{message, 0}, .idempotency_key = message}, now);
    }
    std::vector<std::string> claim_all() {
        std::vector<std::string> out;
        for (const auto& j : queue.claim(*db, JobKind::email, now, 100))
            out.push_back(std::get<EmailJob>(j.payload).message);
        return out;
    }
    std::string state_of(const std::string& message) {
        store::CachedStatement st(
            *db, "SELECT state || ' ' || tries FROM jobs WHERE idempotency_key = ?");
        st.bind(1, message);
        return st.executeStep() ? st.getColumn(0).getString() : "(none)";
    }
    static const std::string& message_of(const Job& job) {
        return std::get<EmailJob>(job.payload).message;
    }
};

// Several instances on one database: a run whose lease ran out before it got to a job leaves it
// to the instance that took it over.
TEST_F(ClaimedJobs, AJobAnotherRunTookOverIsNotCarriedOut) {
    std::int64_t wall = 1'760'000'000'000;
    const store::JobQueue slow{"slow", 1000ms, [&] { return wall; }};
    const store::JobQueue other{"other", 1000ms, [&] { return wall; }};
    add("first");
    add("second");
    const auto jobs = slow.claim(*db, JobKind::email, now, 100);
    ASSERT_EQ(jobs.size(), 2u);
    std::vector<std::string> done;
    const auto taken = [&] {
        wall += 1000; // the first took the slow run past its lease
        const auto theirs = other.claim(*db, JobKind::email, now, 100);
        EXPECT_EQ(theirs.size(), 2u);
    };
    carry_out(*db, slow, jobs, policy, now, nullptr, [&](const Job& job) {
        done.push_back(message_of(job));
        if (message_of(job) == "first") taken();
        EXPECT_FALSE(store::finish_job(*db, job, "done", "ok", now)) << "the other run's now";
    });
    EXPECT_EQ(done, std::vector<std::string>{"first"});
    EXPECT_EQ(state_of("first"), "pending 0");
    EXPECT_EQ(state_of("second"), "pending 0");
}

TEST_F(ClaimedJobs, AJobThatThrowsIsAFailedTryAndTheBatchGoesOn) {
    add("bad");
    add("good");
    std::vector<std::string> done;
    const auto jobs = queue.claim(*db, JobKind::email, now, 100);
    carry_out(*db, queue, jobs, policy, now, nullptr, [&](const Job& job) {
        if (message_of(job) == "bad") throw std::runtime_error("unreadable state");
        store::finish_job(*db, job, "done", "ok", now);
        done.push_back(message_of(job));
    });
    EXPECT_EQ(done, std::vector<std::string>{"good"});
    EXPECT_EQ(state_of("bad"), "pending 1");
    now += policy.delay(1);
    EXPECT_EQ(claim_all(), std::vector<std::string>{"bad"}) << "retried after the backoff";
}

TEST_F(ClaimedJobs, TroubleOfTheStoreGivesTheRestOfTheBatchBack) {
    add("one");
    add("two");
    add("three");
    const auto jobs = queue.claim(*db, JobKind::email, now, 100);
    EXPECT_THROW(carry_out(*db, queue, jobs, policy, now, nullptr,
                           [&](const Job& job) {
                               if (message_of(job) == "two")
                                   throw store::StoreError("database is locked", true);
                               store::finish_job(*db, job, "done", "ok", now);
                           }),
                 store::StoreError);
    EXPECT_EQ(state_of("two"), "pending 0") << "no try counted against the job";
    EXPECT_EQ(claim_all(), (std::vector<std::string>{"two", "three"}))
        << "claimable again by the same run, without a restart";
}

TEST_F(ClaimedJobs, BookkeepingThatFailsInTheBatchIsAFailedTryOfItsJob) {
    add("bad");
    add("good");
    const auto jobs = queue.claim(*db, JobKind::email, now, 100);
    SettleBatch batch(*db);
    carry_out(*db, queue, jobs, policy, now, &batch, [&](const Job& job) {
        batch.add(job, policy, now, "email", [this, job](store::Connection& c) {
            store::finish_job(c, job, "done", "ok", now);
            if (message_of(job) == "bad") throw std::runtime_error("unreadable state");
        });
    });
    EXPECT_EQ(state_of("good"), "done 0");
    EXPECT_EQ(state_of("bad"), "pending 1") << "its finish undone, one try counted";
    now += policy.delay(1);
    EXPECT_EQ(claim_all(), std::vector<std::string>{"bad"});
}

TEST_F(ClaimedJobs, TroubleOfTheStoreWhileCommittingTheBatchGivesEveryUnfinishedJobBack) {
    add("one");
    add("two");
    const auto jobs = queue.claim(*db, JobKind::email, now, 100);
    {
        SettleBatch batch(*db);
        EXPECT_THROW(carry_out(*db, queue, jobs, policy, now, &batch,
                               [&](const Job& job) {
                                   batch.add(job, policy, now, "email", [](store::Connection&) {
                                       throw store::StoreError("disk I/O error", true);
                                   });
                               }),
                     store::StoreError);
    }
    EXPECT_EQ(state_of("one"), "pending 0");
    EXPECT_EQ(claim_all(), (std::vector<std::string>{"one", "two"}));
}

TEST_F(ClaimedJobs, ABatchThatYieldsCommitsWhatItSettledAndGivesTheRestBack) {
    add("one");
    add("two");
    add("three");
    const auto jobs = queue.claim(*db, JobKind::email, now, 100);
    SettleBatch batch(*db);
    bool webhooks_waiting = false;
    const auto n = carry_out(
        *db, queue, jobs, policy, now, &batch,
        [&](const Job& job) {
            batch.add(job, policy, now, "email", [this, job](store::Connection& c) {
                store::finish_job(c, job, "done", "ok", now);
            });
            webhooks_waiting = true; // a webhook came in while this job ran
        },
        [&] { return webhooks_waiting; });
    EXPECT_EQ(n, 1u) << "the first job is always carried out: the jobs progress";
    EXPECT_EQ(state_of("one"), "done 0") << "committed before giving way";
    EXPECT_EQ(state_of("two"), "pending 0") << "given back untouched, no try counted";
    EXPECT_EQ(claim_all(), (std::vector<std::string>{"two", "three"}))
        << "claimable again by the same run";
}

} // namespace
} // namespace dunning::jobs
