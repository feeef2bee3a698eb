#pragma once
// Handing claims to a collection agency as one batch, as POST /v1/creators/{c}/handovers does;
// the dashboard's hand-over action goes through here too.
#include "http/handover_bodies.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dunning::http {

struct HandoverAnswer {
    int status = 200;    // 201 the batch; 404 a case the creator has not; 409 one not escalated
    nlohmann::json body; // the batch, or {"error": …}
};

// All or nothing, in one transaction; wakes the background work.
HandoverAnswer hand_over_claims(Services& m, const std::string& creator,
                                const HandoverRequest& request);

} // namespace dunning::http
