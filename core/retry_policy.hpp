#pragma once
// When to charge a failed invoice again, and when never to. Pure: every answer is a function
// of the failure, the attempts already made, the policy and the time.
#include "event.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace dunning {

enum class CardNetwork { unknown, visa, mastercard, other };
CardNetwork card_network_from(std::string_view brand_or_network); // "visa", "mastercard", "Visa", …

enum class FailureClass {
    soft,                    // worth retrying on the card schedule
    hard,                    // never retry this payment method; ask the member for a new one
    authentication_required, // the bank wants the member (SCA/3DS): no off-session retry
    sepa_retryable,          // SEPA insufficient_funds / generic_could_not_process
    sepa_stop,               // SEPA account or mandate problem: stop, ask for a new method
};
const char* to_string(FailureClass c);

// Reads decline_code, code and advice_code (advice_code do_not_try_again always wins).
FailureClass classify_failure(const PaymentError& error, PaymentMethodKind method);

enum class EndAction { leave, cancel_subscription, mark_uncollectible };
const char* to_string(EndAction a);

struct RetryPolicy {
    // Card retries, as offsets from the first failure (default: 6 tries within 14 days).
    std::vector<std::chrono::seconds> card_schedule = {
        std::chrono::days{1}, std::chrono::days{3},  std::chrono::days{5},
        std::chrono::days{7}, std::chrono::days{10}, std::chrono::days{14}};
    int sepa_max_retries = 2;
    std::chrono::days sepa_min_gap{3};      // a SEPA retry waits at least this long after a failure
    bool sepa_prefer_paydays = true;        // aim for the business day after the 1st, 15th, month end
    std::chrono::days sepa_max_payday_wait{10}; // … unless that is further away than this
    std::chrono::hours sepa_retry_hour_utc{6};  // time of day a SEPA retry is submitted
    std::chrono::seconds new_payment_method_delay{std::chrono::minutes{5}};
    EndAction end_action = EndAction::leave;
};

// Card networks' own limits, applied whatever the configuration says: Visa at most 15 retries
// in 30 days; Mastercard at most 10 in 24 hours and 35 in 30 days. `previous` are the times of
// the retries already made on this card. Returns the earliest time at or after `at` that keeps
// one more retry within the limits.
Timestamp earliest_allowed_by_network(CardNetwork network, const std::vector<Timestamp>& previous,
                                      Timestamp at);

// The next card retry after `retries_done` retries since `first_failure`, or nullopt when the
// schedule is exhausted. Never earlier than `now`, never against the network caps.
std::optional<Timestamp> next_card_retry(const RetryPolicy& policy, Timestamp first_failure,
                                         int retries_done, CardNetwork network,
                                         const std::vector<Timestamp>& previous, Timestamp now);

// The next SEPA debit retry after a failure reported at `last_failure`, or nullopt when
// `retries_done` reached the limit. Falls on a TARGET2 business day, preferring paydays.
std::optional<Timestamp> next_sepa_retry(const RetryPolicy& policy, int retries_done,
                                         Timestamp last_failure);

} // namespace dunning
