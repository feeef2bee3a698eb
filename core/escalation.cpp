#include "core/escalation.hpp"

#include "core/money.hpp"

namespace dunning {

const char* to_string(DunningOutcome o) {
    switch (o) {
    case DunningOutcome::write_off:
        return "write_off";
    case DunningOutcome::escalate:
        return "escalate";
    case DunningOutcome::handover:
        return "handover";
    }
    return "escalate";
}

bool below_write_off_threshold(std::int64_t amount_minor, std::string_view currency,
                               const EscalationPolicy& policy) {
    if (currency.empty()) return false;
    // Compared in thousandths of the major unit: no rounding, whatever the currency's decimals.
    std::int64_t to_milli = 1;
    for (int i = currency_decimals(currency); i < 3; ++i)
        to_milli *= 10;
    return amount_minor * to_milli < policy.write_off_below_milli;
}

DunningOutcome dunning_outcome(std::int64_t amount_minor, std::string_view currency,
                               const EscalationPolicy& policy) {
    if (below_write_off_threshold(amount_minor, currency, policy)) return DunningOutcome::write_off;
    return policy.auto_handover ? DunningOutcome::handover : DunningOutcome::escalate;
}

} // namespace dunning
