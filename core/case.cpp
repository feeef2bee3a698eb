#include "core/case.hpp"

#include <algorithm>
#include <string_view>
#include <type_traits>

namespace dunning {

const char* to_string(Resolution r) {
    switch (r) {
    case Resolution::none:
        return "none";
    case Resolution::written_off:
        return "written_off";
    case Resolution::uncollectible:
        return "uncollectible";
    case Resolution::voided:
        return "voided";
    case Resolution::paid:
        return "paid";
    }
    return "none";
}

const char* to_string(ChargeAttempt::Outcome o) {
    switch (o) {
    case ChargeAttempt::Outcome::pending:
        return "pending";
    case ChargeAttempt::Outcome::processing:
        return "processing";
    case ChargeAttempt::Outcome::succeeded:
        return "succeeded";
    case ChargeAttempt::Outcome::declined:
        return "declined";
    case ChargeAttempt::Outcome::rejected:
        return "rejected";
    case ChargeAttempt::Outcome::abandoned:
        return "abandoned";
    }
    return "pending";
}

Timestamp CaseState::schedule_anchor() const {
    const Timestamp opened = opened_at.value_or(Timestamp{});
    if (!first_seen_at) return opened;
    return std::max(opened, *first_seen_at - std::chrono::hours{24});
}

const char* status_of(const CaseState& s) {
    // A lost dispute takes the money back: the claim is open again, paid on time or not.
    if (s.dispute && s.dispute->lost_at &&
        !(s.dispute->repaid_at && *s.dispute->repaid_at >= *s.dispute->lost_at))
        return "disputed";
    if (!s.failed) return "none";
    if (s.resolution != Resolution::none) return to_string(s.resolution);
    if (s.objected()) return "objected";
    if (s.collection.handed_over_at) return "handed_over";
    if (s.handover_pending_at) return "handover_pending";
    if (s.escalated_at) return "escalated";
    return s.paused || s.stripe_disconnected_at ? "paused" : "open";
}

const char* pause_reason(const CaseState& s) {
    if (std::string_view(status_of(s)) != "paused") return nullptr;
    if (s.stripe_disconnected_at) return "stripe_disconnected";
    if (s.promise && s.promise->holds_pause) return "promise";
    return "creator";
}

bool mandate_stops(const CaseState& s) {
    if (!s.mandate_inactive || !s.new_payment_method.empty()) return false;
    // The method charged now: the newest charge's own, when it named one (the member's new
    // method), else the one that failed.
    if (!s.attempts.empty() && !s.attempts.back().payment_method_id.empty())
        return s.attempts.back().payment_method_id == s.mandate_inactive->payment_method_id;
    const auto& failing = s.last_failure ? s.last_failure->payment_method_id : std::string{};
    return failing.empty() || failing == s.mandate_inactive->payment_method_id;
}

bool claim_outstanding(const CaseState& s) {
    return claim_outstanding(status_of(s));
}

bool claim_outstanding(std::string_view status) {
    return status == "open" || status == "paused" || status == "objected" ||
           status == "escalated" || status == "handover_pending" || status == "handed_over" ||
           status == "disputed";
}

namespace {

void take(std::string& into, const std::string& from, bool newer) {
    if (!from.empty() && (newer || into.empty())) into = from;
}

template <class T> void take(std::optional<T>& into, const std::optional<T>& from, bool newer) {
    if (from && (newer || !into)) into = from;
}

void merge_invoice(CaseState& s, const InvoiceFacts& in, Timestamp as_of) {
    const bool newer = as_of >= s.invoice_as_of;
    InvoiceFacts& out = s.invoice;
    take(out.invoice_id, in.invoice_id, newer);
    take(out.number, in.number, newer);
    take(out.customer_id, in.customer_id, newer);
    take(out.customer_email, in.customer_email, newer);
    take(out.customer_name, in.customer_name, newer);
    take(out.subscription_id, in.subscription_id, newer);
    take(out.payment_intent_id, in.payment_intent_id, newer);
    take(out.charge_id, in.charge_id, newer);
    take(out.status, in.status, newer);
    take(out.billing_reason, in.billing_reason, newer);
    take(out.currency, in.currency, newer);
    take(out.hosted_invoice_url, in.hosted_invoice_url, newer);
    take(out.next_payment_attempt, in.next_payment_attempt, newer);
    take(out.due_date, in.due_date, newer);
    take(out.created, in.created, newer);
    take(out.description, in.description, newer);
    take(out.period_start, in.period_start, newer);
    if (!in.customer_address.empty() && (newer || out.customer_address.empty()))
        out.customer_address = in.customer_address;
    if (newer || out.amount_due == 0) {
        out.amount_due = in.amount_due;
        out.amount_remaining = in.amount_remaining;
    }
    if (!in.products.empty() && (newer || out.products.empty())) out.products = in.products;
    if (in.plan_instalments > 0 && (newer || out.plan_instalments == 0))
        out.plan_instalments = in.plan_instalments;
    out.attempt_count = std::max(out.attempt_count, in.attempt_count);
    if (newer) s.invoice_as_of = as_of;
}

void record_failure(CaseState& s, Timestamp at) {
    s.failed = true;
    if (!s.opened_at || at < *s.opened_at) s.opened_at = at;
}

// The newest of our own charges still waiting for its outcome, if it started before `at`.
ChargeAttempt* open_attempt(CaseState& s, Timestamp at) {
    for (auto it = s.attempts.rbegin(); it != s.attempts.rend(); ++it) {
        const bool waiting = it->outcome == ChargeAttempt::Outcome::pending ||
                             it->outcome == ChargeAttempt::Outcome::processing;
        if (waiting && it->at <= at) return &*it;
    }
    return nullptr;
}

void note_failure(CaseState& s, PaymentFailure f) {
    if (s.last_failure && s.last_failure->at > f.at) return;
    s.last_failure = std::move(f);
}

void merge_payment_failure(CaseState& s, const PaymentFacts& p, Timestamp at) {
    record_failure(s, at);
    s.payment_processing = false;
    if (auto* a = open_attempt(s, at)) a->outcome = ChargeAttempt::Outcome::declined;
    if (s.invoice.invoice_id.empty()) s.invoice.invoice_id = p.invoice_id;
    if (s.invoice.customer_id.empty()) s.invoice.customer_id = p.customer_id;
    if (s.invoice.payment_intent_id.empty()) s.invoice.payment_intent_id = p.payment_intent_id;
    if (s.invoice.charge_id.empty()) s.invoice.charge_id = p.charge_id;
    if (p.error.reason().empty()) return;
    note_failure(s, PaymentFailure{p.error, p.method, p.payment_method_id, p.card_brand, at});
}

void action_required(CaseState& s, Timestamp at) {
    record_failure(s, at);
    s.action_required = true;
    PaymentFailure f;
    f.error.code = "authentication_required";
    f.method = PaymentMethodKind::card;
    f.at = at;
    if (!s.last_failure || s.last_failure->error.reason() != f.error.code) note_failure(s, f);
}

void resolve(CaseState& s, Resolution r, Timestamp at) {
    if (r == Resolution::paid) {
        s.payment_processing = false;
        if (auto* a = open_attempt(s, at)) a->outcome = ChargeAttempt::Outcome::succeeded;
    }
    if (r > s.resolution) {
        s.resolution = r;
        s.resolved_at = at;
    }
}

void processing(CaseState& s, Timestamp at) {
    if (s.resolution != Resolution::none) return;
    s.payment_processing = true;
    if (auto* a = open_attempt(s, at)) a->outcome = ChargeAttempt::Outcome::processing;
}

// A method added after the failure is worth a charge of its own, unless it is the one that failed.
void new_payment_method(CaseState& s, const PaymentMethodFacts& pm, Timestamp at) {
    if (pm.payment_method_id.empty()) return;
    if (s.last_failure && s.last_failure->payment_method_id == pm.payment_method_id) return;
    if (s.opened_at && at < *s.opened_at) return;
    if (s.new_payment_method_at && *s.new_payment_method_at > at) return;
    s.new_payment_method = pm.payment_method_id;
    s.new_payment_method_at = at;
}

// The disputed payment is the successful one: its method decides. Only when no event named it
// does the method that failed before count (a member who moved from SEPA to a card has
// paid_with = card, so a card dispute is not taken for a SEPA chargeback).
bool is_sepa(const CaseState& s) {
    if (s.paid_with != PaymentMethodKind::unknown)
        return s.paid_with == PaymentMethodKind::sepa_debit;
    return s.last_failure && s.last_failure->method == PaymentMethodKind::sepa_debit;
}

// A payment after the loss settles it. An invoice paid again is found whichever arrives first
// (the newest invoice snapshot is kept); a payment_intent.succeeded seen before the dispute
// leaves no time behind, so it counts only when it arrives after the dispute.
void note_repayment(CaseState& s, Timestamp paid_at) {
    auto& d = s.dispute;
    if (!d || !d->lost_at || paid_at <= *d->lost_at) return;
    if (!d->repaid_at || *d->repaid_at < paid_at) d->repaid_at = paid_at;
}

// Evidence that the dispute was lost at `at`. Stripe's won and lost are final, so a won
// snapshot at least as new outweighs it (the same rule whichever event arrived first).
void lose(DisputeRecord& d, Timestamp at) {
    if (d.status == "won" && d.as_of >= at) return;
    if (!d.lost_at || at < *d.lost_at) d.lost_at = at;
}

// Derived parts of the dispute, recomputed after every event: a SEPA debit's dispute cannot
// be defended, so it is lost when it opens, whichever event told us the payment was SEPA.
void settle_dispute(CaseState& s) {
    if (!s.dispute) return;
    if (is_sepa(s)) lose(*s.dispute, s.dispute->opened_at);
    if (s.invoice.status == "paid") note_repayment(s, s.invoice_as_of);
}

void merge_dispute(CaseState& s, const DisputeFacts& f, Timestamp at) {
    if (!s.dispute) {
        s.dispute.emplace();
        s.dispute->opened_at = s.dispute->as_of = at;
    }
    auto& d = *s.dispute;
    const bool newer = at >= d.as_of;
    take(d.dispute_id, f.dispute_id, newer);
    // On a tie a final status (won, lost) is not replaced by an earlier stage.
    const bool final = d.status == "won" || d.status == "lost";
    if (!f.status.empty() && (at > d.as_of || (newer && !final) || d.status.empty()))
        d.status = f.status;
    d.as_of = std::max(d.as_of, at);
    d.opened_at = std::min(d.opened_at, at);
    // The disputed payment is a successful one: its method is what was paid with.
    if (s.paid_with == PaymentMethodKind::unknown) s.paid_with = f.method;
    if (f.status == "won" && d.lost_at && at >= *d.lost_at) d.lost_at.reset();
    if (f.status == "lost") lose(d, at);
    if (f.method == PaymentMethodKind::sepa_debit) lose(d, d.opened_at);
}

// Only a mandate of the method that failed concerns the case: the event reaches every open case
// of the member whose method it is, and a failure that named no method is taken to be on it only
// when it was a SEPA debit.
void mandate_updated(CaseState& s, const MandateFacts& m, Timestamp at) {
    if (m.status != "inactive" || !s.is_open() || s.mandate_inactive || !s.last_failure) return;
    const auto& f = *s.last_failure;
    const bool same_method = f.payment_method_id.empty()
                                 ? f.method == PaymentMethodKind::sepa_debit
                                 : f.payment_method_id == m.payment_method_id;
    if (same_method) s.mandate_inactive = InactiveMandate{m.mandate_id, m.payment_method_id, at};
}

} // namespace

CaseState apply(CaseState s, const Event& e) {
    if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) merge_invoice(s, *inv, e.created);
    switch (e.kind) {
    case EventKind::invoice_payment_failed:
        record_failure(s, e.created);
        break;
    case EventKind::invoice_payment_action_required:
        action_required(s, e.created);
        break;
    case EventKind::payment_failed:
        merge_payment_failure(s, std::get<PaymentFacts>(e.facts), e.created);
        break;
    case EventKind::payment_processing:
        processing(s, e.created);
        break;
    case EventKind::invoice_paid:
        resolve(s, Resolution::paid, e.created);
        break;
    case EventKind::payment_succeeded:
        if (const auto* p = std::get_if<PaymentFacts>(&e.facts);
            p && p->method != PaymentMethodKind::unknown)
            s.paid_with = p->method;
        resolve(s, Resolution::paid, e.created);
        break;
    case EventKind::invoice_voided:
        resolve(s, Resolution::voided, e.created);
        break;
    case EventKind::invoice_marked_uncollectible:
        resolve(s, Resolution::uncollectible, e.created);
        break;
    case EventKind::payment_method_attached:
    case EventKind::setup_intent_succeeded:
    case EventKind::default_payment_method_changed:
        new_payment_method(s, std::get<PaymentMethodFacts>(e.facts), e.created);
        break;
    case EventKind::dispute_created:
    case EventKind::dispute_closed:
        merge_dispute(s, std::get<DisputeFacts>(e.facts), e.created);
        break;
    case EventKind::mandate_updated:
        if (const auto* m = std::get_if<MandateFacts>(&e.facts)) mandate_updated(s, *m, e.created);
        break;
    default:
        break;
    }
    settle_dispute(s); // after the event: it may have told us the payment was SEPA
    if (e.kind == EventKind::invoice_paid || e.kind == EventKind::payment_succeeded)
        note_repayment(s, e.created);
    return s;
}

} // namespace dunning
