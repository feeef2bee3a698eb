#pragma once
// A member's access, overrides and access history as the access API answers them; the dashboard's
// pages show the same rows.
#include "http/request_bodies.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dunning::http {

// The views read through the caller's connection, so that a page showing several of them reads
// one moment of the store (SharedConnection::read).

// GET …/access?member= without a course: every product the member has a record of.
nlohmann::json member_access_view(Services& m, store::Connection& db, const std::string& creator,
                                  const std::string& member);
// GET …/access/overrides?member=: the creator's overrides for the member, revoked ones too.
nlohmann::json member_overrides_view(Services& m, store::Connection& db, const std::string& creator,
                                     const std::string& member);
// POST …/access/overrides' work: the override stored and the member's access worked out again
// in one transaction; the override as the API shows it. `actor` is stored as given.
nlohmann::json add_access_override(Services& m, const std::string& creator, OverrideRequest r,
                                   const std::string& actor);
// POST …/access/overrides/{id}/revoke's work; nothing when the creator has no such override in
// force.
std::optional<nlohmann::json> revoke_access_override(Services& m, const std::string& creator,
                                                     std::int64_t id, const std::string& note,
                                                     const std::string& actor);
// Every change of the member's access (of one product, or all when `product` is empty), oldest
// first: sequence, product, courses, from, to, reason, case, override, at.
nlohmann::json access_history(Services& m, store::Connection& db, const std::string& creator,
                              const std::string& member, const std::string& product = "");

} // namespace dunning::http
