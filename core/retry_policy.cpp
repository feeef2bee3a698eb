#include "core/retry_policy.hpp"

#include "core/calendar.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <iterator>
#include <string>

namespace dunning {

using namespace std::chrono;

namespace {

// Card declines that never succeed on a retry of the same card. Sources: Stripe's "Stripe decline
// codes" (docs.stripe.com/declines/codes, "Next steps" column) and "Card declines"
// (docs.stripe.com/declines/card, advice codes). Grouped by why:
constexpr std::string_view hard_declines[] = {
    // PRODUCT.md's list: the card is gone, revoked, blocked or risky; Visa category 1
    // ("issuer will never approve") where a network code exists.
    "incorrect_number", "lost_card", "pickup_card", "stolen_card", "revocation_of_authorization",
    "revocation_of_all_authorizations", "highest_risk_level", "transaction_not_allowed",
    "fraudulent", "expired_card", "invalid_account", "do_not_try_again",
    // "The customer needs to try again using the correct …": the stored data is wrong, and an
    // off-session retry sends the same data again.
    "incorrect_cvc", "invalid_cvc", "incorrect_zip", "incorrect_address", "invalid_number",
    "invalid_expiry_month", "invalid_expiry_year", "incorrect_pin", "invalid_pin",
    // The card cannot make this payment at all: "use another card", or it needs the
    // cardholder present (PIN), or the issuer stopped it; a retry cannot change that.
    "card_not_supported", "currency_not_supported", "restricted_card",
    "new_account_information_available", "stop_payment_order", "pin_try_exceeded",
    "offline_pin_required", "online_or_offline_pin_required", "not_permitted",
    "service_not_allowed", "security_violation",
    // Stripe's own blocks: the merchant's block list and test cards fail every time.
    "merchant_blacklist", "testmode_decline"};

// Mastercard Merchant Advice Codes 03 (do not try again) and 21 (payment cancelled), as Stripe
// passes them on in network_advice_code; the network charges retries after them as excessive.
constexpr std::string_view network_stop_advice[] = {"03", "21"};

// SCA/3DS: the member must authenticate on-session; no off-session retry helps.
constexpr std::string_view authentication_declines[] = {
    "authentication_required", "authentication_not_handled",
    "mobile_device_authentication_required", "payment_intent_authentication_failure"};

// SEPA failure codes worth another debit (docs.stripe.com/payments/sepa-debit, "Failed
// payments"); every other code, known or not, stops retries: each failure costs a fee.
constexpr std::string_view sepa_retryable_failures[] = {"insufficient_funds",
                                                        "generic_could_not_process"};

template <std::size_t N> bool is_one_of(const std::string_view (&list)[N], std::string_view code) {
    return !code.empty() && std::find(std::begin(list), std::end(list), code) != std::end(list);
}

FailureClass classify_sepa(const PaymentError& error) {
    if (error.advice_code == "do_not_try_again") return FailureClass::sepa_stop;
    return is_one_of(sepa_retryable_failures, error.reason()) ? FailureClass::sepa_retryable
                                                              : FailureClass::sepa_stop;
}

FailureClass classify_card(const PaymentError& error) {
    if (error.advice_code == "do_not_try_again" || error.advice_code == "confirm_card_data")
        return FailureClass::hard;
    // Both fields are read: some declines arrive as `code` alone ("expired_card"), and a hard
    // reason in either one is enough to stop.
    if (is_one_of(hard_declines, error.decline_code) || is_one_of(hard_declines, error.code) ||
        is_one_of(network_stop_advice, error.network_advice_code))
        return FailureClass::hard;
    if (is_one_of(authentication_declines, error.decline_code) ||
        is_one_of(authentication_declines, error.code))
        return FailureClass::authentication_required;
    // Soft by default, as Stripe's Smart Retries retry declines they do not recognise.
    return FailureClass::soft;
}

struct NetworkCap {
    seconds window;
    std::size_t max_retries;
};

constexpr std::array<NetworkCap, 1> visa_caps = {{{days{30}, 15}}};
constexpr std::array<NetworkCap, 2> mastercard_caps = {{{hours{24}, 10}, {days{30}, 35}}};

// The earliest t >= at with fewer than max_retries of `previous` inside (t - window, t]. An
// attempt leaves the window exactly `window` after it was made.
Timestamp earliest_within(const NetworkCap& cap, std::vector<Timestamp> previous, Timestamp at) {
    if (previous.size() < cap.max_retries) return at;
    const auto kth_newest = previous.begin() + static_cast<std::ptrdiff_t>(cap.max_retries - 1);
    std::nth_element(previous.begin(), kth_newest, previous.end(), std::greater<>{});
    return std::max(at, *kth_newest + cap.window);
}

template <std::size_t N>
Timestamp earliest_within_all(const std::array<NetworkCap, N>& caps,
                              const std::vector<Timestamp>& previous, Timestamp at) {
    Timestamp earliest = at;
    for (const NetworkCap& cap : caps)
        earliest = std::max(earliest, earliest_within(cap, previous, at));
    return earliest;
}

std::string normalized_brand(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '_' || c == '-' || c == ' ') continue;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

} // namespace

CardNetwork card_network_from(std::string_view brand_or_network) {
    const std::string name = normalized_brand(brand_or_network);
    if (name.empty() || name == "unknown") return CardNetwork::unknown;
    if (name == "visa") return CardNetwork::visa;
    if (name == "mastercard") return CardNetwork::mastercard;
    return CardNetwork::other;
}

const char* to_string(CardNetwork n) {
    switch (n) {
    case CardNetwork::unknown:
        return "unknown";
    case CardNetwork::visa:
        return "visa";
    case CardNetwork::mastercard:
        return "mastercard";
    case CardNetwork::other:
        return "other";
    }
    return "unknown";
}

const char* to_string(FailureClass c) {
    switch (c) {
    case FailureClass::soft:
        return "soft";
    case FailureClass::hard:
        return "hard";
    case FailureClass::authentication_required:
        return "authentication_required";
    case FailureClass::sepa_retryable:
        return "sepa_retryable";
    case FailureClass::sepa_stop:
        return "sepa_stop";
    }
    return "unknown";
}

const char* to_string(EndAction a) {
    switch (a) {
    case EndAction::leave:
        return "leave";
    case EndAction::cancel_subscription:
        return "cancel_subscription";
    case EndAction::mark_uncollectible:
        return "mark_uncollectible";
    }
    return "unknown";
}

FailureClass classify_failure(const PaymentError& error, PaymentMethodKind method) {
    return method == PaymentMethodKind::sepa_debit ? classify_sepa(error) : classify_card(error);
}

Timestamp earliest_allowed_by_network(CardNetwork network, const std::vector<Timestamp>& previous,
                                      Timestamp at) {
    switch (network) {
    case CardNetwork::visa:
        return earliest_within_all(visa_caps, previous, at);
    case CardNetwork::mastercard:
        return earliest_within_all(mastercard_caps, previous, at);
    case CardNetwork::unknown:
    case CardNetwork::other:
        return at;
    }
    return at;
}

std::optional<Timestamp> next_card_retry(const RetryPolicy& policy, Timestamp first_failure,
                                         const RetryHistory& history, CardNetwork network,
                                         Timestamp now) {
    const auto& schedule = policy.card_schedule;
    const auto index = static_cast<std::size_t>(std::max(history.retries_done, 0));
    if (index >= schedule.size()) return std::nullopt;
    Timestamp planned = first_failure + schedule[index];
    if (index > 0 && history.last_retry)
        planned = std::max(planned, *history.last_retry + (schedule[index] - schedule[index - 1]));
    return earliest_allowed_by_network(network, history.network_retries, std::max(planned, now));
}

namespace {

// The first submission hour on a business day at or after `not_before`.
Timestamp first_submission_at_or_after(const RetryPolicy& policy, Timestamp not_before) {
    sys_days day = floor<days>(not_before);
    if (day + policy.sepa_retry_hour_utc < not_before) day += days{1};
    return sys_days{next_target2_business_day(Date{day})} + policy.sepa_retry_hour_utc;
}

// A missed SEPA slot goes out now if a submission could be made now, else at the next one.
Timestamp sepa_catch_up(const RetryPolicy& policy, Timestamp now) {
    const sys_days today = floor<days>(now);
    if (is_target2_business_day(Date{today}) && today + policy.sepa_retry_hour_utc <= now)
        return now;
    return first_submission_at_or_after(policy, now);
}

} // namespace

std::optional<Timestamp> next_sepa_retry(const RetryPolicy& policy, int retries_done,
                                         Timestamp last_failure, Timestamp now) {
    if (retries_done >= policy.sepa_max_retries) return std::nullopt;
    const Timestamp not_before = last_failure + policy.sepa_min_gap;
    sys_days earliest = floor<days>(not_before);
    // The submission hour on the gap's last day may fall before the gap is over.
    if (earliest + policy.sepa_retry_hour_utc < not_before) earliest += days{1};
    const Date day = policy.sepa_prefer_paydays
                         ? sepa_retry_day(Date{earliest}, policy.sepa_max_payday_wait)
                         : next_target2_business_day(Date{earliest});
    const Timestamp planned = sys_days{day} + policy.sepa_retry_hour_utc;
    return planned >= now ? planned : sepa_catch_up(policy, now);
}

} // namespace dunning
