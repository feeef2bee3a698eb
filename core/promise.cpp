#include "core/promise.hpp"

#include <charconv>

namespace dunning {

namespace {

std::optional<int> digits(std::string_view text) {
    int v = 0;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

} // namespace

std::optional<Date> parse_iso_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    const auto y = digits(text.substr(0, 4)), m = digits(text.substr(5, 2)),
               d = digits(text.substr(8, 2));
    if (!y || !m || !d) return std::nullopt;
    const Date date{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                    std::chrono::day{static_cast<unsigned>(*d)}};
    if (!date.ok()) return std::nullopt;
    return date;
}

Date day_of(Timestamp t) {
    return Date(std::chrono::floor<std::chrono::days>(t));
}

Date earliest_promise_date(Timestamp now) {
    return Date(std::chrono::sys_days(day_of(now)) + std::chrono::days{1});
}

Date latest_promise_date(Timestamp now, int max_days) {
    return Date(std::chrono::sys_days(day_of(now)) + std::chrono::days{max_days});
}

Timestamp promise_until(Date promised) {
    return Timestamp(std::chrono::sys_days(promised) + std::chrono::days{1});
}

PromiseRefusal promise_refusal(const CaseState& s) {
    if (!s.is_open() || s.escalated_at || s.objected()) return PromiseRefusal::closed;
    if (s.promise) return PromiseRefusal::already_made;
    return PromiseRefusal::none;
}

PromiseRefusal promise_refusal(const CaseState& s, Date promised, Timestamp now, int max_days) {
    if (const auto r = promise_refusal(s); r != PromiseRefusal::none) return r;
    const auto day = std::chrono::sys_days(promised);
    if (day < std::chrono::sys_days(earliest_promise_date(now)) ||
        day > std::chrono::sys_days(latest_promise_date(now, max_days)))
        return PromiseRefusal::bad_date;
    return PromiseRefusal::none;
}

} // namespace dunning
