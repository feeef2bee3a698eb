#pragma once
// Instalment plans: a subscription that pays one price in a fixed number of instalments
// (InvoiceFacts::plan_instalments) is one purchase, not unrelated invoices. The open-items list,
// the exports and the access rules see its invoices together. Pure.
#include "core/case.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dunning {

struct InstalmentPlan {
    std::string subscription_id;
    int instalments = 0; // in the plan
    int paid = 0;        // instalments paid
    int open = 0;        // instalments owed now: their claims are outstanding
    int billed = 0;      // invoices of the plan seen so far (paid, open or otherwise settled)
    std::string currency;
    std::int64_t instalment_minor = 0; // the price of one (the newest invoice's amount due)
    std::int64_t open_minor = 0;       // owed on the open instalments
    std::vector<std::int64_t> open_cases;
    // Instalments not billed yet, at the price of one: what the plan will still ask for.
    std::int64_t unbilled_minor() const {
        return instalments > billed ? (instalments - billed) * instalment_minor : 0;
    }
    bool operator==(const InstalmentPlan&) const = default;
};

// The plan that `invoice` belongs to, seen through the member's known invoices of the same
// creator (each with its case id; `invoice` may be among them). Nothing when it is not part of
// a plan.
std::optional<InstalmentPlan> plan_of(const CaseState& invoice,
                                      const std::vector<std::pair<std::int64_t, CaseState>>& known);

} // namespace dunning
