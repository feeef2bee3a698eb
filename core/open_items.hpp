#pragma once
// The open-items list (Offene-Posten-Liste): each outstanding claim with what is owed on it
// (principal, dunning fees, statutory interest to today), its age and its limitation date, and
// the filters, order and totals per currency a creator asks for. Pure.
#include "core/calendar.hpp"
#include "core/case.hpp"
#include "core/case_engine.hpp"
#include "core/instalment_plan.hpp"
#include "core/interest.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dunning {

// What a creator's claims add to the principal.
struct ClaimCharges {
    std::vector<DunningStage> stages; // fees of the stages sent
    bool interest = false;            // § 288 BGB default interest
    bool business_debtor = false;
    std::vector<BaseRate> base_rates;
};

// The first day of default interest: the day after the first reminder was due; none without
// stages or a known failure.
std::optional<Date> interest_from(const CaseState& s, const std::vector<DunningStage>& stages);

// What is owed on a claim on `as_of`: the open principal, the fees of the stages sent (and the
// 40 EUR a business debtor owes), default interest up to and including `as_of`.
struct ClaimAmounts {
    std::int64_t principal_minor = 0, fees_minor = 0, interest_minor = 0;
    std::optional<Date> interest_from; // none when interest is off or has not started
    std::int64_t total_minor() const { return principal_minor + fees_minor + interest_minor; }
};
ClaimAmounts claim_amounts(const CaseState& s, const ClaimCharges& charges, Date as_of);
// The same from what it depends on: the open principal, the stage sent, the first day of
// interest (interest_from) and the currency. Claims equal in these owe the same.
ClaimAmounts claim_amounts(std::int64_t principal_minor, int stage_sent, std::optional<Date> from,
                           const std::string& currency, const ClaimCharges& charges, Date as_of);

struct OpenItem {
    std::int64_t case_id = 0;
    std::string
        status;    // open, paused, objected, escalated, handover_pending, handed_over, disputed
    int stage = 0; // the newest ladder email sent
    std::string member, member_name, member_email;
    std::string invoice_id, invoice_number;
    std::vector<std::string> products;
    std::string payment_method; // of the newest failure: card, sepa_debit, other, unknown
    std::string currency;
    std::int64_t principal_minor = 0;
    std::int64_t fees_minor = 0;
    std::int64_t interest_minor = 0;
    Date arose_on{};
    Date limitation_date{};
    int age_days = 0;                   // since the claim arose
    int days_to_limitation = 0;         // negative once time-barred
    std::optional<InstalmentPlan> plan; // the instalment plan the invoice is one of
    std::int64_t total_minor() const { return principal_minor + fees_minor + interest_minor; }
};

// "0-30", "31-60", "61-90", "90+" (days since the claim arose).
const char* age_bucket(int age_days);

// Nothing for a case that is not outstanding or whose start is unknown.
std::optional<OpenItem> open_item(std::int64_t case_id, const CaseState& s,
                                  const ClaimCharges& charges, Timestamp now);

struct OpenItemFilter {
    std::vector<std::string> statuses; // empty: every outstanding one
    std::optional<int> stage;
    std::optional<std::string> age_bucket;
    std::optional<std::int64_t> amount_min_minor, amount_max_minor; // on the principal
    std::optional<std::string> payment_method, product, member;
    std::optional<int> expiring_within_days; // limitation date at most this many days away
};
bool matches(const OpenItem& item, const OpenItemFilter& filter);

enum class OpenItemOrder { case_id, arose_on, amount, limitation_date, stage };
// Stable; ties keep case order.
void sort_open_items(std::vector<OpenItem>& items, OpenItemOrder order, bool descending);

struct CurrencyTotals {
    std::int64_t count = 0;
    std::int64_t principal_minor = 0, fees_minor = 0, interest_minor = 0;
};
std::map<std::string, CurrencyTotals> totals_by_currency(const std::vector<OpenItem>& items);

} // namespace dunning
