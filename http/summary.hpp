#pragma once
// GET /v1/creators/{c}/summary: what dunning recovered (core/recovery.hpp) and the members locked
// now. The dashboard's overview shows this same JSON.
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dunning::http {

struct SummaryPeriod {
    Date from; // first failures on or after this day (UTC)
    Date to;   // … up to and including this day
};

// ?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the 365 days up to today: the problem, or nothing.
std::optional<std::string> read_summary_period(const httplib::Request& req, const Clock& clock,
                                               SummaryPeriod& out);
nlohmann::json creator_summary(Services& m, const std::string& creator, const SummaryPeriod& p);

// "66.7" for 2/3: tenths of a percent, from the summary's permille.
std::string percent_text(long long permille);

} // namespace dunning::http
