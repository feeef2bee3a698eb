#include "core/interest.hpp"

#include <gtest/gtest.h>

namespace dunning {
namespace {

using namespace std::chrono;

// The Bundesbank values around the cases below (config/base_rates.toml holds the full table).
const std::vector<BaseRate> rates = {
    {2015y / January / 1, -0.83}, {2016y / January / 1, -0.83}, // unchanged announcement
    {2016y / July / 1, -0.88},    {2023y / January / 1, 1.62},  {2023y / July / 1, 3.12},
    {2024y / January / 1, 3.62},  {2024y / July / 1, 3.37},     {2025y / January / 1, 2.27},
    {2025y / July / 1, 1.27},
};

TEST(DefaultInterest, SimpleCaseWithinOneHalfYear) {
    // 100,00 € from 10 to 31 January 2024 (22 days), consumer: 3.62 + 5 = 8.62 %.
    // 10000 * 8.62/100 * 22/365 = 51.956… → 52 cents.
    const auto result =
        default_interest(10000, 2024y / January / 10, 2024y / January / 31, rates, false);
    ASSERT_EQ(result.periods.size(), 1u);
    EXPECT_EQ(result.periods[0].days, 22);
    EXPECT_DOUBLE_EQ(result.periods[0].rate_percent, 8.62);
    EXPECT_EQ(result.periods[0].interest_minor, 52);
    EXPECT_EQ(result.total_minor, 52);
}

TEST(DefaultInterest, SplitsAtTheFirstOfJuly) {
    // 49,00 € from 16 June to 15 July 2025, consumer.
    // 16–30 June: 15 days at 2.27 + 5 = 7.27 %: 4900 * 0.0727 * 15/365 = 14.640 → 15
    // 1–15 July:  15 days at 1.27 + 5 = 6.27 %: 4900 * 0.0627 * 15/365 = 12.626 → 13
    // total 28 cents.
    const auto result = default_interest(4900, 2025y / June / 16, 2025y / July / 15, rates, false);
    ASSERT_EQ(result.periods.size(), 2u);
    EXPECT_EQ(result.periods[0].from, 2025y / June / 16);
    EXPECT_EQ(result.periods[0].to, 2025y / June / 30);
    EXPECT_EQ(result.periods[0].days, 15);
    EXPECT_DOUBLE_EQ(result.periods[0].rate_percent, 7.27);
    EXPECT_EQ(result.periods[0].interest_minor, 15);
    EXPECT_EQ(result.periods[1].from, 2025y / July / 1);
    EXPECT_EQ(result.periods[1].to, 2025y / July / 15);
    EXPECT_EQ(result.periods[1].days, 15);
    EXPECT_DOUBLE_EQ(result.periods[1].rate_percent, 6.27);
    EXPECT_EQ(result.periods[1].interest_minor, 13);
    EXPECT_EQ(result.total_minor, 28);
}

TEST(DefaultInterest, BusinessDebtorPaysNinePoints) {
    // Same span, business: 11.27 %: 4900 * 0.1127 * 15/365 = 22.694 → 23
    //                      10.27 %: 4900 * 0.1027 * 15/365 = 20.681 → 21; total 44.
    const auto result = default_interest(4900, 2025y / June / 16, 2025y / July / 15, rates, true);
    ASSERT_EQ(result.periods.size(), 2u);
    EXPECT_DOUBLE_EQ(result.periods[0].rate_percent, 11.27);
    EXPECT_EQ(result.periods[0].interest_minor, 23);
    EXPECT_DOUBLE_EQ(result.periods[1].rate_percent, 10.27);
    EXPECT_EQ(result.periods[1].interest_minor, 21);
    EXPECT_EQ(result.total_minor, 44);
}

TEST(DefaultInterest, NegativeBaseRatePeriod) {
    // 1.000,00 € for the second half of 2016 (184 days), consumer: -0.88 + 5 = 4.12 %.
    // 100000 * 0.0412 * 184/365 = 2076.93 → 2077.
    const auto result =
        default_interest(100000, 2016y / July / 1, 2016y / December / 31, rates, false);
    ASSERT_EQ(result.periods.size(), 1u);
    EXPECT_EQ(result.periods[0].days, 184);
    EXPECT_DOUBLE_EQ(result.periods[0].rate_percent, 4.12);
    EXPECT_EQ(result.total_minor, 2077);
}

TEST(DefaultInterest, UnchangedAnnouncementDoesNotSplit) {
    // 1 Dec 2015 – 31 Jan 2016 (62 days) at -0.83 + 5 = 4.17 % throughout:
    // 100000 * 0.0417 * 62/365 = 708.33 → 708.
    const auto result =
        default_interest(100000, 2015y / December / 1, 2016y / January / 31, rates, false);
    ASSERT_EQ(result.periods.size(), 1u);
    EXPECT_EQ(result.periods[0].days, 62);
    EXPECT_EQ(result.total_minor, 708);
}

TEST(DefaultInterest, ManyPeriodsAcrossTheRateRise) {
    // 15 Dec 2022 – 15 Jan 2024, 100,00 €, consumer:
    //  15–31 Dec 2022:  17 days at 4.12 %: 10000 * 0.0412 * 17/365  =  19.19 →  19
    //  H1 2023:        181 days at 6.62 %: 10000 * 0.0662 * 181/365 = 328.28 → 328
    //  H2 2023:        184 days at 8.12 %: 10000 * 0.0812 * 184/365 = 409.34 → 409
    //  1–15 Jan 2024:   15 days at 8.62 %: 10000 * 0.0862 * 15/365  =  35.42 →  35
    const auto result =
        default_interest(10000, 2022y / December / 15, 2024y / January / 15, rates, false);
    ASSERT_EQ(result.periods.size(), 4u);
    EXPECT_EQ(result.periods[0].interest_minor, 19);
    EXPECT_EQ(result.periods[1].days, 181);
    EXPECT_EQ(result.periods[1].interest_minor, 328);
    EXPECT_EQ(result.periods[2].days, 184);
    EXPECT_EQ(result.periods[2].interest_minor, 409);
    EXPECT_EQ(result.periods[3].interest_minor, 35);
    EXPECT_EQ(result.total_minor, 19 + 328 + 409 + 35);
}

TEST(DefaultInterest, RoundsHalfUp) {
    // At 0.00 + 5 % for 365 days: 10 cents → 0.5 → 1; 50 cents → 2.5 → 3; 30 cents → 1.5 → 2.
    const std::vector<BaseRate> zero = {{2020y / January / 1, 0.0}};
    EXPECT_EQ(
        default_interest(10, 2021y / January / 1, 2021y / December / 31, zero, false).total_minor,
        1);
    EXPECT_EQ(
        default_interest(50, 2021y / January / 1, 2021y / December / 31, zero, false).total_minor,
        3);
    EXPECT_EQ(
        default_interest(30, 2021y / January / 1, 2021y / December / 31, zero, false).total_minor,
        2);
    // 9 cents → 0.45 → 0.
    EXPECT_EQ(
        default_interest(9, 2021y / January / 1, 2021y / December / 31, zero, false).total_minor,
        0);
}

TEST(DefaultInterest, LeapYearCountsActualDaysOver365) {
    // 2024 has 366 days; 365,00 € at 5 %: 36500 * 0.05 * 366/365 = 1830 (not 1825).
    const std::vector<BaseRate> zero = {{2020y / January / 1, 0.0}};
    const auto result =
        default_interest(36500, 2024y / January / 1, 2024y / December / 31, zero, false);
    EXPECT_EQ(result.periods[0].days, 366);
    EXPECT_EQ(result.total_minor, 1830);
}

TEST(DefaultInterest, SingleDayAndTheLastRateStaysInForce) {
    // One day in 2030, beyond the last entry (1.27): 100000 * 0.0627 / 365 = 17.18 → 17.
    const auto result =
        default_interest(100000, 2030y / March / 3, 2030y / March / 3, rates, false);
    ASSERT_EQ(result.periods.size(), 1u);
    EXPECT_EQ(result.periods[0].days, 1);
    EXPECT_EQ(result.total_minor, 17);
}

TEST(DefaultInterest, LargePrincipalDoesNotOverflow) {
    // 50 billion euros for 3650 days at 10.27 %: exactly 5e12 * 0.1027 * 10 = 5.135e12 cents.
    const std::vector<BaseRate> flat = {{2020y / January / 1, 1.27}};
    const Date from = 2030y / January / 1;
    const Date to = Date{sys_days{from} + days{3649}};
    const auto result = default_interest(5'000'000'000'000, from, to, flat, true);
    EXPECT_EQ(result.total_minor, 5'135'000'000'000);
}

TEST(DefaultInterest, EmptyForReversedRangeEarlyStartOrNothingOwed) {
    EXPECT_TRUE(
        default_interest(4900, 2025y / July / 2, 2025y / July / 1, rates, false).periods.empty());
    EXPECT_EQ(default_interest(4900, 2025y / July / 2, 2025y / July / 1, rates, false).total_minor,
              0);
    EXPECT_TRUE(
        default_interest(4900, 2014y / June / 1, 2015y / June / 1, rates, false).periods.empty());
    EXPECT_TRUE(
        default_interest(4900, 2025y / July / 1, 2025y / July / 2, {}, false).periods.empty());
    EXPECT_TRUE(
        default_interest(0, 2025y / July / 1, 2025y / July / 2, rates, false).periods.empty());
    EXPECT_TRUE(
        default_interest(-5, 2025y / July / 1, 2025y / July / 2, rates, false).periods.empty());
    EXPECT_TRUE(default_interest(4900, 2025y / February / 30, 2025y / July / 2, rates, false)
                    .periods.empty());
}

TEST(DefaultInterest, B2bFlatFeeIsFortyEuros) {
    EXPECT_EQ(b2b_flat_fee_eur_minor, 4000);
}

} // namespace
} // namespace dunning
