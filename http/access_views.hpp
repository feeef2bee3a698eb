#pragma once
// A member's access, overrides and access history as the access API answers them; the dashboard's
// pages show the same rows.
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace dunning::http {

// Every change of the member's access (of one product, or all when `product` is empty), oldest
// first: sequence, product, courses, from, to, reason, case, override, at.
// GET …/access?member= without a course: every product the member has a record of.
nlohmann::json member_access_view(Services& m, const std::string& creator,
                                  const std::string& member);
// GET …/access/overrides?member=: the creator's overrides for the member, revoked ones too.
nlohmann::json member_overrides_view(Services& m, const std::string& creator,
                                     const std::string& member);
nlohmann::json access_history(Services& m, const std::string& creator, const std::string& member,
                              const std::string& product = "");

} // namespace dunning::http
