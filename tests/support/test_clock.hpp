#pragma once
// Test support: moving the clock of a service started with the test clock
// (POST /v1/test-clock/advance), with the fake Stripe accounts it talks to.
#include "fakes/fake_stripe.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>

namespace dunning::testing {

// Moves the service's clock by `by`; everything due runs before it answers. The webhooks the
// fakes queued are delivered first, as Stripe would have sent them by then. Afterwards the SEPA
// debits that came due settle, what the fakes sent meanwhile is delivered, and a zero advance
// runs what those webhooks made due. Null fakes are skipped. `now`, when given, receives the
// service's new time. A fatal failure when the service does not answer 200.
inline void advance_test_clock(const Service& service, std::chrono::seconds by,
                               std::initializer_list<fakes::FakeStripe*> stripes,
                               Timestamp* now = nullptr) {
    for (auto* stripe : stripes)
        if (stripe) stripe->deliver();
    auto cli = service.client();
    auto r = cli.Post("/v1/test-clock/advance", nlohmann::json{{"seconds", by.count()}}.dump(),
                      "application/json");
    ASSERT_TRUE(r) << "advance did not answer: " << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200) << r->body;
    if (now) *now = from_unix(nlohmann::json::parse(r->body)["now"].get<std::int64_t>());
    for (auto* stripe : stripes)
        if (stripe) stripe->settle();
    for (auto* stripe : stripes)
        if (stripe) stripe->deliver();
    auto again = cli.Post("/v1/test-clock/advance", R"({"seconds":0})", "application/json");
    ASSERT_TRUE(again) << "advance did not answer: " << httplib::to_string(again.error());
}

} // namespace dunning::testing
