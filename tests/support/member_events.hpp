#pragma once
// Test support: an invoice event of one member, from a Stripe fixture, with ids of its own.
#include "support/service.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace dunning::testing {

// The fixture `type` (an invoice event) for `member`: invoice in_<member>, customer
// cus_<member>, payment intent pi_<member>, charge ch_<member>, created at `created`.
inline nlohmann::json member_invoice_event(const std::string& type, const std::string& member,
                                           std::int64_t created) {
    auto e = fixture(type);
    e["created"] = created;
    auto& o = e["data"]["object"];
    o["id"] = "in_" + member;
    o["customer"] = "cus_" + member;
    o["payment_intent"] = "pi_" + member;
    o["charge"] = "ch_" + member;
    return e;
}

} // namespace dunning::testing
