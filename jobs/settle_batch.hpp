#pragma once
// The bookkeeping of finished jobs (a charge's answer fed to its case, an email marked sent),
// committed together: one commit for many, each unit under its own savepoint so that one that
// fails is undone alone. The work itself (the call to Stripe, the send) happens before, outside
// any transaction; a crash before the commit repeats it with the same idempotency key, as a
// crash between the work and a commit of its own always did.
//
// A batch is committed once it holds `max_units`, once `max_wait` has passed since it was last
// committed (slow calls: each answer is committed as soon as it comes), before work on a case
// whose bookkeeping is waiting (so that work reads the case as it now is), and by flush().
#include "store/database.hpp"
#include "store/job_queue.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dunning::jobs {

class SettleBatch {
  public:
    using Unit = std::function<void(store::Connection&)>;

    explicit SettleBatch(store::Connection& db, std::size_t max_units = 64,
                         std::chrono::microseconds max_wait = std::chrono::milliseconds{2});
    ~SettleBatch(); // commits what is left; logs (never throws) if the store fails then
    SettleBatch(const SettleBatch&) = delete;
    SettleBatch& operator=(const SettleBatch&) = delete;

    // Call before working on a case: commits first if that case has bookkeeping waiting.
    void before(std::optional<std::int64_t> case_id);
    // `what` names the unit in the log if it fails.
    void add(std::optional<std::int64_t> case_id, std::string what, Unit unit);
    // The bookkeeping of `job`: if it fails for a reason other than the store's, it is undone
    // and counted as a failed try of the job (retried after `policy`'s delay), so the job never
    // stays claimed.
    void add(const store::Job& job, const store::BackoffPolicy& policy, Timestamp now,
             std::string what, Unit unit);
    // Commits the waiting units. Throws when the store itself fails (all of them are then undone
    // and their jobs stay claimed, to be tried again).
    void flush();

  private:
    struct Pending {
        std::string what;
        Unit unit;
        std::function<void(store::Connection&, const std::string& error)> on_failure;
    };
    void push(std::optional<std::int64_t> case_id, Pending pending);

    store::Connection& db_;
    std::size_t max_units_;
    std::chrono::microseconds max_wait_;
    std::chrono::steady_clock::time_point since_;
    std::vector<Pending> pending_;
    std::set<std::int64_t> cases_;
};

} // namespace dunning::jobs
