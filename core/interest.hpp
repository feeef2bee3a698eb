#pragma once
// Statutory default interest and dunning fees under German law (§ 288 BGB): the base rate
// (Basiszinssatz, set each 1 January and 1 July) plus 5 points for a consumer, plus 9 points
// for a business; simple interest, actual/365, split at each change of the base rate. All
// amounts are in minor units and rounded half up per period.
#include "core/calendar.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dunning {

struct BaseRate {
    Date valid_from;
    double percent; // may be negative (e.g. -0.88 in 2016–2022)
};

struct InterestPeriod {
    Date from; // first day interest runs
    Date to;   // last day included
    int days = 0;
    double rate_percent = 0; // base rate + surcharge
    std::int64_t interest_minor = 0;
};

struct InterestBreakdown {
    std::vector<InterestPeriod> periods;
    std::int64_t total_minor = 0;
};

// Interest on `principal_minor` for the days from `from` to `to` inclusive. `rates` sorted by
// valid_from; a day before the first entry is an error the caller must avoid (empty result).
// Each entry is in force until the next one; the last stays in force. A period ends where the
// rate changes (an entry repeating the previous percent does not split). Days are counted
// actual/365 in leap years too, as German courts and collection practice commonly do; each
// period is rounded half up to minor units and the total is the sum of the rounded periods.
// Empty for to < from, invalid dates or principal_minor <= 0.
InterestBreakdown default_interest(std::int64_t principal_minor, Date from, Date to,
                                   const std::vector<BaseRate>& rates, bool business_debtor);

// § 288 (5) BGB: 40 EUR flat fee a business debtor owes once in default.
inline constexpr std::int64_t b2b_flat_fee_eur_minor = 4000;

} // namespace dunning
