#pragma once
// The JSON bodies of the handover API, read apart from the request that carried them (like
// request_bodies.hpp): every problem of a body is named, all of them at once.
#include "core/collection.hpp"
#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::http {

// POST /v1/creators/{c}/handovers: {"cases": [ids…], "agency": "…"}; both optional, an empty
// body reads as {}. No cases: every escalated or handover_pending case of the creator.
struct HandoverRequest {
    std::vector<std::int64_t> cases;
    std::string agency;
};
Result<HandoverRequest, std::string> read_handover_request(std::string_view body);

// POST /v1/creators/{c}/cases/{id}/collection: {"result": "paid"|"uncollectible"|"returned",
// "amount"?: minor units > 0 (paid only), "date"?: "YYYY-MM-DD", "reference"?, "note"?}.
// The error lists every problem, separated by "; ".
Result<CollectionReport, std::string> read_collection_result(std::string_view body);

} // namespace dunning::http
