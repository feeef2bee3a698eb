// When a card's "your card expires soon" reminder is due, and which expiry months the store
// looks at for it. Times are written as ISO UTC so a failure reads like the table.
#include "core/card_expiry.hpp"

#include <cctype>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>

namespace dunning {
namespace {

using namespace std::chrono;

// "2027-03-31T23:59:59" → Timestamp.
Timestamp at(const char* iso) {
    int y = 0;
    unsigned mo = 0, d = 0;
    int h = 0, mi = 0, s = 0;
    std::sscanf(iso, "%d-%u-%uT%d:%d:%d", &y, &mo, &d, &h, &mi, &s);
    return Timestamp{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi} + seconds{s};
}

std::string iso(Timestamp t) {
    const auto day_start = floor<days>(t);
    const year_month_day ymd{day_start};
    const hh_mm_ss hms{t - day_start};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return out;
}

std::string name_of(const char* text) {
    std::string name = text;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

// ---- end of validity and the first due moment --------------------------------------------

struct Validity {
    const char* name;
    CardExpiry card;
    const char* ends;          // first moment the card no longer works
    const char* reminder_from; // with the default lead
};

class CardValidity : public testing::TestWithParam<Validity> {};

TEST_P(CardValidity, EndsAfterTheLastDayOfItsMonth) {
    const auto& row = GetParam();
    const auto end = end_of_validity(row.card);
    const auto from = card_reminder_from(row.card);
    ASSERT_TRUE(end && from);
    EXPECT_EQ(iso(*end), row.ends);
    EXPECT_EQ(iso(*from), row.reminder_from);
}

INSTANTIATE_TEST_SUITE_P(
    MonthEnds, CardValidity,
    testing::Values(
        Validity{"january", {1, 2027}, "2027-02-01T00:00:00", "2027-01-01T00:00:00"},
        Validity{"march_31_days", {3, 2027}, "2027-04-01T00:00:00", "2027-03-01T00:00:00"},
        Validity{"april_30_days", {4, 2027}, "2027-05-01T00:00:00", "2027-03-31T00:00:00"},
        Validity{
            "december_ends_in_january", {12, 2027}, "2028-01-01T00:00:00", "2027-12-01T00:00:00"},
        Validity{"february_common_year", {2, 2027}, "2027-03-01T00:00:00", "2027-01-29T00:00:00"},
        Validity{"february_leap_year", {2, 2028}, "2028-03-01T00:00:00", "2028-01-30T00:00:00"},
        Validity{"february_2100_is_no_leap_year",
                 {2, 2100},
                 "2100-03-01T00:00:00",
                 "2100-01-29T00:00:00"},
        Validity{"february_2000_was_a_leap_year",
                 {2, 2000},
                 "2000-03-01T00:00:00",
                 "2000-01-30T00:00:00"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CardValidity, NoMonthNoEnd) {
    for (const CardExpiry card : {CardExpiry{0, 2027}, CardExpiry{13, 2027}, CardExpiry{-1, 2027},
                                  CardExpiry{3, 0}, CardExpiry{3, -2027}, CardExpiry{3, 10000}}) {
        EXPECT_EQ(end_of_validity(card), std::nullopt) << card.month << "/" << card.year;
        EXPECT_EQ(card_reminder_from(card), std::nullopt) << card.month << "/" << card.year;
        EXPECT_FALSE(card_reminder_due(card, "m@example.org", at("2027-03-15T00:00:00")));
    }
}

// ---- is the reminder due now -------------------------------------------------------------

struct Due {
    const char* name;
    CardExpiry card;
    const char* now;
    bool due;
    days lead = default_card_reminder_lead;
    const char* email = "member@example.org";
};

class CardReminderDue : public testing::TestWithParam<Due> {};

TEST_P(CardReminderDue, AsTheRuleSays) {
    const auto& row = GetParam();
    EXPECT_EQ(card_reminder_due(row.card, row.email, at(row.now), row.lead), row.due)
        << row.card.month << "/" << row.card.year << " at " << row.now;
}

INSTANTIATE_TEST_SUITE_P(
    Window, CardReminderDue,
    testing::Values(
        Due{"a_second_before_the_30_days", {3, 2027}, "2027-02-28T23:59:59", false},
        Due{"from_00_00_UTC_30_days_before_the_last_day", {3, 2027}, "2027-03-01T00:00:00", true},
        Due{"during_the_30_days", {3, 2027}, "2027-03-15T12:00:00", true},
        Due{"until_the_last_day_ends", {3, 2027}, "2027-03-31T23:59:59", true},
        Due{"not_once_the_card_stopped_working", {3, 2027}, "2027-04-01T00:00:00", false},
        Due{"far_from_expiry", {3, 2027}, "2027-01-15T08:00:00", false},
        Due{"long_expired", {1, 2027}, "2027-06-01T00:00:00", false},
        Due{"expired_years_ago", {3, 2020}, "2027-03-15T00:00:00", false},
        Due{"thirty_day_month_starts_the_day_before", {4, 2027}, "2027-03-30T23:59:59", false},
        Due{"thirty_day_month_from_march_31", {4, 2027}, "2027-03-31T00:00:00", true},
        Due{"thirty_day_month_last_second", {4, 2027}, "2027-04-30T23:59:59", true},
        Due{"december_card_on_new_years_eve", {12, 2027}, "2027-12-31T23:59:59", true},
        Due{"december_card_on_new_years_day", {12, 2027}, "2028-01-01T00:00:00", false},
        Due{"december_card_before_december", {12, 2027}, "2027-11-30T23:59:59", false},
        Due{"january_card_not_yet_on_new_years_eve", {1, 2028}, "2027-12-31T23:59:59", false},
        Due{"january_card_from_new_years_day", {1, 2028}, "2028-01-01T00:00:00", true},
        Due{"leap_february_from_january_30", {2, 2028}, "2028-01-30T00:00:00", true},
        Due{"leap_february_not_on_january_29", {2, 2028}, "2028-01-29T23:59:59", false},
        Due{"leap_february_on_the_29th", {2, 2028}, "2028-02-29T23:59:59", true},
        Due{"leap_february_over_on_march_1", {2, 2028}, "2028-03-01T00:00:00", false},
        Due{"common_february_from_january_29", {2, 2027}, "2027-01-29T00:00:00", true},
        Due{"common_february_not_on_january_28", {2, 2027}, "2027-01-28T23:59:59", false},
        Due{"common_february_over_on_march_1", {2, 2027}, "2027-03-01T00:00:00", false},
        Due{"no_known_email",
            {3, 2027},
            "2027-03-15T12:00:00",
            false,
            default_card_reminder_lead,
            ""}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Lead, CardReminderDue,
    testing::Values(
        Due{"no_lead_only_the_last_day", {3, 2027}, "2027-03-31T00:00:00", true, days{0}},
        Due{"no_lead_not_the_day_before", {3, 2027}, "2027-03-30T23:59:59", false, days{0}},
        Due{"one_day_lead", {3, 2027}, "2027-03-30T00:00:00", true, days{1}},
        Due{"one_day_lead_not_earlier", {3, 2027}, "2027-03-29T23:59:59", false, days{1}},
        Due{"sixty_days_lead", {3, 2027}, "2027-01-30T00:00:00", true, days{60}},
        Due{"sixty_days_lead_not_earlier", {3, 2027}, "2027-01-29T23:59:59", false, days{60}},
        Due{"sixty_days_lead_still_ends_with_the_card",
            {3, 2027},
            "2027-04-01T00:00:00",
            false,
            days{60}},
        Due{"lead_across_the_year", {1, 2028}, "2027-12-02T00:00:00", true, days{60}},
        Due{"lead_across_the_year_not_earlier", {1, 2028}, "2027-12-01T23:59:59", false, days{60}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CardReminderDue, ThirtyDaysIsTheDefaultLead) {
    EXPECT_EQ(default_card_reminder_lead, days{30});
    EXPECT_EQ(card_reminder_from({3, 2027}), card_reminder_from({3, 2027}, days{30}));
}

// ---- the expiry months the store looks at ------------------------------------------------

struct Window {
    const char* now;
    CardExpiry from, to;
    days lead = default_card_reminder_lead;
};

class CardReminderWindow : public testing::TestWithParam<Window> {};

TEST_P(CardReminderWindow, FromThisMonthToTheLastMonthWhoseReminderHasBegun) {
    const auto& row = GetParam();
    EXPECT_EQ(card_reminder_window(at(row.now), row.lead), (CardExpiryWindow{row.from, row.to}))
        << row.now << " lead " << row.lead.count();
}

INSTANTIATE_TEST_SUITE_P(
    Edges, CardReminderWindow,
    testing::Values(Window{"2027-01-15T08:00:00", {1, 2027}, {1, 2027}},
                    Window{"2027-03-01T00:00:00", {3, 2027}, {3, 2027}},
                    Window{"2027-03-30T23:59:59", {3, 2027}, {3, 2027}},
                    Window{"2027-03-31T00:00:00", {3, 2027}, {4, 2027}},
                    Window{"2027-03-31T23:59:59", {3, 2027}, {4, 2027}},
                    Window{"2027-04-01T00:00:00", {4, 2027}, {4, 2027}},
                    Window{"2027-12-31T23:59:59", {12, 2027}, {12, 2027}},
                    Window{"2028-01-01T00:00:00", {1, 2028}, {1, 2028}},
                    Window{"2027-12-01T23:59:59", {12, 2027}, {12, 2027}, days{60}},
                    Window{"2027-12-02T00:00:00", {12, 2027}, {1, 2028}, days{60}},
                    Window{"2028-01-29T23:59:59", {1, 2028}, {1, 2028}},
                    Window{"2028-01-30T00:00:00", {1, 2028}, {2, 2028}},
                    Window{"2027-01-28T23:59:59", {1, 2027}, {1, 2027}},
                    Window{"2027-01-29T00:00:00", {1, 2027}, {2, 2027}},
                    Window{"2027-03-15T00:00:00", {3, 2027}, {2, 2027}, days{0}},
                    Window{"2027-03-31T00:00:00", {3, 2027}, {3, 2027}, days{0}},
                    Window{"2027-03-15T00:00:00", {3, 2027}, {4, 2027}, days{60}}),
    [](const auto& info) {
        return "at_" + name_of(info.param.now) + "_lead_" + std::to_string(info.param.lead.count());
    });

// Over two years, every 7 hours, for several leads: a card's expiry month is inside the window
// exactly when its reminder is due (the store misses none and reads no card it cannot use).
TEST(CardReminderWindow, HoldsExactlyTheDueCards) {
    const auto first = at("2027-01-01T00:00:00");
    const auto last = at("2029-01-01T00:00:00");
    const auto key = [](CardExpiry c) { return c.year * 12 + c.month; };
    int due_seen = 0;
    for (const days lead : {days{0}, days{1}, days{27}, days{30}, days{31}, days{60}, days{95}}) {
        for (auto now = first; now < last; now += hours{7}) {
            const auto w = card_reminder_window(now, lead);
            const year_month_day today{floor<days>(now)};
            for (int k = -2; k <= 5; ++k) {
                const auto ym = year_month{today.year(), today.month()} + months{k};
                const CardExpiry card{static_cast<int>(static_cast<unsigned>(ym.month())),
                                      static_cast<int>(ym.year())};
                const bool due = card_reminder_due(card, "m@example.org", now, lead);
                const bool in_window = key(w.from) <= key(card) && key(card) <= key(w.to);
                EXPECT_EQ(in_window, due) << card.month << "/" << card.year << " at " << iso(now)
                                          << " lead " << lead.count();
                due_seen += due;
            }
        }
    }
    EXPECT_GT(due_seen, 1000);
}

} // namespace
} // namespace dunning
