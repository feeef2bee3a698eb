#pragma once
// Course access while a member owes money: one entitlement per (creator, member, product).
// The level is recomputed from facts every time (the member's claims, their subscriptions,
// the creator's overrides), never accumulated, so duplicate and out-of-order webhooks converge
// on the same answer. Decisions only; the store and the notifications live in access/ and plugin/.
#include "core/case.hpp"
#include "core/case_engine.hpp"
#include "core/time.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dunning {

// Ordered by restriction. `grace`: full access, but a lock is announced (the final notice's
// deadline runs). `limited`: what the member already completed stays (lessons done,
// certificates), new content is blocked. `locked`: everything is blocked.
enum class AccessLevel { granted = 0, grace = 1, limited = 2, locked = 3 };

// The one spelling of each level: config keys, the store's columns, API and webhook answers.
struct AccessLevelName {
    AccessLevel level;
    const char* name;
};
inline constexpr std::array<AccessLevelName, 4> access_level_names = {{
    {AccessLevel::granted, "granted"},
    {AccessLevel::grace, "grace"},
    {AccessLevel::limited, "limited"},
    {AccessLevel::locked, "locked"},
}};
// A value outside the enum (a cast gone wrong) reads "locked": no answer opens content by mistake.
const char* to_string(AccessLevel level);
std::optional<AccessLevel> access_level_from(std::string_view text);
inline bool blocks_content(AccessLevel level) {
    return level >= AccessLevel::limited;
}

// The rules as data ([access] in the config, [creators.access] over it).
struct AccessPolicy {
    // Level while a claim's newest dunning email is the stage named here (a CasePolicy stage
    // message); stages not listed keep full access.
    std::map<std::string, AccessLevel, std::less<>> during_stage = {
        {"reminder", AccessLevel::granted},
        {"formal_reminder", AccessLevel::granted},
        {"final_notice", AccessLevel::grace}};
    AccessLevel after_final_deadline = AccessLevel::locked;  // limited or locked
    AccessLevel on_lost_dispute = AccessLevel::locked;       // limited or locked, at once
    AccessLevel on_subscription_ended = AccessLevel::locked; // unpaid, or canceled for non-payment
    // The final notice's deadline locks only claims whose open amount is above this (minor
    // units of the claim's currency). Lost disputes and ended subscriptions lock whatever the
    // amount.
    std::int64_t min_amount_minor = 1000;
    // [access] on_objection: "unchanged" (false: the rules above keep applying while the member's
    // objection stands) or "grant" (true: full access until it is withdrawn).
    bool grant_on_objection = false;
};

// One claim (a case) as the access rules see it. Built by claim_of() from the case.
struct AccessClaim {
    std::int64_t case_id = 0;
    bool unpaid = false;   // the case is open, escalated, or uncollectible: money is still owed
    bool paused = false;   // the creator paused dunning (or the member promised to pay)
    bool objected = false; // the member's objection stands
    std::string stage;     // newest dunning email sent ("" before the first)
    std::optional<Timestamp> lock_at; // when the final notice's deadline ends (the announced lock)
    std::int64_t amount_minor = 0;    // open amount
    std::string currency;
    std::string plan; // the subscription of the instalment plan it belongs to, "" if none
    std::optional<Timestamp> opened_at;       // its first failure
    std::optional<Timestamp> dispute_lost_at; // a dispute on its payment was lost (SEPA: at once)
    std::optional<Timestamp> repaid_at;       // paid again after that dispute
};

// A subscription as the rules see it: Stripe's status as of `as_of` and the newest payment of
// one of its invoices. A payment after the status snapshot wins over it (late webhooks).
struct SubscriptionStanding {
    std::string subscription_id;
    std::string status;              // active, past_due, unpaid, canceled, …
    std::string cancellation_reason; // payment_failed, payment_disputed, cancellation_requested
    Timestamp as_of{};
    std::optional<Timestamp> last_paid_at;
};

// A creator's override: it wins over every rule while it is in force, and each one is audited
// (who, when, why) by the store.
struct AccessOverride {
    std::int64_t id = 0;
    AccessLevel level = AccessLevel::granted; // "grant anyway" is the common one
    Timestamp created{};
    std::optional<Timestamp> until; // none: until revoked
    std::optional<Timestamp> revoked_at;
    bool in_force(Timestamp now) const {
        return created <= now && !revoked_at && (!until || now < *until);
    }
};

// Everything known about one entitlement.
struct AccessFacts {
    std::vector<AccessClaim> claims;
    std::vector<SubscriptionStanding> subscriptions;
    std::vector<AccessOverride> overrides;
};

// Reasons, as the API and the notifications spell them.
namespace access_reason {
inline constexpr const char* in_good_standing = "in_good_standing"; // no unpaid claim
inline constexpr const char* payment_failed = "payment_failed";     // claim open, no email yet
inline constexpr const char* dunning = "dunning";                   // a stage with full access
inline constexpr const char* final_notice = "final_notice";         // lock announced (grace)
inline constexpr const char* dunning_paused = "dunning_paused";
inline constexpr const char* objection = "objection"; // access granted while it stands
inline constexpr const char* below_minimum_amount = "below_minimum_amount";
inline constexpr const char* final_notice_deadline_passed = "final_notice_deadline_passed";
inline constexpr const char* dispute_lost = "dispute_lost";
inline constexpr const char* subscription_unpaid = "subscription_unpaid";
inline constexpr const char* subscription_canceled = "subscription_canceled";
inline constexpr const char* creator_override = "creator_override";
} // namespace access_reason

struct AccessVerdict {
    AccessLevel level = AccessLevel::granted;
    std::string reason = access_reason::in_good_standing;
    std::int64_t case_id = 0;         // the claim behind the verdict, 0 if none
    std::int64_t override_id = 0;     // the override behind the verdict, 0 if none
    std::optional<Timestamp> lock_at; // an announced lock still ahead (grace)
    // When the verdict can change with time alone (an override expiring); the claims' own
    // times are the case engine's wake-ups, which re-run the rules anyway.
    std::optional<Timestamp> recheck_at;

    bool operator==(const AccessVerdict&) const = default;
};

// The rules: an override in force wins (the newest one); otherwise the most restrictive of
// what each claim and each subscription calls for.
AccessVerdict evaluate_access(const AccessFacts& facts, Timestamp now, const AccessPolicy& policy);

// Whether the final notice's deadline locks this claim (its open amount is above the minimum);
// the final notice announces the lock exactly then.
bool deadline_locks(const AccessClaim& claim, const AccessPolicy& policy);

// A case seen as a claim; `policy` gives the final notice's deadline and the stage names.
AccessClaim claim_of(std::int64_t case_id, const CaseState& c, const CasePolicy& policy);

// Whether a case's claim can only ever say "payment failed, access granted", whatever the rules
// and the time: an open case (status_of) before its first dunning stage, no final notice, not an
// instalment. Of a member's quiet claims only the oldest for a product can decide a verdict (a
// later one only ties with it, and a tie keeps the first), so the access rules read the quiet
// cases no further than that (the store keeps the flag in cases.access_quiet).
bool quiet_claim(const CaseState& c);

// An instalment plan is one purchase: for the minimum amount, an unpaid instalment counts
// together with the plan's instalments that were already unpaid when it failed (in the same
// currency). Never with later ones: a lock then always has its own final notice, which
// announced it.
void see_plans_as_one(std::vector<AccessClaim>& claims);

// One change of an entitlement's level, kept as history.
struct AccessChange {
    AccessLevel from = AccessLevel::granted;
    AccessLevel to = AccessLevel::granted;
    std::string reason;
    std::int64_t case_id = 0;
    std::int64_t override_id = 0;
    Timestamp at{};

    bool operator==(const AccessChange&) const = default;
};

// The notification a change calls for: "access.locked" when content becomes blocked or more
// blocked (to limited or locked), "access.restored" when it is no longer blocked; none for
// changes between granted and grace, or for a change of reason alone.
std::optional<std::string> notification_for(const AccessChange& change);

struct EntitlementState {
    AccessLevel level = AccessLevel::granted;
    std::string reason = access_reason::in_good_standing;
    std::int64_t case_id = 0;
    std::int64_t override_id = 0;
    std::optional<Timestamp> lock_at;
    Timestamp since{}; // when the level last changed

    bool operator==(const EntitlementState&) const = default;
};

struct AccessDecision {
    EntitlementState next;
    std::optional<AccessChange> change; // set when the level or the reason changed
};

// Compares the verdict with the current state: a change of level or reason is recorded. A
// change whose verdict names no case names the current one: a restore names the case that had
// restricted access (the one just paid).
AccessDecision decide_access(const EntitlementState& current, const AccessVerdict& verdict,
                             Timestamp now);

// What a refresh does with one entitlement.
struct EntitlementUpdate {
    EntitlementState next;
    std::optional<Timestamp> recheck_at; // the verdict's, when still ahead
    // Write `next` and `recheck_at`: a stored entitlement when either differs from its row (most
    // refreshes, after a reminder or a failed retry, find what the row says and write nothing; a
    // recheck that came due always differs, as the new one lies ahead of `now` or there is none),
    // a new one only when it starts with a change (a member in good standing needs no row).
    bool save = false;
    std::optional<AccessChange> change;      // for the history
    std::optional<std::string> notification; // for the host: notification_for(*change)
};

// The update for the stored entitlement (none: no row yet) and its row's recheck time given a
// fresh verdict.
EntitlementUpdate next_entitlement(const std::optional<EntitlementState>& stored,
                                   std::optional<Timestamp> stored_recheck,
                                   const AccessVerdict& verdict, Timestamp now);

} // namespace dunning
