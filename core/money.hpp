#pragma once
// Amounts and dates as a member reads them: "49,00 €" and "3. März 2027" in German,
// "€49.00" and "3 March 2027" in English.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dunning {

// `currency` is Stripe's lowercase ISO code; zero-decimal currencies (jpy, krw, …) have no
// minor unit. Unknown locales format as English.
std::string format_money(std::int64_t amount_minor, std::string_view currency,
                         std::string_view locale);

std::string format_date(std::chrono::year_month_day date, std::string_view locale);

} // namespace dunning
