#pragma once
// The access store: entitlements (one row per creator, member and product) with their history,
// the creators' overrides (audited: who, when, why; revoked, never deleted), the members'
// subscriptions as Stripe last described them. SQL only: what the rows mean is decided in
// core/access.hpp. Every function works in the caller's transaction. The tables are created by
// the store's migrations (store/migrations.cpp); notifications to the host platform are queued
// by store/notifications.hpp.
#include "core/access.hpp"
#include "core/event.hpp"

#include "store/database.hpp"
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dunning::store {

struct EntitlementKey {
    std::string creator;
    std::string customer; // the member: a Stripe customer id
    std::string product;  // a Stripe product id
    bool operator==(const EntitlementKey&) const = default;
};

// ---- entitlements and their history

// The row's state; its recheck time into `recheck_at` when one is given.
std::optional<EntitlementState> load_entitlement(Connection& db, const EntitlementKey& key,
                                                 std::optional<Timestamp>* recheck_at = nullptr);
// Inserts or replaces the row; `recheck_at` is when the rules must run again by time alone, `now`
// goes into its updated_at: when the access rules last wrote the row, which they do only when its
// state or its recheck time changes (recheck_creator_now moves recheck_at and leaves updated_at).
void save_entitlement(Connection& db, const EntitlementKey& key, const EntitlementState& state,
                      std::optional<Timestamp> recheck_at, Timestamp now);
// Every entitlement of the creator with a recheck ahead becomes due now (a creator enabled again:
// what its members' access waited for is decided at once).
void recheck_creator_now(Connection& db, const std::string& creator, Timestamp now);
// Entitlements whose recheck time has come, oldest first (by index).
std::vector<EntitlementKey> due_rechecks(Connection& db, Timestamp now, int limit);
// Products the member has an entitlement row for.
std::vector<std::string> entitlement_products(Connection& db, const std::string& creator,
                                              const std::string& customer);
// All of the member's entitlement rows, by product (one statement: the access query's read).
std::vector<std::pair<std::string, EntitlementState>>
member_entitlements(Connection& db, const std::string& creator, const std::string& customer);

struct HistoryEntry {
    std::int64_t id = 0; // increasing: the order changes were made in
    EntitlementKey key;
    AccessChange change;
};
void append_history(Connection& db, const EntitlementKey& key, const AccessChange& change);
// A member's changes, oldest first; `product` empty: all products.
std::vector<HistoryEntry> member_history(Connection& db, const std::string& creator,
                                         const std::string& customer,
                                         const std::string& product = "", int limit = 1000);
// All changes with an id above `after_id`, oldest first (feeds in-process listeners).
std::vector<HistoryEntry> history_after(Connection& db, std::int64_t after_id, int limit);

// ---- subscriptions

// Keeps the newest snapshot by `as_of` (Stripe's event created time); products are replaced
// only when the snapshot names some. Returns the products now on record for it.
std::vector<std::string> save_subscription(Connection& db, const std::string& creator,
                                           const SubscriptionFacts& facts, Timestamp as_of);
// An invoice of this subscription was paid at `at`: last_paid_at = max(last_paid_at, at).
// Creates the row (status unknown) when the subscription was never described.
void note_subscription_paid(Connection& db, const std::string& creator,
                            const std::string& subscription_id, const std::string& customer,
                            Timestamp at);
std::vector<std::string> subscription_products(Connection& db, const std::string& creator,
                                               const std::string& subscription_id);
// The member's subscriptions that include `product`.
std::vector<SubscriptionStanding> subscriptions_for(Connection& db, const std::string& creator,
                                                    const std::string& customer,
                                                    const std::string& product);

// ---- overrides

struct OverrideRecord {
    std::int64_t id = 0;
    std::string creator;
    std::string customer;
    std::string product; // "" = every product of the member
    AccessLevel level = AccessLevel::granted;
    std::optional<Timestamp> until;
    std::string note; // why, in the creator's words (required by the API)
    std::string
        actor; // who: "api:<creator>" for the creator's API token, or the embedding host's name
    Timestamp created{};
    std::optional<Timestamp> revoked_at;
    std::string revoked_by;
    std::string revoke_note;

    AccessOverride as_rule() const { return {id, level, created, until, revoked_at}; }
};
std::int64_t add_override(Connection& db, const OverrideRecord& record); // returns its id
// Marks it revoked (kept for the audit); false when there is no such override of this creator
// or it was already revoked.
bool revoke_override(Connection& db, const std::string& creator, std::int64_t id,
                     const std::string& actor, const std::string& note, Timestamp now);
std::optional<OverrideRecord> get_override(Connection& db, const std::string& creator,
                                           std::int64_t id);
// All of a member's overrides, revoked ones included, oldest first.
std::vector<OverrideRecord> member_overrides(Connection& db, const std::string& creator,
                                             const std::string& customer);
// The overrides that bear on one product (its own and the member-wide ones), as rules.
std::vector<AccessOverride> overrides_for(Connection& db, const EntitlementKey& key);

// ---- listener cursor (the history rows in-process listeners have seen)

std::int64_t listener_cursor(Connection& db);
void set_listener_cursor(Connection& db, std::int64_t history_id);

} // namespace dunning::store
