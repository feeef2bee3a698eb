#include "core/calendar.hpp"

#include <array>

namespace dunning {

using namespace std::chrono;

namespace {

sys_days to_days(Date d) {
    return sys_days{d};
}
Date to_date(sys_days d) {
    return Date{d};
}

bool is_weekend(Date d) {
    const weekday wd{to_days(d)};
    return wd == Saturday || wd == Sunday;
}

bool is_fixed_closing_day(Date d) {
    const month m = d.month();
    const day dd = d.day();
    return (m == January && dd == day{1}) || (m == May && dd == day{1}) ||
           (m == December && (dd == day{25} || dd == day{26}));
}

bool is_easter_closing_day(Date d) {
    const sys_days easter = to_days(easter_sunday(d.year()));
    const sys_days today = to_days(d);
    return today == easter - days{2} || today == easter + days{1};
}

// The paydays of one month in calendar order: the 1st, the 15th, the last business day.
std::array<Date, 3> paydays_of(year_month ym) {
    return {ym / day{1}, ym / day{15}, last_target2_business_day(ym)};
}

// The day a retry aimed at payday `p` goes out: the first business day strictly after it,
// so the salary has been booked when the debit is presented.
Date retry_day_after(Date payday) {
    return next_target2_business_day(to_date(to_days(payday) + days{1}));
}

Date first_retry_day_after_a_payday(Date earliest) {
    // The last payday of the previous month can lead to a retry day in this month.
    year_month ym = earliest.year() / earliest.month() - months{1};
    for (;; ym += months{1}) {
        for (Date payday : paydays_of(ym)) {
            const Date candidate = retry_day_after(payday);
            if (to_days(candidate) >= to_days(earliest)) return candidate;
        }
    }
}

} // namespace

Date easter_sunday(year y) {
    // Anonymous Gregorian algorithm (Meeus, Astronomical Algorithms, ch. 8).
    const int yy = static_cast<int>(y);
    const int a = yy % 19;
    const int b = yy / 100;
    const int c = yy % 100;
    const int d = b / 4;
    const int e = b % 4;
    const int f = (b + 8) / 25;
    const int g = (b - f + 1) / 3;
    const int h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4;
    const int k = c % 4;
    const int l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month_number = (h + l - 7 * m + 114) / 31;
    const int day_number = (h + l - 7 * m + 114) % 31 + 1;
    return y / month{static_cast<unsigned>(month_number)} / day{static_cast<unsigned>(day_number)};
}

bool is_target2_business_day(Date d) {
    return !is_weekend(d) && !is_fixed_closing_day(d) && !is_easter_closing_day(d);
}

Date next_target2_business_day(Date d) {
    sys_days day_number = to_days(d);
    while (!is_target2_business_day(to_date(day_number)))
        day_number += days{1};
    return to_date(day_number);
}

Date last_target2_business_day(year_month ym) {
    sys_days day_number = to_days(ym / last);
    while (!is_target2_business_day(to_date(day_number)))
        day_number -= days{1};
    return to_date(day_number);
}

Date sepa_retry_day(Date earliest, days max_wait) {
    const Date preferred = first_retry_day_after_a_payday(earliest);
    if (to_days(preferred) - to_days(earliest) <= max_wait) return preferred;
    return next_target2_business_day(earliest);
}

} // namespace dunning
