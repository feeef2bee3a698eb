// The end of dunning: write-off below the threshold, else escalation or handover, in the
// invoice's currency whatever its number of decimals.
#include "core/escalation.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dunning;

namespace {

EscalationPolicy below(std::int64_t milli, bool auto_handover = false) {
    return EscalationPolicy{milli, auto_handover};
}

struct Row {
    std::int64_t amount_minor;
    const char* currency;
    std::int64_t threshold_milli;
    DunningOutcome expected;
};

} // namespace

TEST(Escalation, WriteOffOrEscalationPerCurrency) {
    using enum DunningOutcome;
    const Row rows[] = {
        // Two decimals: cents.
        {4999, "eur", 50'000, write_off},
        {5000, "eur", 50'000, escalate}, // exactly at the threshold: not below it
        {5001, "eur", 50'000, escalate},
        {4900, "usd", 50'000, write_off},
        {0, "eur", 50'000, write_off},
        // Zero decimals: 50.00 JPY is fifty yen, not 5000 (and not half a yen).
        {49, "jpy", 50'000, write_off},
        {50, "jpy", 50'000, escalate},
        {4999, "jpy", 50'000, escalate},
        {7999, "jpy", 8'000'000, write_off},
        {8000, "jpy", 8'000'000, escalate},
        {499, "krw", 500'000, write_off},
        // A threshold with decimals in a zero-decimal currency: 50.5 yen.
        {50, "jpy", 50'500, write_off},
        {51, "jpy", 50'500, escalate},
        // Three decimals: fils.
        {49'999, "kwd", 50'000, write_off},
        {50'000, "kwd", 50'000, escalate},
        // Threshold 0: nothing is written off, not even an empty claim.
        {0, "eur", 0, escalate},
        {1, "jpy", 0, escalate},
        // No invoice seen: the amount is unknown, the creator decides.
        {0, "", 50'000, escalate},
        // 12.34 EUR threshold.
        {1233, "eur", 12'340, write_off},
        {1234, "eur", 12'340, escalate},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::to_string(r.amount_minor) + " " + r.currency + " threshold " +
                     std::to_string(r.threshold_milli));
        EXPECT_EQ(dunning_outcome(r.amount_minor, r.currency, below(r.threshold_milli)),
                  r.expected);
        EXPECT_EQ(below_write_off_threshold(r.amount_minor, r.currency, below(r.threshold_milli)),
                  r.expected == write_off);
    }
}

TEST(Escalation, AutoHandoverMarksWhatIsNotWrittenOff) {
    const auto policy = below(50'000, true);
    EXPECT_EQ(dunning_outcome(4999, "eur", policy), DunningOutcome::write_off);
    EXPECT_EQ(dunning_outcome(5000, "eur", policy), DunningOutcome::handover);
    EXPECT_EQ(dunning_outcome(50, "jpy", policy), DunningOutcome::handover);
}

TEST(Escalation, TheFinalNoticeAnnouncesAHandoverOnlyWhereOneFollows) {
    EXPECT_TRUE(handover_will_follow(5000, "eur", below(50'000, true)));
    EXPECT_FALSE(handover_will_follow(4999, "eur", below(50'000, true)));  // written off
    EXPECT_FALSE(handover_will_follow(5000, "eur", below(50'000, false))); // creator decides
    EXPECT_FALSE(handover_will_follow(100'000, "eur", EscalationPolicy{}));
}

TEST(Escalation, DefaultIsFiftyInTheMajorUnitAndNoHandover) {
    const EscalationPolicy p;
    EXPECT_EQ(p.write_off_below_milli, 50'000);
    EXPECT_FALSE(p.auto_handover);
    EXPECT_STREQ(to_string(DunningOutcome::write_off), "write_off");
    EXPECT_STREQ(to_string(DunningOutcome::escalate), "escalate");
    EXPECT_STREQ(to_string(DunningOutcome::handover), "handover");
}
