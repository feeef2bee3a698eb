#include "core/calendar.hpp"

#include <cstdio>
#include <gtest/gtest.h>
#include <string>

namespace dunning {
namespace {

using namespace std::chrono;

// "2027-03-16" → Date; tests are written in ISO dates so a failure reads like the table.
Date date(const char* iso) {
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    std::sscanf(iso, "%d-%u-%u", &y, &m, &d);
    return year{y} / month{m} / day{d};
}

std::string iso(Date d) {
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return out;
}

std::string test_name(const char* iso_date) {
    std::string name = iso_date;
    for (char& c : name)
        if (c == '-') c = '_';
    return "d" + name;
}

// --- Easter ------------------------------------------------------------------------------

class EasterSunday : public testing::TestWithParam<const char*> {};

TEST_P(EasterSunday, MatchesThePublishedDate) {
    const Date expected = date(GetParam());
    EXPECT_EQ(iso(easter_sunday(expected.year())), GetParam());
}

// 2285-03-22 and 2038-04-25 are the earliest and latest dates Easter can fall on.
INSTANTIATE_TEST_SUITE_P(Years, EasterSunday,
                         testing::Values("2000-04-23", "2019-04-21", "2024-03-31", "2025-04-20",
                                         "2026-04-05", "2027-03-28", "2038-04-25", "2285-03-22"),
                         [](const auto& info) { return test_name(info.param); });

// --- Business days -----------------------------------------------------------------------

struct DayRow {
    const char* day;
    bool business;
    const char* why;
};

class Target2BusinessDay : public testing::TestWithParam<DayRow> {};

TEST_P(Target2BusinessDay, FollowsTheT2ClosingCalendar) {
    EXPECT_EQ(is_target2_business_day(date(GetParam().day)), GetParam().business) << GetParam().why;
}

constexpr DayRow day_rows[] = {
    {"2027-01-01", false, "New Year's Day"},
    {"2027-03-26", false, "Good Friday 2027"},
    {"2027-03-29", false, "Easter Monday 2027"},
    {"2026-04-03", false, "Good Friday 2026"},
    {"2026-04-06", false, "Easter Monday 2026"},
    {"2026-05-01", false, "Labour Day"},
    {"2025-12-25", false, "Christmas Day"},
    {"2025-12-26", false, "26 December"},
    {"2027-03-13", false, "Saturday"},
    {"2027-03-14", false, "Sunday"},
    {"2027-03-25", true, "Maundy Thursday is open"},
    {"2027-03-30", true, "Tuesday after Easter"},
    {"2026-12-24", true, "Christmas Eve is open"},
    {"2026-12-31", true, "New Year's Eve is open"},
    {"2027-05-06", true, "Ascension Day is a national holiday, not a T2 one"},
    {"2025-10-03", true, "German Unity Day is not a T2 holiday"},
    {"2027-03-10", true, "ordinary Wednesday"},
};

INSTANTIATE_TEST_SUITE_P(Days, Target2BusinessDay, testing::ValuesIn(day_rows),
                         [](const auto& info) { return test_name(info.param.day); });

struct FromToRow {
    const char* from;
    const char* to;
};

TEST(NextTarget2BusinessDay, IsTheDayItselfOrTheNextOpenOne) {
    constexpr FromToRow rows[] = {
        {"2027-03-10", "2027-03-10"}, // already a business day
        {"2027-03-13", "2027-03-15"}, // Saturday → Monday
        {"2027-03-26", "2027-03-30"}, // Good Friday, weekend, Easter Monday
        {"2025-12-25", "2025-12-29"}, // 25, 26 December, weekend
        {"2027-01-01", "2027-01-04"}, // New Year's Day on a Friday
        {"2026-05-01", "2026-05-04"}, // Labour Day on a Friday
    };
    for (const auto& row : rows)
        EXPECT_EQ(iso(next_target2_business_day(date(row.from))), row.to);
}

TEST(LastTarget2BusinessDay, SkipsWeekendsAndHolidaysAtMonthEnd) {
    constexpr FromToRow rows[] = {
        {"2024-03-01", "2024-03-28"}, // 29 Good Friday, 30–31 weekend
        {"2026-01-01", "2026-01-30"}, // 31 is a Saturday
        {"2025-05-01", "2025-05-30"}, // 31 is a Saturday
        {"2026-02-01", "2026-02-27"}, // 28 is a Saturday
        {"2027-04-01", "2027-04-30"}, // an ordinary Friday
        {"2027-12-01", "2027-12-31"}, // 31 December is open
    };
    for (const auto& row : rows) {
        const Date d = date(row.from);
        EXPECT_EQ(iso(last_target2_business_day(d.year() / d.month())), row.to);
    }
}

// --- SEPA retry day ----------------------------------------------------------------------

struct RetryDayRow {
    const char* earliest;
    int max_wait_days;
    const char* expected;
    const char* why;
};

class SepaRetryDay : public testing::TestWithParam<RetryDayRow> {};

TEST_P(SepaRetryDay, PrefersTheBusinessDayAfterAPayday) {
    const RetryDayRow& row = GetParam();
    EXPECT_EQ(iso(sepa_retry_day(date(row.earliest), days{row.max_wait_days})), row.expected)
        << row.why;
}

constexpr RetryDayRow retry_day_rows[] = {
    {"2027-03-10", 10, "2027-03-16", "payday Mon 15 March → Tue 16"},
    {"2027-03-16", 10, "2027-03-16", "earliest is itself the day after a payday"},
    {"2027-03-29", 10, "2027-04-01", "Easter Monday; last business day Wed 31 → Thu 1 April"},
    {"2027-03-17", 10, "2027-03-17", "preferred 1 April is 15 days away: next business day"},
    {"2027-03-17", 15, "2027-04-01", "… unless max_wait allows 15 days"},
    {"2026-05-29", 10, "2026-06-01", "a payday itself is not a retry day: Fri 29 → Mon 1 June"},
    {"2027-04-30", 10, "2027-05-03", "1 May (holiday) falls on a Saturday anyway"},
    {"2026-02-20", 10, "2026-03-02", "last business day Fri 27 Feb → Mon 2 March"},
    {"2025-12-24", 10, "2026-01-02", "payday Wed 31 Dec; 1 January closed → Fri 2 January"},
    {"2027-12-24", 10, "2028-01-03", "payday Fri 31 Dec → Mon 3 January, exactly max_wait"},
    {"2026-12-24", 10, "2026-12-24", "preferred Mon 4 January is 11 days away: fallback"},
    {"2026-12-24", 11, "2027-01-04", "… taken when max_wait allows 11 days"},
    {"2025-12-25", 0, "2025-12-29", "no wait allowed: next business day after 25/26 Dec"},
    {"2026-01-01", 10, "2026-01-02", "New Year's Day is both a payday and closed"},
};

INSTANTIATE_TEST_SUITE_P(Examples, SepaRetryDay, testing::ValuesIn(retry_day_rows),
                         [](const auto& info) {
                             return test_name(info.param.earliest) + "_wait" +
                                    std::to_string(info.param.max_wait_days);
                         });

TEST(SepaRetryDay, IsAlwaysABusinessDayOnOrAfterEarliest) {
    for (sys_days d = sys_days{date("2025-01-01")}; d < sys_days{date("2028-12-31")};
         d += days{1}) {
        const Date answer = sepa_retry_day(Date{d}, days{10});
        EXPECT_TRUE(is_target2_business_day(answer)) << iso(Date{d});
        EXPECT_GE(sys_days{answer}, d) << iso(Date{d});
    }
}

} // namespace
} // namespace dunning
