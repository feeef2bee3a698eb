#pragma once
// Stripe event JSON → core events. Reads the pre-2025 invoice shape (invoice.subscription,
// .charge, .payment_intent) and the current one (parent.subscription_details, payments,
// pricing.price_details.product). Never throws.
#include "core/event.hpp"
#include "core/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace dunning::webhook {

// What the receiver needs before it stores an event: enough to route and deduplicate.
struct Envelope {
    std::string id; // evt_…
    std::string type;
    std::string account; // empty unless sent by a Connect platform for a connected account
    Timestamp created{};
};

// Fails with a message (e.g. "malformed JSON at byte 12", "not an event object") when the
// body is not a Stripe event.
Result<Envelope, std::string> parse_envelope(std::string_view body);

// Outcome of reading a stored event in full.
struct Ignored {
    std::string reason; // "unhandled event type customer.created", "customer.updated without a new
                        // default payment method"
};
using Parsed = std::variant<Event, Ignored>;

// Is this an event type the module acts on (the others are stored as ignored)?
bool handled_event_type(std::string_view type);

// Fails with a message when the event claims a handled type but its object is unusable
// (e.g. an invoice event without an invoice id); the worker records that as a poison row.
Result<Parsed, std::string> parse_event(std::string_view body);

// Every event type parse_event acts on, in its table's order: what a webhook endpoint made for a
// creator listens to.
std::vector<std::string> handled_event_types();

} // namespace dunning::webhook
