#pragma once
// A member's access history as GET /v1/creators/{c}/access/history answers it; the dashboard's
// case page shows the same rows.
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dunning::http {

// Every change of the member's access (of one product, or all when `product` is empty), oldest
// first: sequence, product, courses, from, to, reason, case, override, at.
nlohmann::json access_history(Services& m, const std::string& creator, const std::string& member,
                              const std::string& product = "");

} // namespace dunning::http
