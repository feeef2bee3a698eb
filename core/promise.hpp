#pragma once
// Promise to pay: the member picks a date through the link in a dunning email, and dunning
// waits until then (once per case). Which dates are allowed and whether the case still takes a
// promise; the link's signature lives with the adapters (jobs/promise_link.hpp).
#include "core/calendar.hpp"
#include "core/case.hpp"

#include <optional>
#include <string_view>

namespace dunning {

enum class PromiseRefusal {
    none,
    closed,       // paid, voided, written off, escalated or objected: no promise to take
    already_made, // a case takes one promise
    bad_date,     // not a date from tomorrow to promise_max_days ahead
};

// "2027-01-31" → the date; nothing for any other spelling or a day that does not exist.
std::optional<Date> parse_iso_date(std::string_view text);

// The day a timestamp falls on (UTC).
Date day_of(Timestamp t);

// The range the member may pick from: tomorrow … today + max_days (UTC days).
Date earliest_promise_date(Timestamp now);
Date latest_promise_date(Timestamp now, int max_days);

// Dunning waits through the promised day and resumes at the start of the next (UTC).
Timestamp promise_until(Date promised);

// Whether the case takes a promise now at all (the page offers the form only then).
PromiseRefusal promise_refusal(const CaseState& s);
// … and for this date.
PromiseRefusal promise_refusal(const CaseState& s, Date promised, Timestamp now, int max_days);

} // namespace dunning
