#include "core/limitation.hpp"

#include <cstdio>

namespace dunning {

namespace {

Date day_of(Timestamp t) {
    return Date(std::chrono::floor<std::chrono::days>(t));
}

} // namespace

std::optional<Date> claim_arose_on(const CaseState& s) {
    if (s.invoice.due_date) return day_of(*s.invoice.due_date);
    if (s.opened_at) return day_of(*s.opened_at);
    if (s.dispute && s.dispute->lost_at) return day_of(*s.dispute->lost_at);
    return std::nullopt;
}

std::string iso_date(Date d) {
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return out;
}

Date limitation_date(Date arose) {
    return Date{arose.year() + std::chrono::years{3}, std::chrono::December, std::chrono::day{31}};
}

LimitationStep limitation_step(Date limitation, int warned, Timestamp now) {
    const auto last_day = std::chrono::sys_days(limitation);
    LimitationStep step;
    if (now >= last_day + std::chrono::days{1}) return step; // barred: too late to warn
    // Most urgent first: the smallest number of days before the limitation date.
    for (auto it = limitation_warning_days.rbegin(); it != limitation_warning_days.rend(); ++it) {
        const int days = *it;
        if (warned != 0 && warned <= days) continue; // this one or a more urgent one went out
        const Timestamp due = last_day - std::chrono::days{days};
        if (due <= now) {
            if (step.warn_days_before == 0) step.warn_days_before = days;
        } else if (step.warn_days_before == 0 || days < step.warn_days_before) {
            if (!step.wake || due < *step.wake) step.wake = due;
        }
    }
    return step;
}

} // namespace dunning
