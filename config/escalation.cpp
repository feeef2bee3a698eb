// [escalation] and [creators.escalation]: what becomes of a claim when dunning ends unpaid
// (dunning::EscalationPolicy). A creator's table overrides the global one key by key.
#include "config/reader.hpp"

#include <cmath>
#include <optional>
#include <string>

namespace dunning::config::detail {

namespace {

constexpr double max_write_off_below = 1'000'000; // major units

// write_off_below → thousandths of the major unit, or the problem with it.
Result<std::int64_t, std::string> write_off_milli(const toml::node& node) {
    std::optional<double> amount;
    if (const auto* integer = node.as_integer()) amount = static_cast<double>(integer->get());
    if (const auto* floating = node.as_floating_point()) amount = floating->get();
    if (!amount || !std::isfinite(*amount))
        return err(std::string("must be a number: the amount in the invoice currency's major "
                               "unit (euros, not cents; yen for JPY), e.g. 50 or 49.99"));
    if (*amount < 0 || *amount > max_write_off_below)
        return err(std::string("must be between 0 (never write off) and 1000000"));
    const double milli = *amount * 1000;
    if (std::abs(milli - std::round(milli)) > 1e-6)
        return err(std::string("must have at most three decimals"));
    return static_cast<std::int64_t>(std::llround(milli));
}

} // namespace

void read_escalation(Reader& table, EscalationConfig& out) {
    table.allow_only({"write_off_below", "auto_handover", "promise_max_days", "court_claim_type"});
    if (const toml::node* node = table.get("write_off_below")) {
        auto milli = write_off_milli(*node);
        if (milli.ok())
            out.policy.write_off_below_milli = milli.value();
        else
            table.problem("write_off_below", milli.error());
    }
    table.boolean("auto_handover", out.policy.auto_handover);
    std::int64_t promise_days = out.policy.promise_max_days;
    table.integer("promise_max_days", promise_days, 1, 90);
    out.policy.promise_max_days = static_cast<int>(promise_days);
    // A number of the courts' catalogue of claim types (Katalog der Anspruchsbezeichnungen).
    std::int64_t claim_type = 0;
    if (table.integer("court_claim_type", claim_type, 1, 99) && claim_type > 0)
        out.court_claim_type = static_cast<int>(claim_type);
}

} // namespace dunning::config::detail
