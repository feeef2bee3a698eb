#pragma once
// The JSON bodies the creator API and the test clock accept, read apart from the request that
// carried them: every rule a body must follow and the message when it does not. No store, no
// sockets, so each reader can be tested and fuzzed on bytes alone.
#include "core/access.hpp"
#include "core/calendar.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::http {

inline constexpr std::size_t max_bulk_items = 1000;

// Stripe ids and the host's course ids: printable, no spaces, at most 255 bytes.
bool valid_id(const std::string& s);

// POST /v1/creators/{c}/access/query: {"items": [{"member": …, "course": …}, …]}. The ids
// themselves are checked item by item in the answer, so one bad item fails only itself.
struct AccessQuery {
    std::string member;
    std::string course;
};
Result<std::vector<AccessQuery>, std::string> read_access_query(std::string_view body);

// POST /v1/creators/{c}/access/overrides.
struct OverrideRequest {
    std::string member;
    std::string product; // "" = every product of the member
    AccessLevel level = AccessLevel::granted;
    std::optional<Timestamp> until; // after `now`; none: until revoked
    std::string note;               // why: 1 to 1000 bytes
    std::string actor;              // who, in the caller's words: at most 200 bytes, may be empty
};
Result<OverrideRequest, std::string> read_override(std::string_view body, Timestamp now);

// POST /v1/creators/{c}/access/overrides/{id}/revoke; an empty body reads as {}.
struct RevokeRequest {
    std::string note;
    std::string actor;
};
Result<RevokeRequest, std::string> read_revoke(std::string_view body);
// POST …/cases/{id}/{pause|resume|…}: no body, or {"note"?, "actor"?} saying why and who (a note
// of 1 to 1000 characters when given).
Result<RevokeRequest, std::string> read_command_note(std::string_view body);

// POST /v1/test-clock/advance: {"seconds": N}, 0 ≤ N ≤ ten years.
Result<std::chrono::seconds, std::string> read_clock_advance(std::string_view body);

// POST /promise/{token}: exactly date=YYYY-MM-DD (a form with that one field), sent as
// application/x-www-form-urlencoded. Nothing for any other body or content type.
std::optional<Date> read_promise_form(std::string_view content_type, std::string_view body);

} // namespace dunning::http
