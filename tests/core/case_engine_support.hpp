#pragma once
// What the case engine's tests share: a start time, the Stripe events they feed, and a Case
// that runs decide() and keeps the state between inputs, as the store does.
#include "core/case_engine.hpp"

#include <string>
#include <vector>

namespace dunning::testing {

using namespace std::chrono_literals;

inline const Timestamp t0 = from_unix(1'800'000'000); // a Friday, 2027-01-15 08:00 UTC

inline Event failed_invoice(Timestamp at, std::string decline = "insufficient_funds",
                            PaymentMethodKind method = PaymentMethodKind::card) {
    PaymentFacts p;
    p.invoice_id = "in_1";
    p.payment_intent_id = "pi_1";
    p.customer_id = "cus_1";
    p.payment_method_id = "pm_old";
    p.method = method;
    p.card_brand = method == PaymentMethodKind::card ? "visa" : "";
    p.error.code = method == PaymentMethodKind::card ? "card_declined" : decline;
    if (method == PaymentMethodKind::card) p.error.decline_code = decline;
    return Event{"evt_f", "payment_intent.payment_failed", "", at, EventKind::payment_failed, p};
}

inline Event invoice_failed_event(Timestamp at) {
    InvoiceFacts f;
    f.invoice_id = "in_1";
    f.customer_id = "cus_1";
    f.status = "open";
    f.amount_due = 4900;
    f.currency = "eur";
    return Event{"evt_if", "invoice.payment_failed", "", at, EventKind::invoice_payment_failed, f};
}

inline Event invoice_paid(Timestamp at) {
    InvoiceFacts f;
    f.invoice_id = "in_1";
    f.status = "paid";
    return Event{"evt_p", "invoice.paid", "", at, EventKind::invoice_paid, f};
}

inline Event new_card(Timestamp at, std::string pm = "pm_new") {
    PaymentMethodFacts f;
    f.customer_id = "cus_1";
    f.payment_method_id = std::move(pm);
    f.method = PaymentMethodKind::card;
    return Event{"evt_pm", "payment_method.attached",          "",
                 at,       EventKind::payment_method_attached, f};
}

inline CasePolicy plugin_mode(EndAction end = EndAction::leave) {
    CasePolicy p;
    p.module_charges = true;
    p.retry.end_action = end;
    return p;
}

template <class T> std::vector<T> effects_of(const Decision& d) {
    std::vector<T> out;
    for (const auto& e : d.effects)
        if (const auto* x = std::get_if<T>(&e)) out.push_back(*x);
    return out;
}

// Runs decide and keeps the state, like the store does between inputs.
struct Case {
    CasePolicy policy;
    CaseState state{};
    Decision last{};

    Decision& on(const CaseInput& input, Timestamp now) {
        last = decide(state, input, now, policy);
        state = last.next;
        return last;
    }
    Decision& tick(Timestamp now) { return on(Tick{}, now); }
    int charges() const { return static_cast<int>(effects_of<ChargeInvoice>(last).size()); }
    void decline_last(Timestamp now, std::string code = "insufficient_funds") {
        ChargeResult r{state.attempts.back().number, ChargeResult::Kind::declined};
        r.failure.error.code = "card_declined";
        r.failure.error.decline_code = std::move(code);
        r.failure.method = PaymentMethodKind::card;
        r.failure.card_brand = "visa";
        r.failure.at = now;
        on(r, now);
    }
};

} // namespace dunning::testing
