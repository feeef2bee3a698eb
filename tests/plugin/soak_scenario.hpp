#pragma once
// The crash soak's script: nine members of two Connect creators whose payments fail in
// different ways (soft and hard card declines, SCA, SEPA), recovered at different stages of the
// ladder or locked, over 44 days of test clock in steps of at most 6 hours.
#include "fakes/fake_stripe.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dunning::testing {

struct SoakMember {
    std::string creator;  // alpha | beta
    std::string customer; // cus_…
    std::string invoice;  // in_…
    std::int64_t amount = 4900;
    PaymentMethodKind method = PaymentMethodKind::card;
    PaymentError failure; // Stripe's own first attempt
    std::vector<fakes::ScriptedPay> pays;
};

inline PaymentError card_error(std::string decline_code) {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = std::move(decline_code);
    return e;
}
inline PaymentError sepa_error(std::string code) {
    PaymentError e;
    e.code = std::move(code);
    return e;
}

inline std::vector<SoakMember> soak_members() {
    using fakes::ScriptedPay;
    const auto declines = [](const std::string& code, int n) {
        return std::vector<ScriptedPay>(n, ScriptedPay::declined(code));
    };
    auto two_then_paid = declines("do_not_honor", 2);
    two_then_paid.push_back(ScriptedPay::success());
    return {
        // recovered by the first retry (day 1), before any email
        {"alpha",
         "cus_a1",
         "in_a1",
         4900,
         PaymentMethodKind::card,
         card_error("insufficient_funds"),
         {ScriptedPay::success()}},
        // recovered by the third retry (day 5), after the reminder
        {"alpha", "cus_a2", "in_a2", 9900, PaymentMethodKind::card, card_error("do_not_honor"),
         two_then_paid},
        // hard decline: never retried; a new card on day 12 pays, after the formal reminder
        {"alpha",
         "cus_a3",
         "in_a3",
         4900,
         PaymentMethodKind::card,
         card_error("expired_card"),
         {ScriptedPay::success()}},
        // every retry declined: final notice, locked, escalated
        {"alpha", "cus_a4", "in_a4", 9900, PaymentMethodKind::card,
         card_error("insufficient_funds"), declines("insufficient_funds", 8)},
        // SEPA: the first retry bounces, the second is debited
        {"alpha",
         "cus_a5",
         "in_a5",
         4900,
         PaymentMethodKind::sepa_debit,
         sepa_error("insufficient_funds"),
         {ScriptedPay::sepa(true, "insufficient_funds", std::chrono::days{3}),
          ScriptedPay::sepa(false, "", std::chrono::days{3})}},
        // SCA: never charged off-session; pays on the hosted page during the grace period
        {"beta",
         "cus_b1",
         "in_b1",
         4900,
         PaymentMethodKind::card,
         card_error("authentication_required"),
         {}},
        // every retry declined, below the write-off threshold: written off, stays locked
        {"beta", "cus_b2", "in_b2", 2900, PaymentMethodKind::card, card_error("generic_decline"),
         declines("generic_decline", 8)},
        // SEPA account closed: never retried, locked
        {"beta",
         "cus_b3",
         "in_b3",
         9900,
         PaymentMethodKind::sepa_debit,
         sepa_error("account_closed"),
         {}},
        // lost card: locked, then pays on the hosted page and is restored
        {"beta", "cus_b4", "in_b4", 4900, PaymentMethodKind::card, card_error("lost_card"), {}},
        // pays on the hosted page a few hours after the reminder was due
        {"beta", "cus_b5", "in_b5", 4900, PaymentMethodKind::card, card_error("insufficient_funds"),
         declines("insufficient_funds", 8)},
    };
}

inline void add_soak_invoices(fakes::FakeStripe& stripe) {
    for (const auto& m : soak_members()) {
        fakes::FakeInvoice inv;
        inv.id = m.invoice;
        inv.customer = m.customer;
        inv.customer_email = m.customer + "@members.example";
        inv.customer_name = "Member " + m.customer.substr(4);
        inv.subscription = "sub_" + m.customer.substr(4);
        inv.product = "prod_" + m.creator;
        inv.amount_due = m.amount;
        inv.method = m.method;
        inv.account = "acct_" + m.creator;
        if (m.method == PaymentMethodKind::sepa_debit)
            inv.default_payment_method = "pm_sepa_" + m.customer.substr(4);
        else
            inv.default_payment_method = "pm_card_" + m.customer.substr(4);
        stripe.add_invoice(inv);
        stripe.script_pay(m.invoice, m.pays);
    }
}

inline constexpr std::int64_t soak_days = 44;

// The clock moments the script stops at, in minutes from its start: every 6 hours, and the
// moments of its actions.
inline std::vector<std::int64_t> soak_moments() {
    std::vector<std::int64_t> out;
    for (std::int64_t m = 0; m <= soak_days * 24 * 60; m += 6 * 60)
        out.push_back(m);
    out.push_back(100 * 60);
    std::sort(out.begin(), out.end());
    return out;
}

// What happens on the fake Stripe at `minute` (from the script's start, Friday 08:00 UTC): the
// first failures (half on day 0, half on day 1), a new card, payments on the hosted page.
inline void soak_actions(fakes::FakeStripe& stripe, std::int64_t minute) {
    const auto members = soak_members();
    for (std::size_t k = 0; k < members.size(); ++k)
        if ((k % 2 == 0 && minute == 0) || (k % 2 == 1 && minute == 24 * 60))
            stripe.fail_invoice(members[k].invoice, members[k].failure);
    if (minute == 12 * 24 * 60) stripe.attach_payment_method("cus_a3", "pm_card_a3_new");
    if (minute == 100 * 60) stripe.pay_out_of_band("in_b5"); // hours after its reminder was due
    if (minute == 22 * 24 * 60) stripe.pay_out_of_band("in_b1");
    if (minute == 834 * 60) stripe.pay_out_of_band("in_b4"); // after its lock
}

} // namespace dunning::testing
