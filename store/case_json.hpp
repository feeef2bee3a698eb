#pragma once
// CaseState ⇄ JSON: the stored form (state column) and the creator API's view.
#include "core/case.hpp"

#include <nlohmann/json.hpp>

namespace dunning::store {

nlohmann::json state_to_json(const CaseState& s);
CaseState state_from_json(const nlohmann::json& j); // throws nlohmann::json::exception


} // namespace dunning::store
