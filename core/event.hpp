#pragma once
// Stripe events as the core sees them: only the facts decisions need, already read from
// whichever API version sent them. webhook/ produces these; the core never sees JSON.
#include "core/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dunning {

enum class PaymentMethodKind { unknown, card, sepa_debit, other };
const char* to_string(PaymentMethodKind k);

// Why a payment failed. For cards `code` is e.g. "card_declined" and `decline_code` the
// issuer's reason ("insufficient_funds"); some declines arrive as `code` alone
// ("expired_card"). For SEPA debits `code` is the failure code ("account_closed").
struct PaymentError {
    std::string code;
    std::string decline_code;
    std::string advice_code;         // "do_not_try_again", "try_again_later", "confirm_card_data"
    std::string network_advice_code; // card network's own advice, when Stripe passes it on
    std::string message;
    // The most specific reason: decline_code when present, else code.
    const std::string& reason() const { return decline_code.empty() ? code : decline_code; }
    bool operator==(const PaymentError&) const = default;
};

// The customer's postal address as the invoice carries it (customer_address).
struct PostalAddress {
    std::string line1, line2, postal_code, city, state, country; // country: ISO code, "DE"
    bool empty() const { return line1.empty() && postal_code.empty() && city.empty(); }
    bool operator==(const PostalAddress&) const = default;
};

struct InvoiceFacts {
    std::string invoice_id;
    std::string number;
    std::string customer_id;
    std::string customer_email;
    std::string customer_name;
    std::string subscription_id; // pre-2025: invoice.subscription; now: parent.subscription_details
    std::string payment_intent_id; // pre-2025: invoice.payment_intent; now: payments.data[].payment
    std::string charge_id;         // pre-2025 only
    std::string status;            // draft, open, paid, void, uncollectible
    std::string billing_reason;
    std::string currency;        // lowercase ISO code as Stripe sends it
    std::int64_t amount_due = 0; // minor units
    std::int64_t amount_remaining = 0;
    int attempt_count = 0;
    std::optional<Timestamp> next_payment_attempt; // Stripe's Smart Retries plan, if any
    std::optional<Timestamp> due_date;
    std::string hosted_invoice_url;
    std::vector<std::string> products; // Stripe product ids of the line items, deduplicated
    // The subscription pays one price in this many instalments (its metadata "installments"):
    // its invoices are one plan. 0: an ordinary subscription or a one-off invoice.
    int plan_instalments = 0;
    // For a handover to a collection agency: the invoice date, the debtor's address, what was
    // sold (the line descriptions) and the start of the first line's period.
    std::optional<Timestamp> created;
    PostalAddress customer_address;
    std::string description;
    std::optional<Timestamp> period_start;
    bool operator==(const InvoiceFacts&) const = default;
};

struct PaymentFacts {
    std::string payment_intent_id;
    std::string charge_id;
    std::string invoice_id; // only where the API version still links it (pre-2025)
    std::string customer_id;
    std::string payment_method_id;
    PaymentMethodKind method = PaymentMethodKind::unknown;
    std::string card_brand;   // "visa", "mastercard", …
    std::string card_network; // network the charge went over, may differ from brand
    int card_exp_month = 0;
    int card_exp_year = 0;
    std::int64_t amount = 0;
    std::string currency;
    PaymentError error; // empty unless the payment failed
};

struct DisputeFacts {
    std::string dispute_id;
    std::string charge_id;
    std::string payment_intent_id;
    std::string status; // warning_needs_response, needs_response, won, lost, …
    std::string reason;
    std::int64_t amount = 0;
    std::string currency;
    PaymentMethodKind method = PaymentMethodKind::unknown; // payment_method_details.type, when sent
};

struct SubscriptionFacts {
    std::string subscription_id;
    std::string customer_id;
    std::string status;              // active, past_due, unpaid, canceled, …
    std::string previous_status;     // from previous_attributes, when it changed
    std::string cancellation_reason; // cancellation_details.reason: payment_failed, …
    std::vector<std::string> products;
};

// A usable payment method appeared for a customer: attached, confirmed through a
// SetupIntent, or made the customer's default.
struct PaymentMethodFacts {
    std::string customer_id;
    std::string payment_method_id;
    PaymentMethodKind method = PaymentMethodKind::unknown;
    int card_exp_month = 0;
    int card_exp_year = 0;
};

struct MandateFacts {
    std::string mandate_id;
    std::string payment_method_id;
    std::string status; // active, inactive, pending
};

struct AccountFacts {
    std::string account_id; // the connected account that removed (or authorised) the platform
};

enum class EventKind {
    invoice_payment_failed,
    invoice_payment_action_required,
    invoice_paid, // invoice.paid and invoice.payment_succeeded
    invoice_voided,
    invoice_marked_uncollectible,
    payment_failed,     // payment_intent.payment_failed, charge.failed
    payment_processing, // payment_intent.processing (SEPA debit on its way)
    payment_succeeded,  // payment_intent.succeeded
    dispute_created,
    dispute_closed,
    subscription_updated,
    subscription_deleted,
    payment_method_attached,
    setup_intent_succeeded,
    default_payment_method_changed, // customer.updated that changed
                                    // invoice_settings.default_payment_method
    mandate_updated,
    account_deauthorized,
    account_authorized, // account.application.authorized: an account connected the platform
};

const char* to_string(EventKind kind);

using EventFacts = std::variant<InvoiceFacts, PaymentFacts, DisputeFacts, SubscriptionFacts,
                                PaymentMethodFacts, MandateFacts, AccountFacts>;

struct Event {
    std::string id;      // evt_…
    std::string type;    // Stripe's type string, as received
    std::string account; // acct_… for Connect events, else empty
    Timestamp created{};
    EventKind kind{};
    EventFacts facts;
};

} // namespace dunning
