#pragma once
// CaseState ⇄ JSON: the stored form (state column) and the creator API's view.
#include "core/case.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace dunning::store {

// A stored value this binary does not know (an enum name); the message names the field and
// the value. Reading never falls back to a default: that would quietly change the case.
struct CaseStateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The stored form (cases.state): one JSON object, enums by name ("card", "declined", "visa", …),
// each object's keys in byte order, as nlohmann's dump() of it would be. Throws
// nlohmann::json::exception for a string that is not valid UTF-8 (and std::logic_error for a key
// written out of order: a mistake in store/case_json.cpp).
std::string state_text(const CaseState& s);
// The same, as a JSON value (the text parsed): for tests and tools that look inside.
nlohmann::json state_to_json(const CaseState& s);
// Throws nlohmann::json::exception for a missing key or a value of the wrong type, and
// CaseStateError for an unknown enum value.
CaseState state_from_json(const nlohmann::json& j);

} // namespace dunning::store
