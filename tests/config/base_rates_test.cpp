#include "config/base_rates.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dunning::config {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;

const std::string table_path = std::string(DUNNING_SOURCE_DIR) + "/config/base_rates.toml";

TEST(BaseRates, ShippedTableLoadsSortedOnChangeDates) {
    const auto loaded = load_base_rates(table_path);
    ASSERT_TRUE(loaded) << loaded.error();
    const auto& rates = loaded.value();
    ASSERT_GE(rates.size(), 14u);
    EXPECT_LE(rates.front().valid_from, 2012y / January / 1);
    for (std::size_t i = 0; i < rates.size(); ++i) {
        const auto& d = rates[i].valid_from;
        EXPECT_EQ(d.day(), day{1});
        EXPECT_TRUE(d.month() == January || d.month() == July);
        if (i > 0) {
            EXPECT_LT(rates[i - 1].valid_from, d);
        }
    }
}

// The value in force on `day` according to the shipped table.
double rate_on(const std::vector<BaseRate>& rates, Date day) {
    double percent = 0;
    for (const auto& rate : rates)
        if (rate.valid_from <= day) percent = rate.percent;
    return percent;
}

TEST(BaseRates, ShippedTableHasTheBundesbankValues) {
    const auto loaded = load_base_rates(table_path);
    ASSERT_TRUE(loaded) << loaded.error();
    const auto& r = loaded.value();
    EXPECT_DOUBLE_EQ(rate_on(r, 2012y / March / 1), 0.12);
    EXPECT_DOUBLE_EQ(rate_on(r, 2013y / January / 1), -0.13);
    EXPECT_DOUBLE_EQ(rate_on(r, 2013y / July / 1), -0.38);
    EXPECT_DOUBLE_EQ(rate_on(r, 2014y / January / 1), -0.63);
    EXPECT_DOUBLE_EQ(rate_on(r, 2014y / July / 1), -0.73);
    EXPECT_DOUBLE_EQ(rate_on(r, 2015y / January / 1), -0.83);
    EXPECT_DOUBLE_EQ(rate_on(r, 2016y / June / 30), -0.83);
    EXPECT_DOUBLE_EQ(rate_on(r, 2016y / July / 1), -0.88);
    EXPECT_DOUBLE_EQ(rate_on(r, 2022y / December / 31), -0.88);
    EXPECT_DOUBLE_EQ(rate_on(r, 2023y / January / 1), 1.62);
    EXPECT_DOUBLE_EQ(rate_on(r, 2023y / July / 1), 3.12);
    EXPECT_DOUBLE_EQ(rate_on(r, 2024y / January / 1), 3.62);
    EXPECT_DOUBLE_EQ(rate_on(r, 2024y / July / 1), 3.37);
    EXPECT_DOUBLE_EQ(rate_on(r, 2025y / January / 1), 2.27);
    EXPECT_DOUBLE_EQ(rate_on(r, 2025y / July / 1), 1.27);
    EXPECT_DOUBLE_EQ(rate_on(r, 2026y / January / 1), 1.27);
}

TEST(BaseRates, ShippedTableFeedsDefaultInterest) {
    const auto loaded = load_base_rates(table_path);
    ASSERT_TRUE(loaded) << loaded.error();
    // As in core's interest test: 49,00 € from 16 June to 15 July 2025, consumer → 15 + 13.
    const auto result =
        default_interest(4900, 2025y / June / 16, 2025y / July / 15, loaded.value(), false);
    ASSERT_EQ(result.periods.size(), 2u);
    EXPECT_EQ(result.total_minor, 28);
}

TEST(BaseRates, ParsesAMinimalTable) {
    const auto parsed = parse_base_rates("[[base_rate]]\nvalid_from = 2016-07-01\npercent = -0.88\n"
                                         "[[base_rate]]\nvalid_from = 2023-01-01\npercent = 2\n",
                                         "rates.toml");
    ASSERT_TRUE(parsed) << parsed.error();
    ASSERT_EQ(parsed.value().size(), 2u);
    EXPECT_EQ(parsed.value()[0].valid_from, 2016y / July / 1);
    EXPECT_DOUBLE_EQ(parsed.value()[0].percent, -0.88);
    EXPECT_DOUBLE_EQ(parsed.value()[1].percent, 2.0);
}

std::string error_of(const std::string& toml) {
    const auto parsed = parse_base_rates(toml, "rates.toml");
    EXPECT_FALSE(parsed);
    return parsed ? "" : parsed.error();
}

TEST(BaseRates, UnsortedOrRepeatedDatesAreErrorsWithFileAndLine) {
    const std::string unsorted = "[[base_rate]]\nvalid_from = 2024-01-01\npercent = 3.62\n"
                                 "[[base_rate]]\nvalid_from = 2023-07-01\npercent = 3.12\n";
    EXPECT_EQ(error_of(unsorted),
              "rates.toml:5: base_rate[1].valid_from: must be after the previous "
              "entry's 2024-01-01 (entries are sorted by date, each date once)");
    const std::string repeated = "[[base_rate]]\nvalid_from = 2024-01-01\npercent = 3.62\n"
                                 "[[base_rate]]\nvalid_from = 2024-01-01\npercent = 3.62\n";
    EXPECT_THAT(error_of(repeated),
                HasSubstr("rates.toml:5: base_rate[1].valid_from: must be after"));
}

TEST(BaseRates, MissingKeysAreErrors) {
    EXPECT_THAT(error_of("[[base_rate]]\npercent = 1.27\n"),
                HasSubstr("rates.toml:1: base_rate[0]: missing key \"valid_from\""));
    EXPECT_THAT(error_of("\n[[base_rate]]\nvalid_from = 2025-07-01\n"),
                HasSubstr("rates.toml:2: base_rate[0]: missing key \"percent\""));
    EXPECT_THAT(error_of("# nothing here\n"), HasSubstr("rates.toml:1: base_rate: missing"));
}

TEST(BaseRates, DatesOnlyOnFirstOfJanuaryOrJuly) {
    EXPECT_EQ(error_of("[[base_rate]]\nvalid_from = 2025-03-01\npercent = 1.27\n"),
              "rates.toml:2: base_rate[0].valid_from: the base rate changes only on 1 January and "
              "1 July");
    EXPECT_THAT(error_of("[[base_rate]]\nvalid_from = 2025-07-02\npercent = 1.27\n"),
                HasSubstr("only on 1 January and 1 July"));
}

TEST(BaseRates, WrongTypesAndValues) {
    EXPECT_THAT(error_of("[[base_rate]]\nvalid_from = \"2025-07-01\"\npercent = 1.27\n"),
                HasSubstr("rates.toml:2: base_rate[0].valid_from: must be a TOML date"));
    EXPECT_THAT(error_of("[[base_rate]]\nvalid_from = 2025-07-01\npercent = \"1,27\"\n"),
                HasSubstr("rates.toml:3: base_rate[0].percent: must be a number"));
    EXPECT_THAT(error_of("[[base_rate]]\nvalid_from = 2025-07-01\npercent = 127\n"),
                HasSubstr("must be between -20 and 20"));
    EXPECT_THAT(error_of("[[base_rate]]\nvalid_from = 2025-07-01\npercent = 1.275\n"),
                HasSubstr("more than two decimals"));
    EXPECT_THAT(
        error_of("[[base_rate]]\nvalid_from = 2025-07-01\npercent = 1.27\nsource = \"x\"\n"),
        HasSubstr("rates.toml:4: base_rate[0].source: unknown key"));
    EXPECT_THAT(error_of("base_rate = 1\n"), HasSubstr("must be an array of tables"));
}

TEST(BaseRates, EveryProblemIsReportedOnItsOwnLine) {
    const auto error = error_of("[[base_rate]]\nvalid_from = 2025-03-01\npercent = 1.27\n"
                                "[[base_rate]]\nvalid_from = 2025-07-01\npercent = 1.275\n");
    EXPECT_EQ(error,
              "rates.toml:2: base_rate[0].valid_from: the base rate changes only on 1 January "
              "and 1 July\nrates.toml:6: base_rate[1].percent: has more than two decimals; "
              "the Bundesbank publishes two");
}

TEST(BaseRates, SyntaxErrorAndUnreadableFile) {
    EXPECT_THAT(error_of("[[base_rate]\n"), HasSubstr("rates.toml:1: syntax: "));
    const auto missing = load_base_rates("/nonexistent/base_rates.toml");
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error(), HasSubstr("/nonexistent/base_rates.toml: cannot read the file"));
    const auto directory = load_base_rates(DUNNING_SOURCE_DIR);
    ASSERT_FALSE(directory);
    EXPECT_THAT(directory.error(), HasSubstr("cannot read the file"));
}

} // namespace
} // namespace dunning::config
