// Stripe event JSON → core events, on any bytes: never a crash, never an exception out of
// parse_event, an event it reads has the envelope the receiver stored it under, and the bodies
// refused as JSON are exactly those nlohmann (the JSON library of the rest of the code) refuses.
#include "check.hpp"
#include "webhook/event_parser.hpp"
#include "webhook/json_sax.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

using namespace dunning;
using dunning::fuzz::check;

namespace {

// How deep the containers of valid JSON nest, as nlohmann's SAX parser (iterative) sees them.
struct DepthOf final : webhook::JsonSaxPass {
    int depth = 0, deepest = 0;
    bool start_object(std::size_t) override { return deeper(); }
    bool end_object() override { return --depth, true; }
    bool start_array(std::size_t) override { return deeper(); }
    bool end_array() override { return --depth, true; }
    bool deeper() {
        deepest = std::max(deepest, ++depth);
        return true;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    const auto envelope = webhook::parse_envelope(body);
    // Valid JSON is refused as too deep exactly when its containers nest beyond 128 levels,
    // whichever of the receiver's parsers read it.
    DepthOf depth;
    if (nlohmann::json::sax_parse(body.begin(), body.end(), &depth))
        check((depth.deepest > 128) ==
                  (!envelope && envelope.error().starts_with("JSON nested deeper")),
              "valid JSON is refused as too deep exactly when it nests beyond 128 levels",
              std::to_string(depth.deepest) +
                  " levels: " + (envelope ? std::string("accepted") : envelope.error()));
    // Bodies with a raw NUL or nested beyond the limit are refused as such (the unit tests show
    // it); they are left out of the comparison with nlohmann here.
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
