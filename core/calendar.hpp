#pragma once
// TARGET2 business days, the days SEPA debits settle on. T2 is closed on weekends, 1 January,
// Good Friday, Easter Monday, 1 May, 25 and 26 December (ECB's T2 closing days; the rule in
// force since 2002, earlier one-off closings are not modelled). All dates must be valid (ok()).
#include <chrono>

namespace dunning {

using Date = std::chrono::year_month_day;

Date easter_sunday(std::chrono::year y); // Gregorian computus
bool is_target2_business_day(Date d);
Date next_target2_business_day(Date d); // d itself if it is one
Date last_target2_business_day(std::chrono::year_month ym);

// The business day to submit a SEPA retry on. Paydays are the 1st, the 15th and the last
// business day of each month (calendar dates, whether or not T2 is open). Each payday p has a
// retry day: the first business day strictly after p. The preferred day is the earliest retry
// day on or after `earliest` (so `earliest` itself qualifies when it directly follows a
// payday). If it is more than `max_wait` days after `earliest`, the answer is instead
// next_target2_business_day(earliest).
// E.g. earliest Wed 2027-03-10 -> payday Mon 15 March -> Tue 2027-03-16.
Date sepa_retry_day(Date earliest, std::chrono::days max_wait);

} // namespace dunning
