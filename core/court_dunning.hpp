#pragma once
// What an application for a court dunning order (Mahnbescheid) needs of a claim: the parties,
// the claim's type from the courts' catalogue, principal, statutory interest (from which day, at
// which rate, split where the base rate changed), the dunning costs apart. Nothing is filed.
// Pure.
#include "core/handover.hpp"

#include <map>
#include <string>
#include <vector>

namespace dunning {

// The catalogue number a claim is filed under: 16 "Lehrgangs-/Unterrichtskosten" unless the
// creator ([creators.escalation] court_claim_type) or the first of the invoice's products with
// an override ([[creators.products]] court_claim_type) says otherwise.
inline constexpr int default_court_claim_type = 16;
int court_claim_type(const std::vector<std::string>& products, int creator_default,
                     const std::map<std::string, int, std::less<>>& per_product);
// The catalogue's name for the numbers known here, else "".
const char* court_claim_name(int number);

struct CourtDunningData {
    HandoverRow claim; // parties, invoice, contract, amounts on the export date
    int claim_type = default_court_claim_type;
    bool business_debtor = false;
    int interest_points_above_base = 5;  // § 288 (1) BGB; 9 for a business debtor (§ 288 (2))
    std::vector<InterestPeriod> periods; // from interest_from to the export date
};

CourtDunningData court_dunning(HandoverRow claim, int claim_type, const ClaimCharges& charges,
                               Date as_of);

} // namespace dunning
