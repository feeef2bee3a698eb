#include "case.hpp"

#include <algorithm>
#include <type_traits>

namespace dunning {

const char* to_string(Resolution r) {
    switch (r) {
    case Resolution::none: return "none";
    case Resolution::written_off: return "written_off";
    case Resolution::uncollectible: return "uncollectible";
    case Resolution::voided: return "voided";
    case Resolution::paid: return "paid";
    }
    return "none";
}

const char* to_string(ChargeAttempt::Outcome o) {
    switch (o) {
    case ChargeAttempt::Outcome::pending: return "pending";
    case ChargeAttempt::Outcome::processing: return "processing";
    case ChargeAttempt::Outcome::succeeded: return "succeeded";
    case ChargeAttempt::Outcome::declined: return "declined";
    case ChargeAttempt::Outcome::rejected: return "rejected";
    case ChargeAttempt::Outcome::abandoned: return "abandoned";
    }
    return "pending";
}

Timestamp CaseState::schedule_anchor() const {
    const Timestamp opened = opened_at.value_or(Timestamp{});
    if (!first_seen_at) return opened;
    return std::max(opened, *first_seen_at - std::chrono::hours{24});
}

const char* status_of(const CaseState& s) {
    if (!s.failed) return "none";
    if (s.resolution != Resolution::none) return to_string(s.resolution);
    if (s.escalated_at) return "escalated";
    return s.paused ? "paused" : "open";
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
    if (newer || out.amount_due == 0) {
        out.amount_due = in.amount_due;
        out.amount_remaining = in.amount_remaining;
    }
    if (!in.products.empty() && (newer || out.products.empty())) out.products = in.products;
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

} // namespace

CaseState apply(CaseState s, const Event& e) {
    if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) merge_invoice(s, *inv, e.created);
    switch (e.kind) {
    case EventKind::invoice_payment_failed: record_failure(s, e.created); break;
    case EventKind::invoice_payment_action_required: action_required(s, e.created); break;
    case EventKind::payment_failed:
        merge_payment_failure(s, std::get<PaymentFacts>(e.facts), e.created);
        break;
    case EventKind::payment_processing: processing(s, e.created); break;
    case EventKind::invoice_paid:
    case EventKind::payment_succeeded: resolve(s, Resolution::paid, e.created); break;
    case EventKind::invoice_voided: resolve(s, Resolution::voided, e.created); break;
    case EventKind::invoice_marked_uncollectible:
        resolve(s, Resolution::uncollectible, e.created);
        break;
    case EventKind::payment_method_attached:
    case EventKind::setup_intent_succeeded:
    case EventKind::default_payment_method_changed:
        new_payment_method(s, std::get<PaymentMethodFacts>(e.facts), e.created);
        break;
    default: break;
    }
    return s;
}

} // namespace dunning
