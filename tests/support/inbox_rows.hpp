#pragma once
// Test support: a Stripe event (JSON) as the receiver stores it in the inbox.
#include "store/inbox.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace dunning::testing {

// The event as stored for `creator`, delivered directly (no Connect account).
inline store::InboxRow inbox_row_of(const nlohmann::json& e, const std::string& creator = "alpha") {
    return {creator,
            e.at("id").get<std::string>(),
            e.at("type").get<std::string>(),
            "",
            "direct",
            e.dump(),
            e.at("created").get<std::int64_t>(),
            0};
}

} // namespace dunning::testing
