#pragma once
// When a claim becomes time-barred (Verjährung): the regular period is three years (§ 195 BGB)
// and starts at the end of the year in which the claim arose (§ 199 (1) BGB), so a claim that
// arose on any day of 2027 is barred after 31 December 2030. Suspensions (§§ 203 ff., e.g. by
// a court dunning application) are not modelled. Pure.
#include "core/calendar.hpp"
#include "core/case.hpp"

#include <array>
#include <optional>
#include <string>

namespace dunning {

// The day the claim arose, in UTC: the invoice's due date, else the first failure, else (a
// paid invoice charged back) the day the dispute was lost. UTC is never later than German
// time, so a claim from just before midnight on 31 December counts in the earlier year at
// worst: a limitation date one year early, never one year late.
std::optional<Date> claim_arose_on(const CaseState& s);

// "2030-12-31": how the API, CSV and notifications show a date.
std::string iso_date(Date d);

// The last day before the claim is time-barred: 31 December, three years after the year it
// arose in.
Date limitation_date(Date arose);

// The platform is warned this many days before the limitation date, each once per claim.
inline constexpr std::array<int, 2> limitation_warning_days = {90, 30};

struct LimitationStep {
    int warn_days_before = 0;        // a warning to send now (90 or 30), 0 for none
    std::optional<Timestamp> wake{}; // when the next warning falls due
};

// Which warning is due at `now` for an outstanding claim whose most urgent warning sent so far
// is `warned` (0 none, 90, 30). A warning falls due at 00:00 UTC that many days before the
// limitation date; when several are due (a claim first seen late, downtime) only the most
// urgent is sent. Nothing once the limitation date has passed.
LimitationStep limitation_step(Date limitation, int warned, Timestamp now);

} // namespace dunning
