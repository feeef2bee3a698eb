#include "core/interest.hpp"

#include <chrono>
#include <cmath>

namespace dunning {
namespace {

using std::chrono::sys_days;

// Rates as whole hundredths of a percent (basis points): the Bundesbank publishes two decimals,
// and integers keep the rounding exact.
std::int64_t basis_points(double percent) {
    return std::llround(percent * 100.0);
}

constexpr std::int64_t denominator = 100 * 100 * 365; // percent, basis points, actual/365

// round(value / denominator), halves away from zero ("half up" for the positive amounts owed).
std::int64_t divide_rounded(std::int64_t value) {
    const std::int64_t magnitude = value < 0 ? -value : value;
    const std::int64_t rounded = (magnitude + denominator / 2) / denominator;
    return value < 0 ? -rounded : rounded;
}

// principal * rate_bp * days / denominator, rounded, without overflowing for any realistic
// principal: split principal * rate_bp into quotient and remainder first.
std::int64_t period_interest(std::int64_t principal, std::int64_t rate_bp, int days) {
    const std::int64_t scaled = principal * rate_bp;
    const std::int64_t whole = scaled / denominator;
    const std::int64_t rest = scaled % denominator;
    return whole * days + divide_rounded(rest * days);
}

InterestPeriod make_period(std::int64_t principal, Date from, Date to, std::int64_t rate_bp) {
    InterestPeriod period;
    period.from = from;
    period.to = to;
    period.days = static_cast<int>((sys_days{to} - sys_days{from}).count()) + 1;
    period.rate_percent = static_cast<double>(rate_bp) / 100.0;
    period.interest_minor = period_interest(principal, rate_bp, period.days);
    return period;
}

// Index of the entry in force on `day`, or -1 when `day` is before the first entry.
long rate_index(const std::vector<BaseRate>& rates, Date day) {
    long found = -1;
    for (std::size_t i = 0; i < rates.size() && rates[i].valid_from <= day; ++i)
        found = static_cast<long>(i);
    return found;
}

} // namespace

InterestBreakdown default_interest(std::int64_t principal_minor, Date from, Date to,
                                   const std::vector<BaseRate>& rates, bool business_debtor) {
    InterestBreakdown out;
    if (!from.ok() || !to.ok() || to < from || principal_minor <= 0) return out;
    long index = rate_index(rates, from);
    if (index < 0) return out;
    const std::int64_t surcharge_bp = business_debtor ? 900 : 500;
    Date start = from;
    std::int64_t base_bp = basis_points(rates[static_cast<std::size_t>(index)].percent);
    for (auto i = static_cast<std::size_t>(index) + 1; i < rates.size(); ++i) {
        const BaseRate& next = rates[i];
        if (next.valid_from > to) break;
        const std::int64_t next_bp = basis_points(next.percent);
        if (next_bp == base_bp) continue; // an unchanged announcement does not split the period
        const Date last = Date{sys_days{next.valid_from} - std::chrono::days{1}};
        out.periods.push_back(make_period(principal_minor, start, last, base_bp + surcharge_bp));
        start = next.valid_from;
        base_bp = next_bp;
    }
    out.periods.push_back(make_period(principal_minor, start, to, base_bp + surcharge_bp));
    for (const auto& period : out.periods)
        out.total_minor += period.interest_minor;
    return out;
}

} // namespace dunning
