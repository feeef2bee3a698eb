// Stripe event JSON → core events: the envelope first, then one small handler per event type,
// found through one table. The object readers live in stripe_objects.cpp.
#include "webhook/event_parser.hpp"

#include "webhook/json_reader.hpp"
#include "webhook/json_sax.hpp"
#include "webhook/stripe_objects.hpp"

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <simdjson.h>

namespace dunning::webhook {

namespace {

using nlohmann::json;

constexpr int max_depth = 128; // Stripe's deepest objects nest about a dozen levels

Err<std::string> failure(std::string message) {
    return {std::move(message)};
}

// A second, exception-free pass that only learns where the body stops being JSON; runs on
// the error path alone.
struct SyntaxErrorFinder final : JsonSaxPass {
    std::size_t position = 0;
    bool parse_error(std::size_t at, const std::string&, const json::exception&) override {
        position = at;
        return false;
    }
};

std::string malformed(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return "empty body";
    SyntaxErrorFinder finder;
    json::sax_parse(body.begin(), body.end(), &finder);
    return "malformed JSON at byte " + std::to_string(finder.position);
}

// Counts brackets in one pass over the bytes, before nlohmann's parser builds (and every later
// walk recurses through) a tree that deep. Brackets inside strings do not count. Runs only on a
// body that holds a NUL or that simdjson refused: a byte at a time, it cost about twice
// simdjson's whole parse.
bool nested_deeper_than(std::string_view body, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return true;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}

// The same limit on a tree simdjson has read (its own limit, 1024 levels, is far above it; it
// reads iteratively): whether containers nest deeper than `limit`, empty ones counted as
// nested_deeper_than counts their brackets. Visits each value once, stops at the first too deep;
// `limit` + 1 calls deep at most.
bool deeper_than(simdjson::dom::element value, int limit) {
    simdjson::dom::array array;
    simdjson::dom::object object;
    if (!value.get_array().get(array)) {
        if (limit == 0) return true;
        for (auto element : array)
            if (deeper_than(element, limit - 1)) return true;
    } else if (!value.get_object().get(object)) {
        if (limit == 0) return true;
        for (auto field : object)
            if (deeper_than(field.value, limit - 1)) return true;
    }
    return false;
}

// A text with at most `limit` brackets (those in strings counted too) cannot nest deeper than
// that, and its tree need not be walked: Stripe's events hold a few dozen. memchr's pace.
bool few_brackets(std::string_view text, std::size_t limit) {
    std::size_t n = 0;
    for (const char bracket : {'{', '['})
        for (auto at = text.find(bracket); at != std::string_view::npos;
             at = text.find(bracket, at + 1))
            if (++n > limit) return false;
    return true;
}

Result<Envelope, std::string> read_envelope(simdjson::dom::element root, std::string& error) {
    JsonReader event(root, "event", error);
    if (!root.is_object() || event.string("object") != "event" || event.failed())
        return failure("not an event object");
    Envelope envelope;
    envelope.id = event.string("id");
    envelope.type = event.string("type");
    envelope.account = event.string("account");
    envelope.created = event.time("created").value_or(Timestamp{});
    bool has_object = event.object("data").is_expanded("object");
    if (event.failed()) return failure(error);
    if (envelope.id.empty()) return failure("event has no id");
    if (envelope.type.empty()) return failure("event has no type");
    if (!has_object) return failure("event has no data.object");
    return envelope;
}

// The body as JSON (simdjson's DOM, which `parser` holds: the root lives as long as it does) and
// its envelope. The receiver and the worker each read every event once; the worker's CPU per
// event fell by about a sixth when simdjson replaced nlohmann's DOM here (bench/ingest/README.md,
// "Events read with simdjson").
struct Document {
    simdjson::dom::element root;
    Envelope envelope;
};

Result<Document, std::string> read_document(std::string_view body, simdjson::dom::parser& parser) {
    // Too deep is the answer for a body that is also malformed or holds a NUL: on those paths the
    // limit is checked before anything else is.
    const auto too_deep = [] {
        return failure("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    };
    // JSON text never holds a raw NUL; reject it here, as nlohmann (whose lexer stops at one)
    // needed, so that the error's position is the same whichever parser reads the rest.
    if (auto nul = body.find('\0'); nul != std::string_view::npos) {
        if (nested_deeper_than(body, max_depth)) return too_deep();
        return failure("malformed JSON at byte " + std::to_string(nul + 1));
    }
    // A UTF-8 byte order mark before the text is skipped, as nlohmann did.
    std::string_view text = body;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    Document doc;
    if (!parser.parse(text.data(), text.size()).get(doc.root)) {
        if (!few_brackets(text, max_depth) && deeper_than(doc.root, max_depth)) return too_deep();
    } else {
        if (nested_deeper_than(body, max_depth)) return too_deep();
        // JSON is read as nlohmann reads it. Where simdjson stops, nlohmann decides: malformed
        // JSON is reported with nlohmann's position; valid JSON simdjson does not read (a whole
        // number beyond 64 bits, which nlohmann reads as a double) is read in nlohmann's form.
        // nlohmann reads the body as received: it skips one byte order mark itself, no more.
        json tree = json::parse(body.begin(), body.end(), nullptr, false);
        if (tree.is_discarded()) return failure(malformed(body));
        const std::string again = tree.dump();
        if (parser.parse(again).get(doc.root)) return failure("unreadable JSON");
    }
    std::string error;
    auto envelope = read_envelope(doc.root, error);
    if (!envelope) return failure(envelope.error());
    doc.envelope = std::move(envelope).value();
    return doc;
}

// ---- one handler per event type -------------------------------------------------------

struct Input {
    const JsonReader& object;   // data.object
    const JsonReader& previous; // data.previous_attributes, empty unless an update
    const Envelope& envelope;
};
using Outcome = std::variant<EventFacts, Ignored>;
using Handler = Result<Outcome, std::string> (*)(const Input&);

template <auto read> Result<Outcome, std::string> from_object(const Input& in) {
    auto facts = read(in.object);
    if (!facts) return failure(facts.error());
    return Outcome{EventFacts{std::move(facts).value()}};
}

// processing / succeeded: whatever error an earlier attempt left is no longer the news.
Result<Outcome, std::string> payment_in_good_standing(const Input& in) {
    auto facts = read_payment_intent(in.object);
    if (!facts) return failure(facts.error());
    facts.value().error = {};
    return Outcome{EventFacts{std::move(facts).value()}};
}

Result<Outcome, std::string> subscription_change(const Input& in) {
    auto facts = read_subscription(in.object, in.previous);
    if (!facts) return failure(facts.error());
    return Outcome{EventFacts{std::move(facts).value()}};
}

Result<Outcome, std::string> customer_change(const Input& in) {
    auto change = read_default_payment_method_change(in.object, in.previous);
    if (!change) return failure(change.error());
    if (!change.value())
        return Outcome{Ignored{"customer.updated without a new default payment method"}};
    return Outcome{EventFacts{std::move(*change.value())}};
}

// The platform learns which connected account left (or came) from the event's `account`.
// data.object is the platform's application (ca_…) today; events that predate `account`
// carried the account there instead.
Result<Outcome, std::string> account_application(const Input& in) {
    AccountFacts facts{in.envelope.account};
    if (facts.account_id.empty() && in.object.string("object") != "application" &&
        !in.object.string("id").starts_with("ca_"))
        facts.account_id = in.object.string("id");
    if (in.object.failed()) return failure(in.object.error());
    if (facts.account_id.empty()) return failure("no account in event.account or data.object.id");
    return Outcome{EventFacts{std::move(facts)}};
}

struct Route {
    std::string_view type;
    EventKind kind;
    Handler handle;
};

using K = EventKind;
constexpr Route routes[] = {
    {"invoice.payment_failed", K::invoice_payment_failed, from_object<read_invoice>},
    {"invoice.payment_action_required", K::invoice_payment_action_required,
     from_object<read_invoice>},
    {"invoice.paid", K::invoice_paid, from_object<read_invoice>},
    {"invoice.payment_succeeded", K::invoice_paid, from_object<read_invoice>},
    {"invoice.marked_uncollectible", K::invoice_marked_uncollectible, from_object<read_invoice>},
    {"invoice.voided", K::invoice_voided, from_object<read_invoice>},
    {"payment_intent.payment_failed", K::payment_failed, from_object<read_payment_intent>},
    {"charge.failed", K::payment_failed, from_object<read_charge>},
    {"payment_intent.processing", K::payment_processing, payment_in_good_standing},
    {"payment_intent.succeeded", K::payment_succeeded, payment_in_good_standing},
    {"charge.dispute.created", K::dispute_created, from_object<read_dispute>},
    {"charge.dispute.closed", K::dispute_closed, from_object<read_dispute>},
    {"customer.subscription.updated", K::subscription_updated, subscription_change},
    {"customer.subscription.deleted", K::subscription_deleted, subscription_change},
    {"payment_method.attached", K::payment_method_attached, from_object<read_payment_method>},
    {"setup_intent.succeeded", K::setup_intent_succeeded, from_object<read_setup_intent>},
    {"customer.updated", K::default_payment_method_changed, customer_change},
    {"mandate.updated", K::mandate_updated, from_object<read_mandate>},
    {"account.application.deauthorized", K::account_deauthorized, account_application},
    {"account.application.authorized", K::account_authorized, account_application},
};

const Route* find_route(std::string_view type) {
    for (const Route& route : routes)
        if (route.type == type) return &route;
    return nullptr;
}

Result<Parsed, std::string> read_event(std::string_view body) {
    simdjson::dom::parser parser;
    auto doc = read_document(body, parser);
    if (!doc) return failure(doc.error());
    const Envelope& envelope = doc.value().envelope;
    const Route* route = find_route(envelope.type);
    if (!route) return Parsed{Ignored{"unhandled event type " + envelope.type}};

    std::string error;
    JsonReader data = JsonReader(doc.value().root, "event", error).object("data").renamed("data");
    JsonReader object = data.object("object"); // the envelope checked both
    JsonReader previous = data.object("previous_attributes");
    auto outcome = route->handle(Input{object, previous, envelope});
    if (!outcome) return failure(envelope.type + ": " + outcome.error());
    if (auto* ignored = std::get_if<Ignored>(&outcome.value())) return Parsed{std::move(*ignored)};
    return Parsed{Event{envelope.id, envelope.type, envelope.account, envelope.created, route->kind,
                        std::get<EventFacts>(std::move(outcome).value())}};
}

std::string unexpected(const std::exception& e) {
    return std::string("could not read event: ") + e.what();
}

} // namespace

// The receiver calls this on every request; it reads the whole body as parse_event does, so that
// every event the receiver stores the worker can read.
Result<Envelope, std::string> parse_envelope(std::string_view body) {
    try {
        simdjson::dom::parser parser;
        auto doc = read_document(body, parser);
        if (!doc) return failure(doc.error());
        return std::move(doc).value().envelope;
    } catch (const std::exception& e) { // bad_alloc; nothing else is expected to throw
        return failure(unexpected(e));
    }
}

bool handled_event_type(std::string_view type) {
    return find_route(type) != nullptr;
}

Result<Parsed, std::string> parse_event(std::string_view body) {
    try {
        return read_event(body);
    } catch (const std::exception& e) {
        return failure(unexpected(e));
    }
}

std::vector<std::string> handled_event_types() {
    std::vector<std::string> out;
    for (const Route& route : routes)
        out.emplace_back(route.type);
    return out;
}

} // namespace dunning::webhook
