#pragma once
// A moment in the JSON the module hands out (API answers, access feed, job data): ISO 8601 in
// UTC, or null where there is none.
#include "core/time.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace dunning::store {

inline nlohmann::json time_or_null(const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(iso8601(*t)) : nlohmann::json(nullptr);
}

} // namespace dunning::store
