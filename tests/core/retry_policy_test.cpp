#include "core/retry_policy.hpp"

#include <algorithm>
#include <cstdio>
#include <gtest/gtest.h>
#include <string>

namespace dunning {
namespace {

using namespace std::chrono;

Timestamp utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
    return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min};
}

// Timestamps are compared as text so a failing row prints a readable time.
std::string iso(std::optional<Timestamp> t) {
    if (!t) return "none";
    const sys_days day_part = floor<days>(*t);
    const year_month_day ymd{day_part};
    const hh_mm_ss hms{*t - day_part};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return out;
}

const Timestamp t0 = utc(2027, 3, 1, 9);

// --- Classification ----------------------------------------------------------------------

struct ClassRow {
    const char* name;
    PaymentError error;
    PaymentMethodKind method;
    FailureClass expected;
};

PaymentError card_decline(const char* decline_code, const char* advice = "",
                          const char* network_advice = "") {
    return {"card_declined", decline_code, advice, network_advice, ""};
}
PaymentError code_only(const char* code) {
    return {code, "", "", "", ""};
}
PaymentError both(const char* code, const char* decline_code, const char* advice = "") {
    return {code, decline_code, advice, "", ""};
}

constexpr auto card = PaymentMethodKind::card;
constexpr auto sepa = PaymentMethodKind::sepa_debit;
constexpr auto hard = FailureClass::hard;
constexpr auto soft = FailureClass::soft;
constexpr auto auth = FailureClass::authentication_required;
constexpr auto retryable = FailureClass::sepa_retryable;
constexpr auto stop = FailureClass::sepa_stop;

std::string code_name(const testing::TestParamInfo<const char*>& info) {
    return info.param;
}

// One suite per expected class; each row is a decline_code under code "card_declined".
class HardCardDecline : public testing::TestWithParam<const char*> {};
class SoftCardDecline : public testing::TestWithParam<const char*> {};

TEST_P(HardCardDecline, IsNeverRetried) {
    EXPECT_STREQ(to_string(classify_failure(card_decline(GetParam()), card)), "hard");
}

TEST_P(SoftCardDecline, FollowsTheSchedule) {
    EXPECT_STREQ(to_string(classify_failure(card_decline(GetParam()), card)), "soft");
}

INSTANTIATE_TEST_SUITE_P(
    Stripe, HardCardDecline,
    testing::Values(
        // PRODUCT.md's list.
        "incorrect_number", "lost_card", "pickup_card", "stolen_card",
        "revocation_of_authorization", "revocation_of_all_authorizations", "highest_risk_level",
        "transaction_not_allowed", "fraudulent", "expired_card", "invalid_account",
        "do_not_try_again",
        // Stripe: "try again using the correct …", "use another card", card-present only.
        "incorrect_cvc", "invalid_cvc", "incorrect_zip", "incorrect_address", "invalid_number",
        "invalid_expiry_month", "invalid_expiry_year", "incorrect_pin", "invalid_pin",
        "card_not_supported", "currency_not_supported", "restricted_card",
        "new_account_information_available", "stop_payment_order", "pin_try_exceeded",
        "offline_pin_required", "online_or_offline_pin_required", "not_permitted",
        "service_not_allowed", "security_violation", "merchant_blacklist", "testmode_decline"),
    code_name);

INSTANTIATE_TEST_SUITE_P(Stripe, SoftCardDecline,
                         testing::Values("insufficient_funds", "do_not_honor", "generic_decline",
                                         "try_again_later", "processing_error", "approve_with_id",
                                         "issuer_not_available", "reenter_transaction",
                                         "card_velocity_exceeded",
                                         "withdrawal_count_limit_exceeded", "call_issuer",
                                         "no_action_taken", "duplicate_transaction",
                                         "invalid_amount", "a_code_stripe_adds_next_year"),
                         code_name);

class ClassifyFailure : public testing::TestWithParam<ClassRow> {};

TEST_P(ClassifyFailure, Row) {
    const ClassRow& row = GetParam();
    EXPECT_STREQ(to_string(classify_failure(row.error, row.method)), to_string(row.expected));
}

std::string row_name(const testing::TestParamInfo<ClassRow>& info) {
    return info.param.name;
}

const ClassRow code_and_advice_rows[] = {
    {"authentication_required", card_decline("authentication_required"), card, auth},
    {"authentication_not_handled", card_decline("authentication_not_handled"), card, auth},
    {"code_only_expired_card", code_only("expired_card"), card, hard},
    {"code_only_incorrect_cvc", code_only("incorrect_cvc"), card, hard},
    {"code_only_processing_error", code_only("processing_error"), card, soft},
    {"code_only_authentication_required", code_only("authentication_required"), card, auth},
    {"code_only_payment_intent_authentication_failure",
     code_only("payment_intent_authentication_failure"), card, auth},
    {"code_only_card_declined", code_only("card_declined"), card, soft},
    {"nothing_known", code_only(""), card, soft},
    {"advice_do_not_try_again_beats_soft", card_decline("insufficient_funds", "do_not_try_again"),
     card, hard},
    {"advice_do_not_try_again_beats_auth",
     card_decline("authentication_required", "do_not_try_again"), card, hard},
    {"advice_do_not_try_again_alone", card_decline("", "do_not_try_again"), card, hard},
    {"advice_confirm_card_data", card_decline("generic_decline", "confirm_card_data"), card, hard},
    {"advice_try_again_later_keeps_soft", card_decline("do_not_honor", "try_again_later"), card,
     soft},
    {"advice_try_again_later_does_not_revive_hard", card_decline("lost_card", "try_again_later"),
     card, hard},
    {"mastercard_advice_03", card_decline("insufficient_funds", "", "03"), card, hard},
    {"mastercard_advice_21", card_decline("do_not_honor", "", "21"), card, hard},
    {"mastercard_advice_02_keeps_soft", card_decline("do_not_honor", "", "02"), card, soft},
    {"hard_beats_auth_across_fields", both("authentication_required", "lost_card"), card, hard},
    {"unknown_method_uses_card_rules", card_decline("insufficient_funds"),
     PaymentMethodKind::unknown, soft},
    {"other_method_uses_card_rules", card_decline("expired_card"), PaymentMethodKind::other, hard},
    // SEPA: the failure code arrives in `code`.
    {"sepa_code_in_decline_code", both("", "insufficient_funds"), sepa, retryable},
    {"sepa_empty_code", code_only(""), sepa, stop},
    {"sepa_advice_do_not_try_again", both("insufficient_funds", "", "do_not_try_again"), sepa,
     stop},
};

INSTANTIATE_TEST_SUITE_P(CodeAndAdvice, ClassifyFailure, testing::ValuesIn(code_and_advice_rows),
                         row_name);

class SepaRetryableFailure : public testing::TestWithParam<const char*> {};
class SepaStopFailure : public testing::TestWithParam<const char*> {};

TEST_P(SepaRetryableFailure, IsRetried) {
    EXPECT_STREQ(to_string(classify_failure(code_only(GetParam()), sepa)), "sepa_retryable");
}

TEST_P(SepaStopFailure, StopsRetries) {
    EXPECT_STREQ(to_string(classify_failure(code_only(GetParam()), sepa)), "sepa_stop");
}

INSTANTIATE_TEST_SUITE_P(Stripe, SepaRetryableFailure,
                         testing::Values("insufficient_funds", "generic_could_not_process"),
                         code_name);

INSTANTIATE_TEST_SUITE_P(Stripe, SepaStopFailure,
                         testing::Values("account_closed", "debit_not_authorized",
                                         "authorization_revoked", "debit_disputed",
                                         "bank_account_restricted", "invalid_account_number",
                                         "branch_does_not_exist", "incorrect_account_holder_name",
                                         "recipient_deceased", "debit_authorization_not_match",
                                         "refer_to_customer", "a_code_stripe_adds_next_year"),
                         code_name);

TEST(ToString, NamesEveryEnumerator) {
    EXPECT_STREQ(to_string(FailureClass::soft), "soft");
    EXPECT_STREQ(to_string(FailureClass::hard), "hard");
    EXPECT_STREQ(to_string(FailureClass::authentication_required), "authentication_required");
    EXPECT_STREQ(to_string(FailureClass::sepa_retryable), "sepa_retryable");
    EXPECT_STREQ(to_string(FailureClass::sepa_stop), "sepa_stop");
    EXPECT_STREQ(to_string(EndAction::leave), "leave");
    EXPECT_STREQ(to_string(EndAction::cancel_subscription), "cancel_subscription");
    EXPECT_STREQ(to_string(EndAction::mark_uncollectible), "mark_uncollectible");
    EXPECT_STREQ(to_string(CardNetwork::unknown), "unknown");
    EXPECT_STREQ(to_string(CardNetwork::visa), "visa");
    EXPECT_STREQ(to_string(CardNetwork::mastercard), "mastercard");
    EXPECT_STREQ(to_string(CardNetwork::other), "other");
}

TEST(CardNetworkFrom, ReadsStripeBrandsInAnyCase) {
    const std::pair<const char*, CardNetwork> rows[] = {
        {"visa", CardNetwork::visa},
        {"Visa", CardNetwork::visa},
        {"VISA", CardNetwork::visa},
        {"mastercard", CardNetwork::mastercard},
        {"MasterCard", CardNetwork::mastercard},
        {"master_card", CardNetwork::mastercard},
        {"Master Card", CardNetwork::mastercard},
        {"amex", CardNetwork::other},
        {"American Express", CardNetwork::other},
        {"cartes_bancaires", CardNetwork::other},
        {"unknown", CardNetwork::unknown},
        {"", CardNetwork::unknown},
    };
    for (const auto& [text, expected] : rows)
        EXPECT_STREQ(to_string(card_network_from(text)), to_string(expected)) << text;
}

// --- Card schedule -----------------------------------------------------------------------

// `count` retries made, at `times` (the newest is the last one made), all on the failing network.
RetryHistory made(int count, std::vector<Timestamp> times = {}) {
    RetryHistory h{count, std::nullopt, times};
    if (!times.empty()) h.last_retry = *std::max_element(times.begin(), times.end());
    return h;
}

TEST(NextCardRetry, WalksTheDefaultScheduleThenStops) {
    const RetryPolicy policy;
    const char* expected[] = {"2027-03-02T09:00:00Z", "2027-03-04T09:00:00Z",
                              "2027-03-06T09:00:00Z", "2027-03-08T09:00:00Z",
                              "2027-03-11T09:00:00Z", "2027-03-15T09:00:00Z"};
    for (int done = 0; done < 6; ++done)
        EXPECT_EQ(iso(next_card_retry(policy, t0, made(done), CardNetwork::visa, t0)),
                  expected[done])
            << done;
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(6), CardNetwork::visa, t0)), "none");
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(7), CardNetwork::visa, t0)), "none");
}

TEST(NextCardRetry, FollowsAConfiguredScheduleAndTreatsNegativeCountAsZero) {
    RetryPolicy policy;
    policy.card_schedule = {hours{12}, days{2}};
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(-1), CardNetwork::other, t0)),
              "2027-03-01T21:00:00Z");
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(1), CardNetwork::other, t0)),
              "2027-03-03T09:00:00Z");
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(2), CardNetwork::other, t0)), "none");
    policy.card_schedule.clear();
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(0), CardNetwork::other, t0)), "none");
}

TEST(NextCardRetry, IsNeverBeforeNow) {
    const RetryPolicy policy; // retry 1 is planned at t0 + 3 days
    const Timestamp late = utc(2027, 3, 5, 14, 30);
    EXPECT_EQ(iso(next_card_retry(policy, t0, made(1), CardNetwork::visa, late)),
              "2027-03-05T14:30:00Z");
}

// `count` retries, `spacing` apart, the first at `first`.
std::vector<Timestamp> retries(int count, Timestamp first, seconds spacing) {
    std::vector<Timestamp> out;
    for (int i = 0; i < count; ++i)
        out.push_back(first + i * spacing);
    return out;
}

TEST(NextCardRetry, PushesTheSixteenthVisaRetryIn30Days) {
    RetryPolicy policy;
    policy.card_schedule.clear();
    for (int d = 1; d <= 20; ++d)
        policy.card_schedule.push_back(days{d});
    const auto previous = retries(15, t0 + days{1}, days{1}); // days 1 … 15
    // Planned for day 16; the retry of day 1 leaves the 30-day window on day 31.
    EXPECT_EQ(
        iso(next_card_retry(policy, t0, made(15, previous), CardNetwork::visa, t0 + days{15})),
        "2027-04-01T09:00:00Z");
    const std::vector<Timestamp> fourteen(previous.begin() + 1, previous.end());
    EXPECT_EQ(
        iso(next_card_retry(policy, t0, made(15, fourteen), CardNetwork::visa, t0 + days{15})),
        "2027-03-17T09:00:00Z");
}

TEST(EarliestAllowedByNetwork, VisaWindowEndsExactlyThirtyDaysAfterTheOldestRetry) {
    auto previous = retries(15, t0, hours{1});
    std::reverse(previous.begin(), previous.end()); // order does not matter
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::visa, previous, t0 + days{2})),
              iso(t0 + days{30}));
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::visa, previous, t0 + days{30})),
              iso(t0 + days{30}));
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::visa, previous, t0 + days{40})),
              iso(t0 + days{40}));
}

TEST(EarliestAllowedByNetwork, PushesTheEleventhMastercardRetryIn24Hours) {
    const auto ten = retries(10, t0, hours{1}); // 09:00 … 18:00
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::mastercard, ten, t0 + hours{10})),
              "2027-03-02T09:00:00Z");
    const std::vector<Timestamp> nine(ten.begin() + 1, ten.end());
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::mastercard, nine, t0 + hours{10})),
              "2027-03-01T19:00:00Z");
    // Visa allows 15 in 30 days: ten in a day are fine.
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::visa, ten, t0 + hours{10})),
              "2027-03-01T19:00:00Z");
}

TEST(EarliestAllowedByNetwork, CapsMastercardAt35RetriesIn30Days) {
    // Two a day stay far below the 24-hour cap; the 36th retry waits for the first to age out.
    const auto previous = retries(35, t0, hours{20}); // spans 680 hours
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::mastercard, previous, t0 + hours{700})),
              iso(t0 + days{30}));
    const std::vector<Timestamp> fewer(previous.begin() + 1, previous.end());
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::mastercard, fewer, t0 + hours{700})),
              iso(t0 + hours{700}));
}

TEST(EarliestAllowedByNetwork, LeavesUnknownAndOtherNetworksUncapped) {
    const auto previous = retries(100, t0, minutes{1});
    const Timestamp at = t0 + hours{2};
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::unknown, previous, at)), iso(at));
    EXPECT_EQ(iso(earliest_allowed_by_network(CardNetwork::other, previous, at)), iso(at));
}

// --- SEPA --------------------------------------------------------------------------------

struct SepaRow {
    const char* name;
    Timestamp last_failure;
    bool prefer_paydays;
    int max_wait_days;
    const char* expected;
};

TEST(NextSepaRetry, SubmitsOnABusinessDayAtTheConfiguredHour) {
    const SepaRow rows[] = {
        // + 3 days = Wed 10 Mar 10:00, too late for 06:00 → from Thu 11 → after payday 15th.
        {"payday", utc(2027, 3, 7, 10), true, 10, "2027-03-16T06:00:00Z"},
        {"max_wait_fallback", utc(2027, 3, 7, 10), true, 2, "2027-03-11T06:00:00Z"},
        {"gap_ends_before_hour", utc(2027, 3, 8, 5), false, 10, "2027-03-11T06:00:00Z"},
        {"gap_ends_after_hour", utc(2027, 3, 8, 7), false, 10, "2027-03-12T06:00:00Z"},
        {"weekend", utc(2027, 3, 9, 10), false, 10, "2027-03-15T06:00:00Z"},
        // Christmas: from Thu 25 Dec 2025 → payday Wed 31 Dec, 1 January closed → Fri 2 Jan.
        {"year_boundary", utc(2025, 12, 21, 12), true, 10, "2026-01-02T06:00:00Z"},
    };
    for (const SepaRow& row : rows) {
        RetryPolicy policy;
        policy.sepa_prefer_paydays = row.prefer_paydays;
        policy.sepa_max_payday_wait = days{row.max_wait_days};
        EXPECT_EQ(iso(next_sepa_retry(policy, 0, row.last_failure, row.last_failure)), row.expected)
            << row.name;
    }
}

TEST(NextSepaRetry, UsesTheConfiguredHour) {
    RetryPolicy policy;
    policy.sepa_retry_hour_utc = hours{9};
    EXPECT_EQ(iso(next_sepa_retry(policy, 1, utc(2027, 3, 7, 10), utc(2027, 3, 7, 10))),
              "2027-03-16T09:00:00Z");
}

TEST(NextSepaRetry, StopsAtTheRetryLimit) {
    RetryPolicy policy; // at most 2 retries
    EXPECT_NE(iso(next_sepa_retry(policy, 1, t0, t0)), "none");
    EXPECT_EQ(iso(next_sepa_retry(policy, 2, t0, t0)), "none");
    EXPECT_EQ(iso(next_sepa_retry(policy, 3, t0, t0)), "none");
    policy.sepa_max_retries = 0;
    EXPECT_EQ(iso(next_sepa_retry(policy, 0, t0, t0)), "none");
}

} // namespace
} // namespace dunning
