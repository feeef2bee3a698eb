// The access side of the Engine: gathers an entitlement's facts from the store (the member's
// cases, subscriptions and overrides), lets core/access.hpp decide, and stores the outcome.
#include "store/case_json.hpp"
#include "jobs/engine.hpp"

#include <algorithm>

namespace dunning::jobs {

using store::cases_of_customer;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

nlohmann::json access_data(const store::EntitlementKey& key, const access::CourseMap& courses,
                           const EntitlementState& next, const AccessChange& change) {
    auto opt_time = [](const std::optional<Timestamp>& t) {
        return t ? nlohmann::json(iso8601(*t)) : nlohmann::json(nullptr);
    };
    return {{"access",
             {{"member", key.customer},
              {"product", key.product},
              {"courses", courses.courses_of(key.product)},
              {"level", to_string(change.to)},
              {"previous_level", to_string(change.from)},
              {"reason", change.reason},
              {"case", change.case_id ? nlohmann::json(change.case_id) : nlohmann::json(nullptr)},
              {"override", change.override_id ? nlohmann::json(change.override_id) : nlohmann::json(nullptr)},
              {"since", next.since == Timestamp{} ? nlohmann::json(nullptr) : nlohmann::json(iso8601(next.since))},
              {"lock_at", opt_time(next.lock_at)}}}};
}

} // namespace

std::vector<std::string> Engine::case_products(SQLite::Database& db, const CaseState& s) const {
    if (!s.invoice.products.empty()) return s.invoice.products;
    if (s.invoice.subscription_id.empty()) return {};
    return store::subscription_products(db, s.creator_id, s.invoice.subscription_id);
}

void Engine::refresh_access(SQLite::Database& db, const std::string& creator,
                            const std::string& customer, std::vector<std::string> products) const {
    if (customer.empty()) return;
    const auto& rules = rules_for(creator);
    if (products.empty()) {
        // Everything of the member's: the products on record and every product the creator maps
        // (a member-wide override must hold for a product the member has no record of yet).
        products = store::entitlement_products(db, creator, customer);
        for (auto& p : rules.courses.products())
            if (!contains(products, p)) products.push_back(std::move(p));
    }
    const auto now = clock_.now();

    // The member's cases, each with the products it concerns, read once for all products.
    std::vector<std::pair<AccessClaim, std::vector<std::string>>> claims;
    for (const auto& c : cases_of_customer(db, creator, customer)) // only those that can restrict
        claims.emplace_back(claim_of(c.id, c.state, rules.cases), case_products(db, c.state));

    for (const auto& product : products) {
        const store::EntitlementKey key{creator, customer, product};
        AccessFacts facts;
        for (const auto& [claim, of] : claims)
            if (contains(of, product)) facts.claims.push_back(claim);
        facts.subscriptions = store::subscriptions_for(db, creator, customer, product);
        facts.overrides = store::overrides_for(db, key);
        auto verdict = evaluate_access(facts, now, rules.access);
        if (verdict.recheck_at && *verdict.recheck_at <= now) verdict.recheck_at.reset();

        const auto stored = store::load_entitlement(db, key);
        auto decision = decide_access(stored.value_or(EntitlementState{}), verdict, now);
        // A restore names the case that had restricted access (the one just paid).
        if (decision.change && !decision.change->case_id && stored) decision.change->case_id = stored->case_id;
        if (!decision.change && (!stored || stored->lock_at == decision.next.lock_at)) {
            // Nothing new to record; keep the recheck time current for a stored row.
            if (stored) store::save_entitlement(db, key, decision.next, verdict.recheck_at, now);
            continue;
        }
        store::save_entitlement(db, key, decision.next, verdict.recheck_at, now);
        if (!decision.change) continue;
        store::append_history(db, key, *decision.change);
        if (!notifies_host_) continue;
        if (const auto type = notification_for(*decision.change))
            store::queue_notification(db, creator, customer, *type,
                                       access_data(key, rules.courses, decision.next, *decision.change),
                                       now);
    }
}

std::size_t Engine::run_due_rechecks(SQLite::Database& db, int limit) const {
    const auto keys = store::due_rechecks(db, clock_.now(), limit);
    for (const auto& k : keys) refresh_access(db, k.creator, k.customer, {k.product});
    return keys.size();
}

} // namespace dunning::jobs
