// Retry slots missed while the module could not charge (downtime, a pause, old events
// replayed): at most one catch-up, then the schedule's own spacing from there.
#include "core/calendar.hpp"
#include "core/retry_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace dunning {
namespace {

using namespace std::chrono;

const Timestamp t0 = sys_days{2027y / March / 1} + hours{9}; // Monday

std::string at(std::optional<Timestamp> t) {
    return t ? iso8601(*t) : "none";
}

RetryHistory made(int count, std::vector<Timestamp> times) {
    RetryHistory h{count, std::nullopt, times};
    if (!times.empty()) h.last_retry = *std::max_element(times.begin(), times.end());
    return h;
}

// Plays the schedule with the module unable to charge in [down_from, down_to): each retry is
// made at its planned time, or at down_to when that falls in the outage.
std::vector<Timestamp> play(const RetryPolicy& policy, CardNetwork network, Timestamp down_from,
                            Timestamp down_to) {
    std::vector<Timestamp> made_at;
    Timestamp now = t0;
    while (auto next = next_card_retry(policy, t0, made(static_cast<int>(made_at.size()), made_at),
                                       network, now)) {
        now = *next;
        if (now >= down_from && now < down_to) {
            now = down_to;
            continue; // asked again when the module is back
        }
        made_at.push_back(now);
    }
    return made_at;
}

TEST(CardCatchUp, MissedSlotsCollapseIntoOneRetryAndTheRestKeepTheirGaps) {
    const RetryPolicy policy; // days 1, 3, 5, 7, 10, 14
    const Timestamp back = t0 + days{14};
    const auto done = play(policy, CardNetwork::visa, t0 + days{2}, back);
    const std::vector<std::string> expected = {
        "2027-03-02T09:00:00Z",                          // day 1, before the outage
        "2027-03-15T09:00:00Z",                          // the one catch-up, for days 3 … 14
        "2027-03-17T09:00:00Z", "2027-03-19T09:00:00Z",  // + 2, + 2
        "2027-03-22T09:00:00Z", "2027-03-26T09:00:00Z"}; // + 3, + 4
    std::vector<std::string> got;
    for (auto t : done)
        got.push_back(iso8601(t));
    EXPECT_EQ(got, expected);
}

TEST(CardCatchUp, TheCatchUpIsNowAndTheNextOneIsAFullGapLater) {
    const RetryPolicy policy;
    const Timestamp day1 = t0 + days{1};
    const Timestamp now = t0 + days{14} + minutes{7};
    EXPECT_EQ(at(next_card_retry(policy, t0, made(1, {day1}), CardNetwork::other, now)),
              iso8601(now));
    EXPECT_EQ(at(next_card_retry(policy, t0, made(2, {day1, now}), CardNetwork::other, now)),
              iso8601(now + days{2}));
}

TEST(CardCatchUp, AnOnTimeScheduleIsUnchanged) {
    const RetryPolicy policy;
    const auto done = play(policy, CardNetwork::visa, t0, t0); // no outage
    ASSERT_EQ(done.size(), policy.card_schedule.size());
    for (std::size_t i = 0; i < done.size(); ++i)
        EXPECT_EQ(done[i], t0 + policy.card_schedule[i]) << i;
}

TEST(CardCatchUp, OutagesOfAnyLengthNeverBringRetriesCloser) {
    const RetryPolicy policy;
    const auto& s = policy.card_schedule;
    for (auto from = t0; from < t0 + days{15}; from += hours{5}) {
        for (auto length = hours{1}; length < days{30}; length += hours{11}) {
            const auto done = play(policy, CardNetwork::mastercard, from, from + length);
            ASSERT_EQ(done.size(), s.size());
            for (std::size_t i = 1; i < done.size(); ++i)
                EXPECT_GE(done[i] - done[i - 1], s[i] - s[i - 1])
                    << iso8601(from) << " + " << length.count() << "h, retry " << i + 1;
        }
    }
}

TEST(CardCatchUp, TheNetworkCapsStillHold) {
    RetryPolicy policy;
    policy.card_schedule.clear();
    for (int h = 1; h <= 12; ++h)
        policy.card_schedule.push_back(hours{h});
    std::vector<Timestamp> ten;
    for (int h = 1; h <= 10; ++h)
        ten.push_back(t0 + hours{h});
    // Slot 11 was at hour 11; the module is back at hour 20: Mastercard's 24-hour window
    // still holds ten retries until hour 25.
    EXPECT_EQ(
        at(next_card_retry(policy, t0, made(10, ten), CardNetwork::mastercard, t0 + hours{20})),
        iso8601(t0 + hours{25}));
    EXPECT_EQ(at(next_card_retry(policy, t0, made(10, ten), CardNetwork::visa, t0 + hours{20})),
              iso8601(t0 + hours{20}));
}

TEST(SepaCatchUp, AMissedSlotGoesOutAtOnceOnABusinessDayAfterTheHour) {
    const RetryPolicy policy;                                      // 06:00 UTC
    const Timestamp failure = t0;                                  // next slot: Thu 4 March 06:00
    const Timestamp now = sys_days{2027y / March / 10} + hours{8}; // Wednesday
    EXPECT_EQ(at(next_sepa_retry(policy, 0, failure, now)), iso8601(now));
}

TEST(SepaCatchUp, AMissedSlotWaitsForTheNextSubmissionHourOtherwise) {
    const RetryPolicy policy;
    const Timestamp failure = t0;
    const struct {
        Timestamp now;
        const char* expected;
    } rows[] = {
        {sys_days{2027y / March / 10} + hours{5}, "2027-03-10T06:00:00Z"},  // before the hour
        {sys_days{2027y / March / 13} + hours{10}, "2027-03-15T06:00:00Z"}, // Saturday
        {sys_days{2027y / March / 26} + hours{12},
         "2027-03-30T06:00:00Z"}, // Good Friday, then Easter
    };
    for (const auto& row : rows) {
        const auto next = next_sepa_retry(policy, 0, failure, row.now);
        ASSERT_TRUE(next);
        EXPECT_TRUE(is_target2_business_day(Date{floor<days>(*next)})) << iso8601(*next);
        EXPECT_EQ(iso8601(*next), row.expected) << iso8601(row.now);
    }
}

TEST(SepaCatchUp, APlannedSlotIsKeptAndAskingAgainAtItChargesThen) {
    const RetryPolicy policy;
    const auto planned = next_sepa_retry(policy, 0, t0, t0);
    ASSERT_TRUE(planned);
    EXPECT_EQ(next_sepa_retry(policy, 0, t0, *planned - hours{1}), planned);
    EXPECT_EQ(next_sepa_retry(policy, 0, t0, *planned), planned);
    EXPECT_EQ(next_sepa_retry(policy, 0, t0, *planned + seconds{30}), *planned + seconds{30})
        << "a tick a moment late does not postpone it to the next day";
}

} // namespace
} // namespace dunning
