#pragma once
// Readers for the Stripe objects carried in events' data.object, for every API version this
// module meets: pre-2025 invoices (subscription, charge, payment_intent at the top level) and
// current ones (parent.subscription_details, payments.data[].payment, pricing.price_details).
// Each fails with "<path>: expected …" when a field has the wrong type, or with a short
// message when the object lacks its id. Internal to webhook/.
#include "core/event.hpp"
#include "core/result.hpp"
#include "webhook/json_reader.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dunning::webhook {

template <class T> using Read = Result<T, std::string>;

Read<InvoiceFacts> read_invoice(const JsonReader& invoice);
Read<PaymentFacts> read_payment_intent(const JsonReader& intent);
Read<PaymentFacts> read_charge(const JsonReader& charge);
Read<DisputeFacts> read_dispute(const JsonReader& dispute);
Read<SubscriptionFacts> read_subscription(const JsonReader& subscription,
                                          const JsonReader& previous_attributes);
Read<PaymentMethodFacts> read_payment_method(const JsonReader& method);
Read<PaymentMethodFacts> read_setup_intent(const JsonReader& intent);
Read<MandateFacts> read_mandate(const JsonReader& mandate);

// customer.updated: the customer's new default payment method, or nullopt when this update
// did not change it (or cleared it).
Read<std::optional<PaymentMethodFacts>>
read_default_payment_method_change(const JsonReader& customer,
                                   const JsonReader& previous_attributes);

// "card" → card, "sepa_debit" → sepa_debit, any other non-empty type → other.
PaymentMethodKind payment_method_kind(std::string_view type);

} // namespace dunning::webhook
