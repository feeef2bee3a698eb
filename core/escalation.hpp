#pragma once
// What becomes of a claim when dunning ends unpaid: written off below a threshold, else kept
// in escalation for the creator's decision, or marked for handover to a collection agency when
// the creator chose that ([escalation], [creators.escalation]). Pure.
#include <cstdint>
#include <string_view>

namespace dunning {

struct EscalationPolicy {
    // Claims whose open amount is below this are written off. In thousandths of the invoice
    // currency's major unit, so 50.00 is 50000 whatever the currency: 50.00 EUR = 5000 cents,
    // 50 JPY = 50 yen, 50.000 KWD = 50000 fils. 0 writes nothing off.
    std::int64_t write_off_below_milli = 50'000;
    bool auto_handover = false; // the rest is marked for handover instead of waiting
    int promise_max_days = 14;  // a member may promise to pay at most this many days ahead
};

enum class DunningOutcome {
    write_off, // below the threshold: not worth pursuing
    escalate,  // waits for the creator's decision
    handover,  // marked for handover to a collection agency
};
const char* to_string(DunningOutcome o);

// Whether `amount_minor` (minor units of `currency`, Stripe's lowercase code) is below the
// policy's threshold; exact for zero-, two- and three-decimal currencies. An empty currency
// means no invoice was seen, so the amount is unknown: never below.
bool below_write_off_threshold(std::int64_t amount_minor, std::string_view currency,
                               const EscalationPolicy& policy);

DunningOutcome dunning_outcome(std::int64_t amount_minor, std::string_view currency,
                               const EscalationPolicy& policy);

// The final notice announces a handover only when the rules will carry one out.
inline bool handover_will_follow(std::int64_t amount_minor, std::string_view currency,
                                 const EscalationPolicy& policy) {
    return dunning_outcome(amount_minor, currency, policy) == DunningOutcome::handover;
}

// Why a case was written off, as the API and the notifications spell it.
namespace write_off_reason {
inline constexpr const char* below_threshold = "below_write_off_threshold";
inline constexpr const char* creator = "creator"; // the creator's write-off command
} // namespace write_off_reason

} // namespace dunning
