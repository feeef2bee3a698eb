#pragma once
// CaseState ⇄ JSON: the stored form (state column) and the creator API's view.
#include "core/case.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace dunning::store {

// A stored state this binary cannot read: not JSON, a key missing, a value of the wrong type, a
// value it does not know (an enum name). The message names the field. A value that is there but
// wrong is never replaced by a default: that would quietly change the case.
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
// The stored form read back. Throws CaseStateError, naming the field, for text that is not JSON,
// a key missing, a value of the wrong type or an unknown enum value. Keys that came after the
// first version may be absent (rows stored before them): each reads as what that version meant.
// Types are as the store writes them: a number with a fraction or an exponent where a whole
// number is stored (1.0), or null for the attempts or the collection's steps, is an error
// (nlohmann's reader, before, took 1.0 for 1 and null there for an empty list).
CaseState state_from_text(std::string_view text);
// The same from a JSON value (its dump): for tests and tools that change a stored state.
CaseState state_from_json(const nlohmann::json& j);

} // namespace dunning::store
