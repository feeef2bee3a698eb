#include "core/money.hpp"

#include <array>
#include <cstdint>

namespace dunning {
namespace {

// Between amount and symbol: U+00A0 NO-BREAK SPACE, so "49,00 €" never breaks across lines.
constexpr std::string_view nbsp = "\u00A0";

bool is_german(std::string_view locale) {
    return locale == "de" || locale.starts_with("de-") || locale.starts_with("de_");
}

} // namespace

// Stripe's lists (docs.stripe.com/currencies): zero-decimal currencies have no minor unit;
// the three-decimal ones count thousandths.
int currency_decimals(std::string_view currency) {
    static constexpr std::array<std::string_view, 16> zero = {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"};
    static constexpr std::array<std::string_view, 5> three = {"bhd", "jod", "kwd", "omr", "tnd"};
    for (auto code : zero)
        if (code == currency) return 0;
    for (auto code : three)
        if (code == currency) return 3;
    return 2;
}

namespace {

// The symbol a member recognises, or empty when the ISO code is shown instead.
std::string_view symbol_of(std::string_view currency) {
    if (currency == "eur") return "\u20AC";
    if (currency == "usd") return "$";
    if (currency == "gbp") return "\u00A3";
    if (currency == "jpy") return "\u00A5";
    return {};
}

std::string upper(std::string_view code) {
    std::string out(code);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// "1234567" → "1.234.567" with `separator` every three digits from the right.
std::string group_thousands(std::uint64_t whole, std::string_view separator) {
    const std::string digits = std::to_string(whole);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += separator;
        out += digits[i];
    }
    return out;
}

// The unsigned number part: "1.234,56" (de) or "1,234.56" (en).
std::string number_part(std::uint64_t magnitude, int decimals, bool german) {
    std::uint64_t scale = 1;
    for (int i = 0; i < decimals; ++i)
        scale *= 10;
    std::string out = group_thousands(magnitude / scale, german ? "." : ",");
    if (decimals > 0) {
        std::string fraction = std::to_string(magnitude % scale);
        fraction.insert(0, static_cast<std::size_t>(decimals) - fraction.size(), '0');
        out += (german ? "," : ".") + fraction;
    }
    return out;
}

} // namespace

std::string format_money(std::int64_t amount_minor, std::string_view currency,
                         std::string_view locale) {
    const bool german = is_german(locale);
    // Unsigned negation is defined for INT64_MIN too.
    const std::uint64_t magnitude =
        amount_minor < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(amount_minor)
                         : static_cast<std::uint64_t>(amount_minor);
    const std::string number = number_part(magnitude, currency_decimals(currency), german);
    const std::string_view symbol = symbol_of(currency);
    const std::string sign = amount_minor < 0 ? "-" : "";
    if (german)
        return sign + number + std::string(nbsp) +
               (symbol.empty() ? upper(currency) : std::string(symbol));
    if (!symbol.empty()) return sign + std::string(symbol) + number;
    return sign + upper(currency) + std::string(nbsp) + number;
}

std::string format_date(std::chrono::year_month_day date, std::string_view locale) {
    if (!date.ok()) return {};
    static constexpr std::array<std::string_view, 12> german = {
        "Januar", "Februar", "M\u00E4rz", "April",   "Mai",      "Juni",
        "Juli",   "August",  "September", "Oktober", "November", "Dezember"};
    static constexpr std::array<std::string_view, 12> english = {
        "January", "February", "March",     "April",   "May",      "June",
        "July",    "August",   "September", "October", "November", "December"};
    const auto month = static_cast<unsigned>(date.month()) - 1;
    const auto day = std::to_string(static_cast<unsigned>(date.day()));
    const auto year = std::to_string(static_cast<int>(date.year()));
    if (is_german(locale)) return day + ". " + std::string(german[month]) + " " + year;
    return day + " " + std::string(english[month]) + " " + year;
}

std::string decimal_amount(std::int64_t amount_minor, std::string_view currency) {
    const int decimals = currency_decimals(currency);
    const bool negative = amount_minor < 0;
    const auto magnitude =
        static_cast<std::uint64_t>(negative ? -(amount_minor + 1) : amount_minor) +
        (negative ? 1u : 0u);
    std::uint64_t scale = 1;
    for (int i = 0; i < decimals; ++i)
        scale *= 10;
    std::string out = (negative ? "-" : "") + std::to_string(magnitude / scale);
    if (decimals > 0) out += "." + std::to_string(magnitude % scale + scale).substr(1);
    return out;
}

} // namespace dunning
