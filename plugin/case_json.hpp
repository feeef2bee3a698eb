#pragma once
// CaseState ⇄ JSON: the stored form (state column) and the creator API's view.
#include "core/case.hpp"

#include <nlohmann/json.hpp>

namespace dunning::plugin {

nlohmann::json state_to_json(const CaseState& s);
CaseState state_from_json(const nlohmann::json& j); // throws nlohmann::json::exception

std::string iso8601(Timestamp t); // "2026-03-03T10:00:00Z"
const char* to_string(PaymentMethodKind k);

} // namespace dunning::plugin
