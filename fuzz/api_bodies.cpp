// The bodies of the creator API, the test clock and the promise page, as any client may send
// them: a body a reader accepts holds what the route then stores and answers with, and that
// answer can be written (valid UTF-8, an instant or a day that shows as itself). The objection
// (POST …/cases/{id}/objection) reads its {note, actor} with read_revoke.
#include "check.hpp"
#include "core/limitation.hpp"
#include "core/promise.hpp"
#include "http/handover_bodies.hpp"
#include "http/request_bodies.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

using namespace dunning;
using dunning::fuzz::check;

namespace {

// The answer writes instants with iso8601; it must show the same instant.
void check_shows_as_itself(Timestamp t) {
    const std::string text = iso8601(t);
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    check(end && *end == '\0' && text.size() == 20, "an instant shows as YYYY-MM-DDTHH:MM:SSZ",
          text);
    check(timegm(&tm) == to_unix(t), "an instant shows as itself",
          text + " for " + std::to_string(to_unix(t)));
}

void check_writable(const nlohmann::json& answer) {
    try {
        (void)answer.dump();
    } catch (const std::exception& e) {
        fuzz::fail("an accepted body can be answered", e.what());
    }
}

// A day as stored and shown: YYYY-MM-DD, digits only, a real day.
void check_day(const std::string& text) {
    const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                        std::all_of(text.begin(), text.end(),
                                    [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
    check(shaped, "a date is YYYY-MM-DD", text);
    const auto day = parse_iso_date(text);
    check(day && iso_date(*day) == text, "a date shows as itself", text);
}

void check_handover_bodies(std::string_view body) {
    if (const auto h = http::read_handover_request(body)) {
        const auto& r = h.value();
        check(r.cases.size() <= 1000, "at most 1000 cases");
        for (const auto id : r.cases)
            check(id > 0, "a case id is positive", std::to_string(id));
        check(r.agency.size() <= 200, "an agency of at most 200 bytes");
        check_writable({{"cases", r.cases}, {"agency", r.agency}});
    }
    if (const auto c = http::read_collection_result(body)) {
        using Kind = CollectionReport::Kind;
        const auto& r = c.value();
        check(r.kind != Kind::handed_over, "a result is paid, uncollectible or returned");
        check(!r.amount_minor || (r.kind == Kind::paid && *r.amount_minor > 0),
              "an amount is positive and goes with paid only");
        if (!r.date.empty()) check_day(r.date);
        check(r.reference.size() <= 200, "a reference of at most 200 bytes");
        check(r.note.size() <= 1000, "a note of at most 1000 bytes");
        check_writable({{"date", r.date}, {"reference", r.reference}, {"note", r.note}});
    }
}

void check_promise_form(std::string_view body) {
    if (const auto d = http::read_promise_form("application/x-www-form-urlencoded", body)) {
        check(d->ok(), "a promised day exists");
        check_day(std::string(body.substr(5)));
    }
    check(!http::read_promise_form("text/plain", body), "a promise comes only as a form");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    const Timestamp now = from_unix(1'700'000'000);

    if (const auto q = http::read_access_query(body)) {
        check(!q.value().empty() && q.value().size() <= http::max_bulk_items, "1 to 1000 items");
        nlohmann::json answer = nlohmann::json::array();
        for (const auto& item : q.value())
            answer.push_back({{"member", item.member}, {"course", item.course}});
        check_writable(answer);
    }
    if (const auto o = http::read_override(body, now)) {
        const auto& r = o.value();
        check(http::valid_id(r.member), "the member is an id", r.member);
        check(r.product.empty() || http::valid_id(r.product), "the product is an id", r.product);
        check(!r.note.empty() && r.note.size() <= 1000, "a note of 1 to 1000 bytes");
        check(r.actor.size() <= 200, "an actor of at most 200 bytes");
        if (r.until) {
            check(*r.until > now, "until is in the future");
            check_shows_as_itself(*r.until);
        }
        check_writable({{"member", r.member},
                        {"product", r.product},
                        {"note", r.note},
                        {"actor", "api:demo (" + r.actor + ")"}});
    }
    if (const auto r = http::read_revoke(body)) {
        check(!r.value().note.empty() && r.value().note.size() <= 1000,
              "a note of 1 to 1000 bytes");
        check(r.value().actor.size() <= 200, "an actor of at most 200 bytes");
        check_writable({{"note", r.value().note}, {"actor", r.value().actor}});
    }
    if (const auto s = http::read_clock_advance(body)) {
        check(s.value().count() >= 0 && s.value().count() <= 10LL * 366 * 86400, "0 to ten years");
        check_shows_as_itself(now + s.value());
    }
    check_handover_bodies(body);
    check_promise_form(body);
    return 0;
}
