// Limitation dates (§§ 195, 199 BGB) and the warnings before them.
#include "core/limitation.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono;

namespace {

Date ymd(int y, unsigned m, unsigned d) {
    return Date{year{y}, month{m}, day{d}};
}

Timestamp at(Date d, hours h = hours{0}) {
    return Timestamp{sys_days(d)} + h;
}

} // namespace

TEST(Limitation, EndOfTheYearItArosePlusThreeYears) {
    struct Row {
        Date arose;
        Date expected;
    };
    const Row rows[] = {
        {ymd(2027, 1, 1), ymd(2030, 12, 31)},
        {ymd(2027, 1, 15), ymd(2030, 12, 31)},
        {ymd(2027, 12, 30), ymd(2030, 12, 31)},
        {ymd(2027, 12, 31), ymd(2030, 12, 31)}, // the last day of a year still counts in it
        {ymd(2028, 1, 1), ymd(2031, 12, 31)},   // one day later: a year more
        {ymd(2028, 2, 29), ymd(2031, 12, 31)},  // leap day
        {ymd(2099, 12, 31), ymd(2102, 12, 31)},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(iso_date(r.arose));
        EXPECT_EQ(limitation_date(r.arose), r.expected);
    }
}

TEST(Limitation, TheClaimAriseOnItsDueDateElseItsFirstFailure) {
    CaseState s;
    EXPECT_FALSE(claim_arose_on(s));
    s.opened_at = at(ymd(2027, 12, 31), hours{23}) + minutes{59}; // 23:59 UTC on 31 December
    EXPECT_EQ(claim_arose_on(s), ymd(2027, 12, 31));
    EXPECT_EQ(limitation_date(*claim_arose_on(s)), ymd(2030, 12, 31));
    s.invoice.due_date = at(ymd(2028, 1, 1));
    EXPECT_EQ(claim_arose_on(s), ymd(2028, 1, 1));
    EXPECT_EQ(limitation_date(*claim_arose_on(s)), ymd(2031, 12, 31));
}

TEST(Limitation, AChargedBackPaymentAriseWhenTheDisputeWasLost) {
    CaseState s;
    s.dispute = DisputeRecord{};
    s.dispute->lost_at = at(ymd(2027, 6, 1), hours{12});
    EXPECT_EQ(claim_arose_on(s), ymd(2027, 6, 1));
}

TEST(Limitation, IsoDate) {
    EXPECT_EQ(iso_date(ymd(2030, 12, 31)), "2030-12-31");
    EXPECT_EQ(iso_date(ymd(987, 1, 2)), "0987-01-02");
}

TEST(Limitation, WarnsNinetyThenThirtyDaysBeforeEachOnce) {
    const Date limit = ymd(2030, 12, 31);
    const Timestamp warn90 = at(ymd(2030, 10, 2)); // 31 Dec − 90 days
    const Timestamp warn30 = at(ymd(2030, 12, 1)); // 31 Dec − 30 days

    auto s = limitation_step(limit, 0, at(ymd(2027, 6, 1)));
    EXPECT_EQ(s.warn_days_before, 0);
    EXPECT_EQ(s.wake, warn90);

    s = limitation_step(limit, 0, warn90 - seconds{1});
    EXPECT_EQ(s.warn_days_before, 0);
    EXPECT_EQ(s.wake, warn90);

    s = limitation_step(limit, 0, warn90);
    EXPECT_EQ(s.warn_days_before, 90);
    EXPECT_EQ(s.wake, warn30);

    s = limitation_step(limit, 90, warn90 + hours{1}); // sent: nothing again
    EXPECT_EQ(s.warn_days_before, 0);
    EXPECT_EQ(s.wake, warn30);

    s = limitation_step(limit, 90, warn30);
    EXPECT_EQ(s.warn_days_before, 30);
    EXPECT_FALSE(s.wake);

    s = limitation_step(limit, 30, warn30 + days{10});
    EXPECT_EQ(s.warn_days_before, 0);
    EXPECT_FALSE(s.wake);
}

TEST(Limitation, AClaimSeenLateGetsOnlyTheMostUrgentWarning) {
    const Date limit = ymd(2030, 12, 31);
    auto s = limitation_step(limit, 0, at(ymd(2030, 12, 20)));
    EXPECT_EQ(s.warn_days_before, 30);
    EXPECT_FALSE(s.wake);
    s = limitation_step(limit, 30, at(ymd(2030, 12, 21)));
    EXPECT_EQ(s.warn_days_before, 0);
}

TEST(Limitation, NoWarningOnceTheClaimIsTimeBarred) {
    const Date limit = ymd(2030, 12, 31);
    EXPECT_EQ(limitation_step(limit, 0, at(limit, hours{23})).warn_days_before, 30);
    const auto s = limitation_step(limit, 0, at(ymd(2031, 1, 1)));
    EXPECT_EQ(s.warn_days_before, 0);
    EXPECT_FALSE(s.wake);
}
