#include "core/access.hpp"

#include <algorithm>

namespace dunning {

const char* to_string(AccessLevel level) {
    for (const auto& entry : access_level_names)
        if (entry.level == level) return entry.name;
    return "locked";
}

std::optional<AccessLevel> access_level_from(std::string_view text) {
    for (const auto& entry : access_level_names)
        if (text == entry.name) return entry.level;
    return std::nullopt;
}

AccessClaim claim_of(std::int64_t case_id, const CaseState& c, const CasePolicy& policy) {
    AccessClaim claim;
    claim.case_id = case_id;
    // The creator's write-off forgives the claim; one written off because it was too small to
    // pursue is still owed (a payment settles it). Voided and paid are not owed either.
    const bool too_small = c.resolution == Resolution::written_off &&
                           c.resolution_reason == write_off_reason::below_threshold;
    claim.unpaid = c.failed && (c.resolution == Resolution::none ||
                                c.resolution == Resolution::uncollectible || too_small);
    claim.paused = c.paused && c.is_open(); // a pause (or promise) ends with the case
    claim.objected = c.objected();
    // A ladder shortened in the config since: the case has still been through its last stage.
    if (c.stage_queued > 0 && !policy.stages.empty()) {
        const auto i = std::min(static_cast<std::size_t>(c.stage_queued), policy.stages.size());
        claim.stage = policy.stages[i - 1].name;
    }
    // The deadline counts from when the final notice went out (a date the notice names); a
    // pause, a promise or an objection does not move it.
    if (c.final_notice_at) claim.lock_at = *c.final_notice_at + policy.final_notice_deadline;
    claim.amount_minor = c.open_amount_minor();
    claim.currency = c.invoice.currency;
    if (c.invoice.plan_instalments > 0) claim.plan = c.invoice.subscription_id;
    claim.opened_at = c.opened_at;
    // Carried even for a case that never failed: a paid invoice can be charged back.
    if (c.dispute) {
        claim.dispute_lost_at = c.dispute->lost_at;
        claim.repaid_at = c.dispute->repaid_at;
    }
    return claim;
}

bool quiet_claim(const CaseState& c) {
    // status_of "open": failed, and none of resolved, objected, escalated, marked for handover,
    // handed over, paused, disconnected or disputed; then claim_of gives unpaid, not paused, not
    // objected, no stage, no lock and no plan.
    return std::string_view(status_of(c)) == "open" && c.stage_queued == 0 && !c.final_notice_at &&
           c.invoice.plan_instalments <= 0;
}

namespace {

AccessVerdict verdict(AccessLevel level, const char* reason, std::int64_t case_id = 0) {
    AccessVerdict v;
    v.level = level;
    v.reason = reason;
    v.case_id = case_id;
    return v;
}

} // namespace

void see_plans_as_one(std::vector<AccessClaim>& claims) {
    const auto earlier = [](const AccessClaim& a, const AccessClaim& b) {
        return a.opened_at && b.opened_at &&
               (*a.opened_at < *b.opened_at ||
                (*a.opened_at == *b.opened_at && a.case_id < b.case_id));
    };
    std::vector<std::int64_t> own;
    for (const auto& c : claims)
        own.push_back(c.amount_minor);
    for (auto& c : claims) {
        if (c.plan.empty() || !c.unpaid) continue;
        for (std::size_t j = 0; j < claims.size(); ++j) {
            const auto& other = claims[j];
            if (&other != &c && other.unpaid && other.plan == c.plan &&
                other.currency == c.currency && earlier(other, c))
                c.amount_minor += own[j];
        }
    }
}

bool deadline_locks(const AccessClaim& claim, const AccessPolicy& policy) {
    return claim.amount_minor > policy.min_amount_minor;
}

namespace {

bool dispute_unsettled(const AccessClaim& c) {
    return c.dispute_lost_at && !(c.repaid_at && *c.repaid_at >= *c.dispute_lost_at);
}

// What one claim calls for; nothing for a claim in good standing.
std::optional<AccessVerdict> claim_verdict(const AccessClaim& c, Timestamp now,
                                           const AccessPolicy& p) {
    using namespace access_reason;
    // A lost dispute took the money back whatever the case's own state or amount.
    if (dispute_unsettled(c)) return verdict(p.on_lost_dispute, dispute_lost, c.case_id);
    if (!c.unpaid) return std::nullopt;
    if (c.objected && p.grant_on_objection)
        return verdict(AccessLevel::granted, objection, c.case_id);
    if (c.paused) return verdict(AccessLevel::granted, dunning_paused, c.case_id);
    // Below the minimum amount dunning restricts nothing: no lock, none announced.
    const bool above_minimum = deadline_locks(c, p);
    if (c.lock_at && now >= *c.lock_at)
        return above_minimum
                   ? verdict(p.after_final_deadline, final_notice_deadline_passed, c.case_id)
                   : verdict(AccessLevel::granted, below_minimum_amount, c.case_id);
    if (c.stage.empty()) return verdict(AccessLevel::granted, payment_failed, c.case_id);
    const auto it = p.during_stage.find(c.stage);
    const auto level = it == p.during_stage.end() ? AccessLevel::granted : it->second;
    if (level != AccessLevel::granted && !above_minimum)
        return verdict(AccessLevel::granted, below_minimum_amount, c.case_id);
    auto v = verdict(level, level == AccessLevel::grace ? final_notice : dunning, c.case_id);
    if (level == AccessLevel::grace) v.lock_at = c.lock_at;
    return v;
}

bool ended_for_nonpayment(const SubscriptionStanding& s) {
    return s.cancellation_reason == "payment_failed" || s.cancellation_reason == "payment_disputed";
}

std::optional<AccessVerdict> subscription_verdict(const SubscriptionStanding& s,
                                                  const AccessPolicy& p) {
    // A payment newer than the status snapshot wins over it (the update is late).
    if (s.last_paid_at && *s.last_paid_at >= s.as_of) return std::nullopt;
    if (s.status == "unpaid")
        return verdict(p.on_subscription_ended, access_reason::subscription_unpaid);
    if (s.status == "canceled" && ended_for_nonpayment(s))
        return verdict(p.on_subscription_ended, access_reason::subscription_canceled);
    return std::nullopt;
}

// More restrictive wins; on a tie the first stays, unless only the newcomer names a claim.
void keep_stricter(std::optional<AccessVerdict>& best, std::optional<AccessVerdict> v) {
    if (!v) return;
    if (!best || v->level > best->level ||
        (v->level == best->level && best->case_id == 0 && v->case_id != 0))
        best = std::move(v);
}

const AccessOverride* winning_override(const std::vector<AccessOverride>& overrides,
                                       Timestamp now) {
    const AccessOverride* best = nullptr;
    for (const auto& o : overrides) {
        if (!o.in_force(now)) continue;
        if (!best || o.created > best->created || (o.created == best->created && o.id > best->id))
            best = &o;
    }
    return best;
}

// The next time an override starts or ends: the only way the verdict changes by time alone.
std::optional<Timestamp> next_override_change(const std::vector<AccessOverride>& overrides,
                                              Timestamp now) {
    std::optional<Timestamp> next;
    auto consider = [&](Timestamp t) {
        if (t > now && (!next || t < *next)) next = t;
    };
    for (const auto& o : overrides) {
        if (o.revoked_at) continue;
        consider(o.created);
        if (o.until) consider(*o.until);
    }
    return next;
}

} // namespace

AccessVerdict evaluate_access(const AccessFacts& facts, Timestamp now, const AccessPolicy& policy) {
    AccessVerdict out;
    if (const auto* o = winning_override(facts.overrides, now)) {
        out = verdict(o->level, access_reason::creator_override);
        out.override_id = o->id;
    } else {
        // Granted claims still yield a verdict when unpaid, so their reason (dunning,
        // paused, …) shows when nothing restricts.
        std::optional<AccessVerdict> best;
        for (const auto& c : facts.claims)
            keep_stricter(best, claim_verdict(c, now, policy));
        for (const auto& s : facts.subscriptions)
            keep_stricter(best, subscription_verdict(s, policy));
        if (best) out = std::move(*best);
    }
    out.recheck_at = next_override_change(facts.overrides, now);
    // An announced lock is due by time alone: the case may not wake for it (escalated early,
    // marked uncollectible), so the entitlement keeps its own appointment.
    for (const auto& c : facts.claims)
        if (c.unpaid && c.lock_at && *c.lock_at > now &&
            (!out.recheck_at || *c.lock_at < *out.recheck_at))
            out.recheck_at = c.lock_at;
    return out;
}

std::optional<std::string> notification_for(const AccessChange& change) {
    // locked → limited is still blocked: the host hears it as access.locked with the new level.
    if (blocks_content(change.to) && change.to != change.from) return "access.locked";
    if (blocks_content(change.from) && !blocks_content(change.to)) return "access.restored";
    return std::nullopt;
}

AccessDecision decide_access(const EntitlementState& current, const AccessVerdict& verdict,
                             Timestamp now) {
    AccessDecision d;
    d.next.level = verdict.level;
    d.next.reason = verdict.reason;
    d.next.case_id = verdict.case_id;
    d.next.override_id = verdict.override_id;
    d.next.lock_at = verdict.lock_at;
    d.next.since = verdict.level != current.level ? now : current.since;
    if (verdict.level != current.level || verdict.reason != current.reason)
        d.change =
            AccessChange{current.level,       verdict.level,
                         verdict.reason,      verdict.case_id ? verdict.case_id : current.case_id,
                         verdict.override_id, now};
    return d;
}

EntitlementUpdate next_entitlement(const std::optional<EntitlementState>& stored,
                                   std::optional<Timestamp> stored_recheck,
                                   const AccessVerdict& verdict, Timestamp now) {
    auto decision = decide_access(stored.value_or(EntitlementState{}), verdict, now);
    EntitlementUpdate u;
    u.next = std::move(decision.next);
    u.change = std::move(decision.change);
    if (verdict.recheck_at && *verdict.recheck_at > now) u.recheck_at = verdict.recheck_at;
    u.save = u.change || (stored && (u.next != *stored || u.recheck_at != stored_recheck));
    if (u.change) u.notification = notification_for(*u.change);
    return u;
}

} // namespace dunning
