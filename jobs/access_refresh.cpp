// The access side of the Engine: gathers an entitlement's facts from the store (the member's
// cases, subscriptions and overrides), lets core/access.hpp decide, and stores the outcome.
#include "jobs/engine.hpp"
#include "store/case_json.hpp"
#include "store/json_time.hpp"
#include "store/notifications.hpp"

#include <algorithm>

namespace dunning::jobs {

namespace {

constexpr std::chrono::hours disabled_recheck{1};

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

nlohmann::json access_data(const store::EntitlementKey& key, const access::CourseMap& courses,
                           const EntitlementState& next, const AccessChange& change) {
    return {{"access",
             {{"member", key.customer},
              {"product", key.product},
              {"courses", courses.courses_of(key.product)},
              {"level", to_string(change.to)},
              {"previous_level", to_string(change.from)},
              {"reason", change.reason},
              {"case", change.case_id ? nlohmann::json(change.case_id) : nlohmann::json(nullptr)},
              {"override",
               change.override_id ? nlohmann::json(change.override_id) : nlohmann::json(nullptr)},
              {"since", store::time_or_null(next.since == Timestamp{} ? std::nullopt
                                                                      : std::optional{next.since})},
              {"lock_at", store::time_or_null(next.lock_at)}}}};
}

} // namespace

std::vector<std::string> Engine::case_products(store::Connection& db, const CaseState& s) const {
    if (!s.invoice.products.empty()) return s.invoice.products;
    if (s.invoice.subscription_id.empty()) return {};
    return store::subscription_products(db, s.creator_id, s.invoice.subscription_id);
}

void Engine::refresh_access(store::Connection& db, const std::string& creator,
                            const std::string& customer, std::vector<std::string> products,
                            const store::CaseRecord* in_hand) const {
    if (customer.empty()) return;
    const auto rules_held = rules_for(creator); // kept while the rules are used
    const auto& rules = *rules_held;
    if (products.empty()) {
        // Everything of the member's: the products on record and every product the creator maps
        // (a member-wide override must hold for a product the member has no record of yet).
        products = store::entitlement_products(db, creator, customer);
        for (auto& p : rules.courses.products())
            if (!contains(products, p)) products.push_back(std::move(p));
    }
    const auto now = clock_.now();
    // A disabled or disconnected creator's members lose no access until it is enabled or connected
    // again; what restores access (a payment, a grant) still does: a member who paid is never
    // kept out by our pause.
    const auto snapshot = creators_.find(creator);
    const bool disabled = snapshot && (snapshot->disabled || snapshot->stripe_disconnected);

    // The member's cases, each with the products it concerns, read once for all products, in id
    // order (a tie between claims goes to the older): every case whose claim can say more than
    // "payment failed, access granted", and of the quiet ones (core/access.hpp, quiet_claim) the
    // oldest of each product, the only one that can decide (bench/ingest/README.md, "One
    // member"). The case in hand as it is, not read back.
    struct Read {
        std::int64_t id;
        AccessClaim claim;
        std::vector<std::string> products;
    };
    std::vector<Read> read;
    const auto add = [&](std::int64_t id, const CaseState& s) {
        read.push_back({id, claim_of(id, s, rules.cases), case_products(db, s)});
    };
    const bool own = in_hand && in_hand->id > 0 && in_hand->state.creator_id == creator &&
                     in_hand->state.invoice.customer_id == customer;
    const std::int64_t except = own ? in_hand->id : 0;
    if (own && store::may_restrict_access(in_hand->state)) add(in_hand->id, in_hand->state);
    // A member with no case but the one in hand (a new member's first failed payment) has none to
    // search for: one search of the member's cases instead of the ten below, which would find
    // nothing. With any other invoice on record (paid ones too), the ten run as before.
    const bool others = store::customer_has_other_cases(db, creator, customer, except);
    if (others) store::visit_loud_cases_of_customer(db, creator, customer, except, add);
    // Of the quiet ones, the oldest of each product. A quiet case in hand is read already and
    // decides for its products unless an older stored one does: the search for those stops at
    // its id. (It reads every quiet case of the member when one of the products has none older,
    // as a refresh of every product the creator maps can ask.)
    std::vector<std::string> without_quiet = products; // no quiet case found for these yet
    const auto drop = [&](const std::vector<std::string>& found) {
        const auto covered =
            std::remove_if(without_quiet.begin(), without_quiet.end(),
                           [&](const std::string& p) { return contains(found, p); });
        const bool any = covered != without_quiet.end();
        without_quiet.erase(covered, without_quiet.end());
        return any;
    };
    const bool quiet_in_hand = own && quiet_claim(in_hand->state);
    const auto hand_products = quiet_in_hand ? read.front().products : std::vector<std::string>{};
    // The oldest one alone first: it is of every product the member has (in the common case).
    for (std::int64_t after = 0; others && !without_quiet.empty();) {
        const int limit = after == 0 ? 1 : 16;
        const auto page =
            store::quiet_cases_of_customer(db, creator, customer, except, after, limit);
        for (const auto& c : page) {
            if (quiet_in_hand && c.id > in_hand->id) drop(hand_products);
            if (without_quiet.empty()) break;
            auto products_of_case = case_products(db, c.state);
            if (!drop(products_of_case)) continue; // an older one decides for these
            read.push_back(
                {c.id, claim_of(c.id, c.state, rules.cases), std::move(products_of_case)});
        }
        if (page.size() < static_cast<std::size_t>(limit)) break;
        after = page.back().id;
    }
    std::sort(read.begin(), read.end(), [](const Read& a, const Read& b) { return a.id < b.id; });
    std::vector<AccessClaim> claims;
    for (const auto& r : read)
        claims.push_back(r.claim);
    see_plans_as_one(claims);

    for (const auto& product : products) {
        const store::EntitlementKey key{creator, customer, product};
        AccessFacts facts;
        for (std::size_t i = 0; i < claims.size(); ++i)
            if (contains(read[i].products, product)) facts.claims.push_back(claims[i]);
        facts.subscriptions = store::subscriptions_for(db, creator, customer, product);
        facts.overrides = store::overrides_for(db, key);
        const auto verdict = evaluate_access(facts, now, rules.access);
        std::optional<Timestamp> stored_recheck;
        const auto stored = store::load_entitlement(db, key, &stored_recheck);
        const auto update = next_entitlement(stored, stored_recheck, verdict, now);
        if (!update.save) continue;
        EntitlementState held = stored.value_or(EntitlementState{});
        if (!stored) held.since = now;
        if (disabled && update.next.level > held.level) { // looked at again in an hour
            store::save_entitlement(db, key, held, now + disabled_recheck, now);
            continue;
        }
        store::save_entitlement(db, key, update.next, update.recheck_at, now);
        if (!update.change) continue;
        store::append_history(db, key, *update.change);
        if (notifies_host_ && update.notification)
            store::queue_notification(db, creator, customer, *update.notification,
                                      access_data(key, rules.courses, update.next, *update.change),
                                      now);
    }
}

std::size_t Engine::run_due_rechecks(store::Connection& db, Timestamp due_by, int limit) const {
    const auto keys = store::due_rechecks(db, due_by, limit);
    for (const auto& k : keys)
        refresh_access(db, k.creator, k.customer, {k.product});
    return keys.size();
}

} // namespace dunning::jobs
