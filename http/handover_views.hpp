#pragma once
// The JSON and CSV of handover exports and court dunning data, and the collection part of the
// case JSON.
#include "core/court_dunning.hpp"
#include "core/handover.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dunning::http {

// {"handed_over_at", "batch", "agency_reference", "collected", "steps": […]} of a case.
nlohmann::json collection_view(const CaseState& s);
nlohmann::json collection_step_view(const CollectionStep& step);
nlohmann::json handover_row_view(const HandoverRow& row);
nlohmann::json court_dunning_view(const CourtDunningData& d);
std::string court_dunning_csv(const CourtDunningData& d, char delimiter);

} // namespace dunning::http
