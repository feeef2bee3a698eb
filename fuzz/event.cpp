// Stripe event JSON → core events, on any bytes: never a crash, never an exception out of
// parse_event, an event it reads has the envelope the receiver stored it under, and the bodies
// refused as JSON are exactly those nlohmann (the JSON library of the rest of the code) refuses.
#include "check.hpp"
#include "webhook/event_parser.hpp"

#include <nlohmann/json.hpp>

using namespace dunning;
using dunning::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    const auto envelope = webhook::parse_envelope(body);
    // A raw NUL and nesting beyond the limit are refused before any JSON parser runs.
    if (body.find('\0') == std::string_view::npos &&
        (envelope || !envelope.error().starts_with("JSON nested deeper"))) {
        const bool refused_as_json = !envelope && (envelope.error().starts_with("malformed JSON") ||
                                                   envelope.error() == "empty body");
        check(nlohmann::json::accept(body.begin(), body.end()) != refused_as_json,
              "the receiver refuses as JSON what nlohmann refuses, and nothing else",
              envelope ? std::string("accepted") : envelope.error());
    }
    const auto parsed = webhook::parse_event(body);
    if (!parsed) return 0;
    check(envelope.ok(), "an event parse_event reads was accepted by the receiver");
    if (const auto* event = std::get_if<Event>(&parsed.value())) {
        const auto& e = envelope.value();
        check(event->id == e.id && event->type == e.type && event->account == e.account &&
                  event->created == e.created,
              "the event carries the envelope it was stored under", event->id + " / " + e.id);
        check(!event->id.empty() && !event->type.empty(), "an event has an id and a type");
    }
    return 0;
}
