#pragma once
// Carrying out a claimed batch so that no job stays in this run's hands when its work throws.
// A claim keeps a job from being claimed again by the same run; left claimed, it would wait for
// the next restart.
#include "jobs/settle_batch.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"
#include "telemetry/log.hpp"

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace dunning::jobs {

// Whether a dispatcher should stop between two jobs (see carry_out).
using YieldCheck = std::function<bool()>;

// Runs `work` on each job in turn that is still this run's (JobQueue::hold), then commits what
// `settle` (if given) still holds. When the store is in trouble (busy, full, I/O error), every job
// of the batch not finished yet is given back and the exception goes on: the loop tries again
// later. Any other error (a case that cannot be read, a payload that does not fit) is that job's
// failed try, retried after `policy`'s delay, and the batch goes on.
//
// `yield` (if given) is asked before each job after the first: when it says yes (webhooks are
// waiting), what is settled is committed, the jobs not started are given back untouched, and the
// number carried out is returned, so that the caller sees to the webhooks first.
template <class Work>
std::size_t carry_out(store::Connection& db, const store::JobQueue& queue,
                      const std::vector<store::Job>& jobs, const store::BackoffPolicy& policy,
                      Timestamp now, SettleBatch* settle, Work&& work,
                      const YieldCheck& yield = {}) {
    std::size_t i = 0;
    try {
        for (; i < jobs.size(); ++i) {
            if (i > 0 && yield && yield()) {
                if (settle) settle->flush();
                queue.release(db, {jobs.begin() + static_cast<std::ptrdiff_t>(i), jobs.end()});
                return i;
            }
            // Another instance took the job over when this run's lease ran out: it is
            // theirs to carry out.
            if (!queue.hold(db, jobs[i])) {
                telemetry::log_warn(std::string(store::kind_name(store::kind_of(jobs[i].payload))) +
                                    " job " + std::to_string(jobs[i].id) +
                                    ": taken over by another instance, left to it");
                continue;
            }
            try {
                work(jobs[i]);
            } catch (const std::exception& e) {
                if (store::store_in_trouble(e)) throw;
                const auto what = std::string(store::kind_name(store::kind_of(jobs[i].payload))) +
                                  " job " + std::to_string(jobs[i].id) + ": " + e.what();
                store::Transaction tx(db);
                const auto retry = store::fail_job(db, jobs[i], policy, e.what(), now);
                tx.commit();
                telemetry::log_error(what + (retry == store::Retry::gave_up     ? "; given up"
                                             : retry == store::Retry::scheduled ? "; will retry"
                                                                                : "; taken over "
                                                                                  "by another "
                                                                                  "instance"));
            }
        }
        if (settle) settle->flush();
    } catch (...) {
        try {
            queue.release(db, jobs); // finished jobs are no longer claimed: untouched
        } catch (const std::exception& e) {
            telemetry::log_error(std::string("could not give claimed jobs back (the next start "
                                             "takes them up): ") +
                                 e.what());
        }
        throw;
    }
    return jobs.size();
}

} // namespace dunning::jobs
