// The JSON bodies of the creator API and the test clock, as any client may send them: a body a
// reader accepts holds what the route then stores and answers with, and that answer can be
// written (valid UTF-8, an instant that shows as itself).
#include "check.hpp"
#include "http/request_bodies.hpp"

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
    return 0;
}
