#pragma once
// When to charge a failed invoice again, and when never to. Pure: every answer is a function
// of the failure, the attempts already made, the policy and the time.
#include "core/event.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace dunning {

enum class CardNetwork { unknown, visa, mastercard, other };
// Stripe's card.brand / card.network ("visa", "mastercard", "amex", …), case-insensitive;
// '_', '-' and ' ' are ignored ("Master Card"). Empty or "unknown" → unknown, others → other.
CardNetwork card_network_from(std::string_view brand_or_network);
const char* to_string(CardNetwork n);

enum class FailureClass {
    soft,                    // worth retrying on the card schedule
    hard,                    // never retry this payment method; ask the member for a new one
    authentication_required, // the bank wants the member (SCA/3DS): no off-session retry
    sepa_retryable,          // SEPA insufficient_funds / generic_could_not_process
    sepa_stop,               // SEPA account or mandate problem: stop, ask for a new method
};
const char* to_string(FailureClass c);

// Reads decline_code, code and advice_code (advice_code do_not_try_again always wins).
// sepa_debit: insufficient_funds / generic_could_not_process → sepa_retryable; any other code,
// unknown or empty ones included, and advice do_not_try_again → sepa_stop.
// Every other method follows the card rules, in this order: advice_code do_not_try_again or
// confirm_card_data → hard; a hard decline in decline_code or code (Stripe's "needs new card
// data" / "never approves" codes, listed in the .cpp), or Mastercard advice 03/21 in
// network_advice_code → hard; authentication_required (and its variants) in either field →
// authentication_required; anything else, unknown codes included → soft.
FailureClass classify_failure(const PaymentError& error, PaymentMethodKind method);

enum class EndAction { leave, cancel_subscription, mark_uncollectible };
const char* to_string(EndAction a);

struct RetryPolicy {
    // Card retries, as offsets from the first failure (default: 6 tries within 14 days).
    std::vector<std::chrono::seconds> card_schedule = {
        std::chrono::days{1}, std::chrono::days{3},  std::chrono::days{5},
        std::chrono::days{7}, std::chrono::days{10}, std::chrono::days{14}};
    int sepa_max_retries = 2;
    std::chrono::days sepa_min_gap{3}; // a SEPA retry waits at least this long after a failure
    bool sepa_prefer_paydays = true;   // aim for the business day after the 1st, 15th, month end
    std::chrono::days sepa_max_payday_wait{10}; // … unless that is further away than this
    std::chrono::hours sepa_retry_hour_utc{6};  // time of day a SEPA retry is submitted
    std::chrono::seconds new_payment_method_delay{std::chrono::minutes{5}};
    EndAction end_action = EndAction::leave;
};

// Card networks' own limits, applied whatever the configuration says: Visa at most 15 retries
// in 30 days; Mastercard at most 10 in 24 hours and 35 in 30 days; unknown/other: no cap.
// `previous` are the times of the retries already made on this card (any order; the first,
// failed charge is not a retry). Returns the earliest time at or after `at` that keeps one more
// retry within the limits: when a window is full, the moment its oldest counted retry leaves
// it, exactly one window length after that retry.
Timestamp earliest_allowed_by_network(CardNetwork network, const std::vector<Timestamp>& previous,
                                      Timestamp at);

// What a retry plan needs to know of the retries already made on this case.
struct RetryHistory {
    int retries_done = 0;                   // retries counted against the schedule
    std::optional<Timestamp> last_retry;    // when the newest of them was made, on any card
    std::vector<Timestamp> network_retries; // times of those on the failing card's network
};

// The next card retry, or nullopt when the schedule is exhausted. Slot n (n = retries_done, a
// negative count is treated as 0) is first_failure + card_schedule[n], but never closer to the
// previous retry than the schedule's own gap between slots n-1 and n. A slot already past is
// taken at `now`: after downtime, a pause or a replay the missed slots collapse into this one
// catch-up, and the rest of the schedule keeps its spacing from there. Then later if the
// network caps require.
std::optional<Timestamp> next_card_retry(const RetryPolicy& policy, Timestamp first_failure,
                                         const RetryHistory& history, CardNetwork network,
                                         Timestamp now);

// The next SEPA debit retry after a failure reported at `last_failure`, or nullopt when
// `retries_done` reached sepa_max_retries. At sepa_retry_hour_utc on the day given by
// sepa_retry_day(earliest, sepa_max_payday_wait) (or the first business day on/after earliest
// when sepa_prefer_paydays is false), where earliest is the first date whose submission hour
// is at least sepa_min_gap after last_failure. A slot already past (downtime, a pause, an old
// failure replayed) is caught up once: at `now` when now is a business day at or after the
// submission hour, else at the next such hour.
std::optional<Timestamp> next_sepa_retry(const RetryPolicy& policy, int retries_done,
                                         Timestamp last_failure, Timestamp now);

} // namespace dunning
