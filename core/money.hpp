#pragma once
// Amounts and dates as a member reads them: "49,00 €" and "3. März 2027" in German,
// "€49.00" and "3 March 2027" in English.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dunning {

// Digits after the decimal point of `currency` (Stripe's lowercase ISO code): 0 for jpy, krw,
// …, 3 for bhd, jod, kwd, omr, tnd, 2 for every other.
int currency_decimals(std::string_view currency);

// `currency` is Stripe's lowercase ISO code; zero-decimal currencies (jpy, krw, …) have no
// minor unit, three-decimal ones (bhd, jod, kwd, omr, tnd) count thousandths. Unknown locales
// format as English; "de", "de-…" and "de_…" as German. Symbols for eur, usd, gbp and jpy, the
// upper-case ISO code otherwise: "1.234,56 €", "49,00 CHF" / "€1,234.56", "CHF 49.00". Between
// amount and symbol or code sits U+00A0 NO-BREAK SPACE; negatives lead with "-" ("-€49.00").
std::string format_money(std::int64_t amount_minor, std::string_view currency,
                         std::string_view locale);

// "49.99", "5000" (jpy), "12.345" (kwd), "-1.50": the major unit with a point, no symbol, as
// spreadsheets and agencies import amounts.
std::string decimal_amount(std::int64_t amount_minor, std::string_view currency);

// "3. März 2027" (de) / "3 March 2027" (en); an invalid date gives "".
std::string format_date(std::chrono::year_month_day date, std::string_view locale);

} // namespace dunning
