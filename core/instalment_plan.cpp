#include "core/instalment_plan.hpp"

namespace dunning {

std::optional<InstalmentPlan>
plan_of(const CaseState& invoice, const std::vector<std::pair<std::int64_t, CaseState>>& known) {
    const auto& facts = invoice.invoice;
    if (facts.plan_instalments <= 0 || facts.subscription_id.empty()) return std::nullopt;
    InstalmentPlan plan;
    plan.subscription_id = facts.subscription_id;
    plan.instalments = facts.plan_instalments;
    plan.currency = facts.currency;
    plan.instalment_minor = facts.amount_due;
    Timestamp newest = invoice.invoice_as_of;
    for (const auto& [id, s] : known) {
        if (s.invoice.subscription_id != facts.subscription_id ||
            s.creator_id != invoice.creator_id || s.invoice.status == "draft")
            continue;
        ++plan.billed;
        plan.instalments = std::max(plan.instalments, s.invoice.plan_instalments);
        if (s.invoice_as_of > newest && s.invoice.amount_due > 0) {
            newest = s.invoice_as_of;
            plan.instalment_minor = s.invoice.amount_due;
        }
        if (s.resolution == Resolution::paid || (!s.failed && s.invoice.status == "paid")) {
            ++plan.paid;
        } else if (claim_outstanding(s)) {
            ++plan.open;
            plan.open_minor += s.open_amount_minor();
            plan.open_cases.push_back(id);
        }
    }
    return plan;
}

} // namespace dunning
