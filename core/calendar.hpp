#pragma once
// TARGET2 business days, the days SEPA debits settle on. T2 is closed on weekends, 1 January,
// Good Friday, Easter Monday, 1 May, 25 and 26 December.
#include <chrono>

namespace dunning {

using Date = std::chrono::year_month_day;

Date easter_sunday(std::chrono::year y); // Gregorian computus
bool is_target2_business_day(Date d);
Date next_target2_business_day(Date d);       // d itself if it is one
Date last_target2_business_day(std::chrono::year_month ym);

// The business day to submit a SEPA retry on: the first business day after a payday (1st,
// 15th, last business day of the month) on or after `earliest`, when that is at most
// `max_wait` days after `earliest`; otherwise the first business day on or after `earliest`.
Date sepa_retry_day(Date earliest, std::chrono::days max_wait);

} // namespace dunning
