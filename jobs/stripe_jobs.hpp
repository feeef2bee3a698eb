#pragma once
// Carries out due jobs that talk to Stripe (charges, end-of-schedule actions, invoices paid
// out of band) and feeds each charge's outcome back into its case. A crash between the call and the
// bookkeeping repeats the call with the same Idempotency-Key, so Stripe answers without charging
// again.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "jobs/claimed_jobs.hpp"
#include "jobs/engine.hpp"
#include "retry/stripe_client.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"

namespace dunning::jobs {

class StripeGateway {
  public:
    StripeGateway(const config::Config& config, const config::CreatorRegistry& creators,
                  retry::StripeClientOptions options);
    // The creator's own key, or the platform's key acting for the connected account.
    std::optional<retry::StripeAuth> auth_for(const std::string& creator) const;
    // A disabled creator's Stripe calls wait until it is enabled again.
    bool disabled(const std::string& creator) const;
    // Its Stripe account is disconnected: no call is made for it until it connects again.
    bool disconnected(const std::string& creator) const;
    retry::StripeClient& client() { return client_; }

  private:
    const config::Config& config_;
    const config::CreatorRegistry& creators_;
    retry::StripeClient client_;
};

// Claims due charge and end_of_schedule jobs and carries them out; returns how many it
// finished or rescheduled. Stops early (giving back the jobs not yet started) when `yield` says
// webhooks are waiting: a Stripe call can take long.
std::size_t dispatch_due(store::Connection& db, const Engine& engine, StripeGateway& stripe,
                         const store::JobQueue& queue, const YieldCheck& yield = {});

// Cases whose timer is due by `due_by` get a Tick, at most `limit`; returns how many. Where
// transactions run side by side (PostgreSQL), each case's member lock is taken first, as an
// event's unit takes it (Transaction::keyed): instances tick side by side and beside the events
// being decided. A case whose member another transaction holds stays due for the next round.
// `more_due`, when given, says whether cases due by then may be left: `limit` of them were found,
// or a member was held elsewhere.
std::size_t run_due_timers(store::Connection& db, const Engine& engine, Timestamp due_by,
                           int limit = 500, bool* more_due = nullptr);

} // namespace dunning::jobs
