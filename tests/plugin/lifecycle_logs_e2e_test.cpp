// One whole dunning lifecycle through the real `dunning serve` (test clock, a fake Stripe, a
// platform receiving notifications), its log kept for the SecretsInLogs check.
#include "fakes/fake_stripe.hpp"
#include "support/child_service.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

TEST(Lifecycle, FailedPaymentRetriedEmailedAndRecoveredThroughTheBinary) {
    TempDir dir;
    HostReceiver platform;
    const ChildService* service = nullptr;
    const auto clock_now = [&] {
        if (!service) return plugin::SystemClock().now();
        auto cli = service->client();
        return from_unix(json::parse(cli.Get("/v1/test-clock")->body)["now"].get<std::int64_t>());
    };
    fakes::FakeStripe stripe(alpha_stripe_key, fakes::WebhookTarget{"", alpha_secret, clock_now});
    ChildServiceOptions options;
    options.log_name = "lifecycle";
    options.test_clock = true;
    options.stripe_api_base = stripe.base_url();
    options.host_webhook_url = platform.url();
    options.extra_toml = "[retry]\nmode = \"plugin\"\n";
    ChildService s(dir.path(), options);
    service = &s;
    stripe.set_webhook_url("http://127.0.0.1:" + std::to_string(s.port()) +
                           "/webhooks/stripe/alpha");
    auto cli = s.client();
    const auto advance = [&](std::chrono::seconds by) {
        stripe.deliver();
        auto r = cli.Post("/v1/test-clock/advance", json{{"seconds", by.count()}}.dump(),
                          "application/json");
        ASSERT_TRUE(r && r->status == 200);
        stripe.deliver();
        cli.Post("/v1/test-clock/advance", R"({"seconds":0})", "application/json");
    };
    const auto the_case = [&] {
        const auto list = json::parse(
            get_with_token(cli, "/v1/creators/alpha/cases?status=all", alpha_token)->body);
        return list["data"].empty() ? json{} : list["data"][0];
    };

    fakes::FakeInvoice inv;
    inv.id = "in_1";
    stripe.add_invoice(inv);
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    stripe.fail_invoice("in_1", e);
    stripe.script_pay("in_1", std::vector<fakes::ScriptedPay>(
                                  10, fakes::ScriptedPay::declined("insufficient_funds")));
    for (int i = 0; i < 3000 && the_case().empty(); ++i) {
        advance(0s);
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(the_case()["status"], "open") << s.read_log();
    for (int day = 0; day < 10; ++day) // retries and reminders, all declined
        for (int i = 0; i < 4; ++i)
            advance(6h);
    EXPECT_EQ(the_case()["status"], "open") << the_case().dump(2);
    stripe.pay_out_of_band("in_1"); // the member pays on the hosted page
    advance(0s);
    EXPECT_EQ(the_case()["status"], "paid") << the_case().dump(2) << s.read_log();
    EXPECT_FALSE(stripe.requests_to("/v1/invoices/in_1/pay").empty());
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "outbox") &&
                !std::filesystem::is_empty(dir.path() / "outbox"))
        << "no dunning email sent: "
        << get_with_token(
               cli, "/v1/creators/alpha/cases/" + std::to_string(the_case()["id"].get<long long>()),
               alpha_token)
               ->body;
    EXPECT_EQ(s.terminate(), 0) << s.read_log();
}

} // namespace
