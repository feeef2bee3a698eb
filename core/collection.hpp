#pragma once
// A claim handed to a collection agency: the handover and what the agency reports back, as
// an input of the case engine (core/case_engine.hpp). Pure.
#include "core/case.hpp"

#include <optional>
#include <string>

namespace dunning {

// An input of the case engine: the handover itself, or the agency's result.
struct CollectionReport {
    enum class Kind { handed_over, paid, uncollectible, returned };
    Kind kind = Kind::handed_over;
    std::string batch;                        // handed_over: the batch's id
    std::optional<std::int64_t> amount_minor; // paid: none = the whole open amount
    std::string date, reference, note;        // as the agency reported them
};

// Why the case cannot take the report now, or nothing: only escalated and handover_pending
// cases are handed over, and only handed-over ones take results.
std::optional<std::string> collection_refusal(const CaseState& s, const CollectionReport& r);

// Records the report (nothing when refused). True when the claim is now paid in full: the
// engine then closes the case as the creator's mark-paid does.
bool record_collection(CaseState& s, const CollectionReport& r, Timestamp now);

// Why an agency's "uncollectible" resolved a case (resolution_reason).
inline constexpr const char* collection_agency_reason = "collection_agency";

} // namespace dunning
