#include "core/court_dunning.hpp"

namespace dunning {

int court_claim_type(const std::vector<std::string>& products, int creator_default,
                     const std::map<std::string, int, std::less<>>& per_product) {
    for (const auto& p : products)
        if (const auto it = per_product.find(p); it != per_product.end()) return it->second;
    return creator_default;
}

const char* court_claim_name(int number) {
    return number == default_court_claim_type ? "Lehrgangs-/Unterrichtskosten" : "";
}

CourtDunningData court_dunning(HandoverRow claim, int claim_type, const ClaimCharges& charges,
                               Date as_of) {
    CourtDunningData d;
    d.claim_type = claim_type;
    d.business_debtor = charges.business_debtor;
    d.interest_points_above_base = charges.business_debtor ? 9 : 5;
    if (const auto from = claim.amounts.interest_from)
        d.periods = default_interest(claim.amounts.principal_minor, *from, as_of,
                                     charges.base_rates, charges.business_debtor)
                        .periods;
    d.claim = std::move(claim);
    return d;
}

} // namespace dunning
