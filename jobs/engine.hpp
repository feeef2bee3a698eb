#pragma once
// What every path into a case shares (webhooks, timers, charge results, creator commands):
// load, decide, save the new state with its next wake-up, queue the effects, and re-run the
// access rules for the member's products — all in the caller's transaction.
#include "access/query.hpp"
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/access.hpp"
#include "core/case_engine.hpp"
#include "store/access_store.hpp"
#include "store/cases.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace dunning::jobs {

class Engine {
  public:
    // Each creator's rules as `creators` has them at the time they are used. The engine changes
    // a creator there only when Stripe reports its connection ended (stripe_connection.hpp).
    Engine(const config::Config& config, config::CreatorRegistry& creators, const Clock& clock);
    // The creators of the file alone (the commands that run without the service).
    Engine(const config::Config& config, const Clock& clock);

    const Clock& clock() const { return clock_; }
    config::CreatorRegistry& creators() const { return creators_; }
    // Creators whose Stripe connection an event changed inside a transaction: the registry is
    // made to agree with the store again once it committed (jobs::settle_connection_changes).
    void note_connection_change(const std::string& creator) const;
    std::vector<std::string> take_connection_changes() const;
    CasePolicy policy_for(const std::string& creator) const;
    AccessPolicy access_policy_for(const std::string& creator) const;
    access::CourseMap courses_for(const std::string& creator) const;
    // Host notifications are queued only when [host] webhook_url is set.
    bool notifies_host() const { return notifies_host_; }

    void run_case(store::Connection& db, store::CaseRecord& c, const CaseInput& input) const;

    // Re-runs the access rules for these products of a member (all of the member's known
    // products when `products` is empty), saves what changed, records it in the history and
    // queues the host notifications it calls for. `in_hand`: a case of that member just saved,
    // taken as it is instead of being read back.
    void refresh_access(store::Connection& db, const std::string& creator,
                        const std::string& customer, std::vector<std::string> products,
                        const store::CaseRecord* in_hand = nullptr) const;
    // The products a case's invoice is for: its line items, else its subscription's.
    std::vector<std::string> case_products(store::Connection& db, const CaseState& s) const;
    // Entitlements whose rules change with time alone (an override expiring, a lock at the end of
    // a final notice) and are due by `due_by`; returns how many.
    std::size_t run_due_rechecks(store::Connection& db, Timestamp due_by, int limit = 500) const;

  private:
    struct CreatorRules {
        CasePolicy cases;
        AccessPolicy access;
        access::CourseMap courses;
    };
    // Built from the creator's snapshot and kept until the registry holds a newer one.
    std::shared_ptr<const CreatorRules> rules_for(const std::string& creator) const;
    void notify_case(store::Connection& db, const store::CaseRecord& c, const NotifyHost& n) const;

    struct CachedRules {
        config::CreatorRegistry::Snapshot from;
        std::shared_ptr<const CreatorRules> rules;
    };
    const Clock& clock_;
    std::unique_ptr<config::CreatorRegistry> own_creators_; // the second constructor's
    config::CreatorRegistry& creators_;
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, CachedRules, std::less<>> cache_;
    mutable std::mutex changes_mutex_;
    mutable std::vector<std::string> connection_changes_;
    std::shared_ptr<const CreatorRules> fallback_ = std::make_shared<CreatorRules>();
    bool notifies_host_ = false;
};

CasePolicy policy_from_config(const config::CreatorConfig& creator);

} // namespace dunning::jobs
