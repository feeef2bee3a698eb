#include "http/request_bodies.hpp"

#include "core/promise.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>

namespace dunning::http {

namespace {

using nlohmann::json;

Err<std::string> failure(std::string message) {
    return {std::move(message)};
}

const json* member(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

const std::string* string_member(const json& object, const char* key) {
    const json* value = member(object, key);
    return value && value->is_string() ? value->get_ptr<const std::string*>() : nullptr;
}

// At most `max` bytes, cut before a character, not inside one.
std::string utf8_prefix(const std::string& s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return s.substr(0, n);
}

std::string read_actor(const json& body) {
    const std::string* actor = string_member(body, "actor");
    return actor ? utf8_prefix(*actor, 200) : std::string{};
}

// A note says why; the audit is worthless without it.
std::optional<std::string> read_note(const json& body) {
    const std::string* note = string_member(body, "note");
    if (!note || note->empty() || note->size() > 1000) return std::nullopt;
    return *note;
}

// 9999-12-31T23:59:59Z: later instants have no four-digit year, so no answer could show them.
constexpr std::int64_t latest_time = 253402300799;

constexpr const char* note_required = "note is required: say why (1 to 1000 characters)";

} // namespace

bool valid_id(const std::string& s) {
    return !s.empty() && s.size() <= 255 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

Result<std::vector<AccessQuery>, std::string> read_access_query(std::string_view body) {
    const auto root = json::parse(body, nullptr, false);
    const json* items = root.is_object() ? member(root, "items") : nullptr;
    if (!items || !items->is_array())
        return failure(R"(body must be {"items": [{"member": "cus_…", "course": "…"}, …]})");
    if (items->empty() || items->size() > max_bulk_items)
        return failure("items must hold 1 to " + std::to_string(max_bulk_items) + " queries");
    std::vector<AccessQuery> queries;
    for (const auto& item : *items) {
        const std::string* m = item.is_object() ? string_member(item, "member") : nullptr;
        const std::string* c = item.is_object() ? string_member(item, "course") : nullptr;
        if (!m || !c) return failure("every item needs \"member\" and \"course\" as strings");
        queries.push_back({*m, *c});
    }
    return queries;
}

Result<OverrideRequest, std::string> read_override(std::string_view body, Timestamp now) {
    const auto root = json::parse(body, nullptr, false);
    if (!root.is_object()) return failure("body must be a JSON object (UTF-8)");
    OverrideRequest o;
    const std::string* customer = string_member(root, "member");
    if (!customer || !valid_id(*customer)) return failure("member must be a Stripe customer id");
    o.member = *customer;
    if (const json* product = member(root, "product"); product && !product->is_null()) {
        if (!product->is_string() || !valid_id(product->get<std::string>()))
            return failure("product must be a Stripe product id, or left out for all products");
        o.product = product->get<std::string>();
    }
    const json* level = member(root, "level");
    const auto parsed = !level               ? std::optional{AccessLevel::granted}
                        : level->is_string() ? access_level_from(level->get<std::string>())
                                             : std::nullopt;
    if (!parsed) return failure(R"(level must be "granted", "grace", "limited" or "locked")");
    o.level = *parsed;
    if (const json* until = member(root, "until"); until && !until->is_null()) {
        if (!until->is_number_integer() || until->get<std::int64_t>() > latest_time ||
            from_unix(until->get<std::int64_t>()) <= now)
            return failure(
                "until must be a future time in unix seconds, or left out (until revoked)");
        o.until = from_unix(until->get<std::int64_t>());
    }
    const auto note = read_note(root);
    if (!note) return failure(note_required);
    o.note = *note;
    o.actor = read_actor(root);
    return o;
}

Result<RevokeRequest, std::string> read_revoke(std::string_view body) {
    const auto root = json::parse(body.empty() ? "{}" : body, nullptr, false);
    if (!root.is_object()) return failure("body must be a JSON object (UTF-8)");
    const auto note = read_note(root);
    if (!note) return failure(note_required);
    return RevokeRequest{*note, read_actor(root)};
}

Result<RevokeRequest, std::string> read_command_note(std::string_view body) {
    const auto root = json::parse(body.empty() ? "{}" : body, nullptr, false);
    if (!root.is_object()) return failure("body must be a JSON object (UTF-8), or empty");
    RevokeRequest out{"", read_actor(root)};
    if (member(root, "note")) {
        const auto note = read_note(root);
        if (!note) return failure("note must be 1 to 1000 characters when given");
        out.note = *note;
    }
    return out;
}

Result<std::chrono::seconds, std::string> read_clock_advance(std::string_view body) {
    const auto root = json::parse(body, nullptr, false);
    const json* seconds = root.is_object() ? member(root, "seconds") : nullptr;
    if (!seconds || !seconds->is_number_integer())
        return failure(R"(body must be {"seconds": N} with N a whole number)");
    const auto n = seconds->get<long long>();
    if (n < 0 || n > 10LL * 366 * 86400) return failure("seconds must be between 0 and ten years");
    return std::chrono::seconds(n);
}

std::optional<Date> read_promise_form(std::string_view content_type, std::string_view body) {
    if (!content_type.starts_with("application/x-www-form-urlencoded")) return std::nullopt;
    if (!body.starts_with("date=")) return std::nullopt;
    return parse_iso_date(body.substr(5));
}

} // namespace dunning::http
