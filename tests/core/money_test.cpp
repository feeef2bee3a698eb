#include "core/money.hpp"

#include <cstdint>
#include <gtest/gtest.h>
#include <limits>

namespace dunning {
namespace {

using namespace std::chrono;

// U+00A0 NO-BREAK SPACE between amount and symbol; the euro sign is U+20AC.
constexpr const char* nbsp = "\xC2\xA0";
constexpr const char* euro = "\xE2\x82\xAC";

std::string de(const std::string& number, const std::string& symbol) {
    return number + nbsp + symbol;
}

TEST(FormatMoney, GermanEuroUsesCommaDecimalsDotGroupsAndNoBreakSpace) {
    EXPECT_EQ(format_money(4900, "eur", "de"), de("49,00", euro));
    EXPECT_EQ(format_money(123456, "eur", "de"), de("1.234,56", euro));
    EXPECT_EQ(format_money(0, "eur", "de"), de("0,00", euro));
    EXPECT_EQ(format_money(5, "eur", "de"), de("0,05", euro));
    EXPECT_EQ(format_money(100000, "eur", "de"), de("1.000,00", euro));
    EXPECT_EQ(format_money(4900, "eur", "de"), "49,00\u00A0\u20AC"); // the same, spelled out
}

TEST(FormatMoney, GermanOtherCurrencies) {
    EXPECT_EQ(format_money(4900, "usd", "de"), de("49,00", "$"));
    EXPECT_EQ(format_money(500, "gbp", "de"), de("5,00", "\u00A3"));
    EXPECT_EQ(format_money(4900, "chf", "de"), de("49,00", "CHF"));
}

TEST(FormatMoney, EnglishPutsTheSymbolFirstAndTheCodeFirstWithNoBreakSpace) {
    EXPECT_EQ(format_money(4900, "eur", "en"), std::string(euro) + "49.00");
    EXPECT_EQ(format_money(123456, "eur", "en"), std::string(euro) + "1,234.56");
    EXPECT_EQ(format_money(4900, "usd", "en"), "$49.00");
    EXPECT_EQ(format_money(500, "gbp", "en"), "\u00A35.00");
    EXPECT_EQ(format_money(4900, "chf", "en"), std::string("CHF") + nbsp + "49.00");
}

TEST(FormatMoney, ZeroDecimalCurrenciesHaveNoMinorUnit) {
    EXPECT_EQ(format_money(1000, "jpy", "en"), "\u00A51,000");
    EXPECT_EQ(format_money(1000, "jpy", "de"), de("1.000", "\u00A5"));
    EXPECT_EQ(format_money(50000, "krw", "en"), std::string("KRW") + nbsp + "50,000");
    EXPECT_EQ(format_money(7, "clp", "de"), de("7", "CLP"));
    for (const char* code : {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                             "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})
        EXPECT_EQ(format_money(1234, code, "en").find('.'), std::string::npos) << code;
}

TEST(FormatMoney, ThreeDecimalCurrenciesCountThousandths) {
    EXPECT_EQ(format_money(12345, "kwd", "en"), std::string("KWD") + nbsp + "12.345");
    EXPECT_EQ(format_money(12345, "bhd", "de"), de("12,345", "BHD"));
}

TEST(FormatMoney, NegativesLeadWithHyphenMinus) {
    EXPECT_EQ(format_money(-4900, "eur", "de"), de("-49,00", euro));
    EXPECT_EQ(format_money(-4900, "eur", "en"), std::string("-") + euro + "49.00");
    EXPECT_EQ(format_money(-5, "usd", "en"), "-$0.05");
    EXPECT_EQ(format_money(-1000, "jpy", "de"), de("-1.000", "\u00A5"));
}

TEST(FormatMoney, LargeAmountsIncludingTheInt64Limits) {
    EXPECT_EQ(format_money(123456789012, "eur", "de"), de("1.234.567.890,12", euro));
    EXPECT_EQ(format_money(123456789012, "usd", "en"), "$1,234,567,890.12");
    const auto max = std::numeric_limits<std::int64_t>::max();
    const auto min = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(format_money(max, "eur", "de"), de("92.233.720.368.547.758,07", euro));
    EXPECT_EQ(format_money(min, "eur", "de"), de("-92.233.720.368.547.758,08", euro));
}

TEST(FormatMoney, LocaleVariants) {
    EXPECT_EQ(format_money(123456, "eur", "de-DE"), de("1.234,56", euro));
    EXPECT_EQ(format_money(123456, "eur", "de_AT"), de("1.234,56", euro));
    EXPECT_EQ(format_money(123456, "eur", "fr"), std::string(euro) + "1,234.56"); // English
    EXPECT_EQ(format_money(123456, "eur", ""), std::string(euro) + "1,234.56");
    EXPECT_EQ(format_money(123456, "eur", "dexter"), std::string(euro) + "1,234.56");
}

TEST(FormatDate, German) {
    EXPECT_EQ(format_date(2027y / March / 3, "de"), "3. M\u00E4rz 2027");
    EXPECT_EQ(format_date(2027y / March / 3, "de"), "3. März 2027");
    EXPECT_EQ(format_date(2027y / May / 1, "de"), "1. Mai 2027");
    EXPECT_EQ(format_date(2027y / December / 24, "de"), "24. Dezember 2027");
    EXPECT_EQ(format_date(2028y / February / 29, "de"), "29. Februar 2028");
}

TEST(FormatDate, English) {
    EXPECT_EQ(format_date(2027y / March / 3, "en"), "3 March 2027");
    EXPECT_EQ(format_date(2027y / May / 1, "en"), "1 May 2027");
    EXPECT_EQ(format_date(2027y / December / 24, "fr"), "24 December 2027");
}

TEST(FormatDate, EveryMonth) {
    const char* german[] = {"Januar", "Februar", "März",      "April",   "Mai",      "Juni",
                            "Juli",   "August",  "September", "Oktober", "November", "Dezember"};
    const char* english[] = {"January", "February", "March",     "April",   "May",      "June",
                             "July",    "August",   "September", "October", "November", "December"};
    for (unsigned m = 1; m <= 12; ++m) {
        const auto date = year{2027} / month{m} / day{15};
        EXPECT_EQ(format_date(date, "de"), std::string("15. ") + german[m - 1] + " 2027");
        EXPECT_EQ(format_date(date, "en"), std::string("15 ") + english[m - 1] + " 2027");
    }
}

TEST(FormatDate, InvalidDateIsEmpty) {
    EXPECT_EQ(format_date(2027y / February / 30, "de"), "");
}

} // namespace
} // namespace dunning
