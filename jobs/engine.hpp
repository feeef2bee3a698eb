#pragma once
// What every path into a case shares (webhooks, timers, charge results, creator commands):
// load, decide, save the new state with its next wake-up, queue the effects, and re-run the
// access rules for the member's products — all in the caller's transaction.
#include "access/query.hpp"
#include "config/config.hpp"
#include "core/access.hpp"
#include "core/case_engine.hpp"
#include "store/access_store.hpp"
#include "store/cases.hpp"

#include <map>
#include <string>

namespace dunning::jobs {

class Engine {
  public:
    Engine(const config::Config& config, const Clock& clock);

    const Clock& clock() const { return clock_; }
    const CasePolicy& policy_for(const std::string& creator) const;
    const AccessPolicy& access_policy_for(const std::string& creator) const;
    const access::CourseMap& courses_for(const std::string& creator) const;
    // Host notifications are queued only when [host] webhook_url is set.
    bool notifies_host() const { return notifies_host_; }

    void run_case(store::Connection& db, store::CaseRecord& c, const CaseInput& input) const;

    // Re-runs the access rules for these products of a member (all of the member's known
    // products when `products` is empty), saves what changed, records it in the history and
    // queues the host notifications it calls for.
    void refresh_access(store::Connection& db, const std::string& creator,
                        const std::string& customer, std::vector<std::string> products) const;
    // The products a case's invoice is for: its line items, else its subscription's.
    std::vector<std::string> case_products(store::Connection& db, const CaseState& s) const;
    // Entitlements whose rules change with time alone (an override expiring); returns how many.
    std::size_t run_due_rechecks(store::Connection& db, int limit = 500) const;

  private:
    struct CreatorRules {
        CasePolicy cases;
        AccessPolicy access;
        access::CourseMap courses;
    };
    const CreatorRules& rules_for(const std::string& creator) const;
    void notify_case(store::Connection& db, const store::CaseRecord& c, const NotifyHost& n) const;

    const Clock& clock_;
    std::map<std::string, CreatorRules, std::less<>> rules_;
    CreatorRules fallback_;
    bool notifies_host_ = false;
};

CasePolicy policy_from_config(const config::CreatorConfig& creator);

} // namespace dunning::jobs
