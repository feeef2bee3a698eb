// Stripe event JSON → core events, on any bytes: never a crash, never an exception out of
// parse_event, and an event it reads has the envelope the receiver stored it under.
#include "check.hpp"
#include "webhook/event_parser.hpp"

using namespace dunning;
using dunning::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    const auto parsed = webhook::parse_event(body);
    if (!parsed) return 0;
    const auto envelope = webhook::parse_envelope(body);
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
