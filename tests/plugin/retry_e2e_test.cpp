// The retry scheduler end to end: the service on loopback with a test clock, a fake Stripe that
// answers /pay as scripted and sends the resulting webhooks back, signed.
#include "fakes/fake_stripe.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using fakes::ScriptedPay;
using nlohmann::json;

namespace {

const Timestamp start = from_unix(1'800'000'000); // Friday 2027-01-15 08:00 UTC

PaymentError decline(std::string code) {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = std::move(code);
    return e;
}

class Retry : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = start; // the service's test clock, as last reported
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    config::Config cfg;

    void boot(config::RetryMode mode = config::RetryMode::plugin, std::string api = "2020-08-27") {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha",
            fakes::WebhookTarget{"", alpha_secret, [this] { return now(); }, std::move(api)});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.creators[0].stripe_secret_key = "sk_test_alpha";
        cfg.creators[0].retry.mode = mode;
        // The fake's 49.00 EUR claims escalate here instead of being written off (below the
        // default 50.00): these tests follow escalation, the write-off has tests of its own.
        cfg.creators[0].escalation.policy.write_off_below_milli = 0;
        start_service();
    }
    // On a port of the kernel's choice, new at every start: the fake Stripe is told where it is.
    void start_service() {
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    void restart() {
        service.reset();
        start_service();
    }
    Timestamp now() const { return service ? service->module().clock().now() : clock_now; }

    // Moves the service's clock; everything due runs before it answers. Webhooks the fake
    // queued are delivered first, as Stripe would have sent them by then.
    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get()}, &clock_now);
    }
    void advance_days(int days) {
        for (int i = 0; i < days * 4; ++i)
            advance(6h);
    }
    json only_case() {
        auto cli = service->client();
        auto list = json::parse(
            get_with_token(cli, "/v1/creators/alpha/cases?status=all", alpha_token)->body);
        EXPECT_EQ(list["data"].size(), 1u) << list.dump(2);
        if (list["data"].empty()) return {};
        auto r = get_with_token(
            cli, "/v1/creators/alpha/cases/" + std::to_string(list["data"][0]["id"].get<int>()),
            alpha_token);
        return json::parse(r->body);
    }
    std::vector<fakes::RecordedRequest> pays() const {
        return stripe->requests_to("/v1/invoices/in_1/pay");
    }
    void open_case(PaymentError why, PaymentMethodKind method = PaymentMethodKind::card) {
        fakes::FakeInvoice inv;
        inv.id = "in_1";
        inv.method = method;
        if (method == PaymentMethodKind::sepa_debit) inv.default_payment_method = "pm_sepa";
        stripe->add_invoice(inv);
        stripe->fail_invoice("in_1", std::move(why));
        advance(0s);
        ASSERT_EQ(only_case()["status"], "open");
    }
};

TEST_F(Retry, SoftDeclineIsRetriedOnScheduleAndRecovered) {
    boot();
    open_case(decline("insufficient_funds"));
    stripe->script_pay("in_1",
                       {ScriptedPay::declined("insufficient_funds"), ScriptedPay::success()});
    advance(23h);
    EXPECT_TRUE(pays().empty()) << "nothing before day 1";
    advance(1h);
    ASSERT_EQ(pays().size(), 1u);
    EXPECT_EQ(pays()[0].headers.at("Idempotency-Key"), "dunning-pay-in_1-1");
    EXPECT_EQ(pays()[0].form.at("off_session"), "true");
    EXPECT_EQ(pays()[0].headers.at("Authorization"), "Bearer sk_test_alpha");
    advance_days(1);
    EXPECT_EQ(pays().size(), 1u) << "day 3 is the next slot";
    advance_days(1);
    ASSERT_EQ(pays().size(), 2u);
    EXPECT_EQ(pays()[1].headers.at("Idempotency-Key"), "dunning-pay-in_1-2");
    const auto c = only_case();
    EXPECT_EQ(c["status"], "paid") << c.dump(2);
    EXPECT_EQ(stripe->invoice("in_1").status, "paid");
    advance_days(30);
    EXPECT_EQ(pays().size(), 2u);
}

TEST_F(Retry, HardDeclineIsNeverRetried) {
    boot();
    open_case(decline("lost_card"));
    advance_days(40);
    EXPECT_TRUE(pays().empty());
    const auto c = only_case();
    EXPECT_EQ(c["status"], "escalated");
    bool asked = false;
    for (const auto& a : c["actions"])
        asked |= a["detail"].value("message", "") == "update_payment_method";
    EXPECT_TRUE(asked) << c["actions"].dump(2);
    int asks = 0;
    for (const auto& a : c["actions"])
        asks += a["detail"].value("message", "") == "update_payment_method";
    EXPECT_EQ(asks, 1) << "one failure, one email, however many events describe it";
}

TEST_F(Retry, SepaAccountClosedStopsRetries) {
    boot();
    PaymentError e;
    e.code = "account_closed";
    open_case(e, PaymentMethodKind::sepa_debit);
    advance_days(40);
    EXPECT_TRUE(pays().empty());
    EXPECT_EQ(only_case()["failure"]["payment_method_type"], "sepa_debit");
}

// The member's bank revokes the SEPA mandate before the retry: the debit is never tried again,
// and the member is asked once for another way to pay.
TEST_F(Retry, AnInactiveMandateStopsSepaRetriesAndAsksForANewMethod) {
    boot();
    PaymentError e;
    e.code = "insufficient_funds";
    open_case(e, PaymentMethodKind::sepa_debit);
    EXPECT_EQ(only_case()["next_action_at"].is_string(), true) << "a SEPA retry is planned";
    stripe->revoke_mandate("pm_sepa");
    advance(0s);
    advance_days(40);
    EXPECT_TRUE(pays().empty());
    const auto c = only_case();
    int asks = 0;
    for (const auto& a : c["actions"])
        asks += a["detail"].value("message", "") == "update_payment_method";
    EXPECT_EQ(asks, 1) << c["actions"].dump(2);
    bool in_timeline = false;
    for (const auto& step : c["timeline"])
        in_timeline |=
            step["what"] == "mandate_inactive" && step["detail"]["payment_method"] == "pm_sepa";
    EXPECT_TRUE(in_timeline) << c["timeline"].dump(2);
}

TEST_F(Retry, ANewCardTriggersARetryWithThatCard) {
    boot();
    open_case(decline("expired_card"));
    advance(2h);
    stripe->attach_payment_method("cus_fake", "pm_new_card");
    advance(4min);
    EXPECT_TRUE(pays().empty());
    advance(2min);
    ASSERT_EQ(pays().size(), 1u) << only_case().dump(2);
    EXPECT_EQ(pays()[0].form.at("payment_method"), "pm_new_card");
    EXPECT_EQ(only_case()["status"], "paid");
}

TEST_F(Retry, ServerErrorsAndRateLimitsNeverChargeTwiceNorLoseTheAttempt) {
    boot();
    open_case(decline("insufficient_funds"));
    stripe->script_pay("in_1", {ScriptedPay::status_code(500), ScriptedPay::status_code(500),
                                ScriptedPay::status_code(429), ScriptedPay::status_code(503),
                                ScriptedPay::success()});
    advance(24h);
    EXPECT_EQ(pays().size(), 3u) << "three tries in one go, then the outbox backs off";
    EXPECT_NE(only_case()["status"], "paid");
    advance(10min);
    ASSERT_EQ(pays().size(), 5u);
    for (const auto& p : pays())
        EXPECT_EQ(p.headers.at("Idempotency-Key"), "dunning-pay-in_1-1");
    EXPECT_EQ(stripe->pay_executions("in_1"), 1);
    const auto c = only_case();
    EXPECT_EQ(c["status"], "paid");
    EXPECT_EQ(c["attempts"].size(), 1u);
}

TEST_F(Retry, TheScheduleSurvivesARestart) {
    boot();
    open_case(decline("insufficient_funds"));
    advance(12h);
    restart();
    advance(12h);
    EXPECT_EQ(pays().size(), 1u);
    EXPECT_EQ(only_case()["status"], "paid");
}

TEST_F(Retry, StripeModeNeverCallsPay) {
    boot(config::RetryMode::stripe);
    open_case(decline("insufficient_funds"));
    stripe->attach_payment_method("cus_fake", "pm_new_card");
    advance_days(40);
    EXPECT_TRUE(stripe->requests_to("/v1/invoices/in_1/pay").empty());
    EXPECT_EQ(only_case()["status"], "escalated");
}

TEST_F(Retry, DuplicateAndReversedWebhooksMakeOneCaseAndOneCharge) {
    boot();
    stripe->set_delivery({true, true});
    open_case(decline("insufficient_funds"));
    advance(24h);
    EXPECT_EQ(pays().size(), 1u);
    EXPECT_EQ(only_case()["status"], "paid");
}

TEST_F(Retry, CurrentApiShapeIsRetriedToo) {
    boot(config::RetryMode::plugin, "2025-03-31.basil");
    open_case(decline("insufficient_funds"));
    stripe->script_pay(
        "in_1", {ScriptedPay::declined("do_not_honor"), ScriptedPay::declined("stolen_card")});
    advance(
        24h +
        1min); // the basil events open the case with invoice.payment_failed, 2 s after the charge
    EXPECT_EQ(pays().size(), 1u);
    advance_days(2);
    EXPECT_EQ(pays().size(), 2u) << only_case().dump(2);
    EXPECT_EQ(only_case()["failure"]["decline_code"], "stolen_card");
    advance_days(20);
    EXPECT_EQ(pays().size(), 2u) << "a hard decline ends the retries";
}

class MarkPaid : public Retry {
  protected:
    std::string case_id() { return std::to_string(only_case()["id"].get<int>()); }
    void mark_paid() {
        auto cli = service->client();
        auto r = cli.Post("/v1/creators/alpha/cases/" + case_id() + "/mark-paid",
                          httplib::Headers{{"Authorization", "Bearer " + alpha_token}}, "{}",
                          "application/json");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
    }
    std::vector<fakes::RecordedRequest> out_of_band() const {
        std::vector<fakes::RecordedRequest> out;
        for (const auto& p : pays())
            if (p.form.contains("paid_out_of_band")) out.push_back(p);
        return out;
    }
    int thanks() {
        int n = 0;
        const auto c = only_case();
        for (const auto& a : c["actions"])
            n += a["detail"].value("message", "") == "payment_received";
        return n;
    }
};

TEST_F(MarkPaid, InPluginModeTheInvoiceIsMarkedPaidOutOfBandOnce) {
    boot();
    open_case(decline("lost_card")); // the member is asked for a new card, no retry planned
    advance_days(4);                 // and has had the first reminder
    ASSERT_TRUE(pays().empty());
    mark_paid();
    advance(0s);
    ASSERT_EQ(out_of_band().size(), 1u) << "one call";
    const auto call = out_of_band().at(0);
    EXPECT_EQ(call.form.at("paid_out_of_band"), "true");
    EXPECT_FALSE(call.form.contains("off_session")) << "no charge";
    EXPECT_EQ(call.headers.at("Idempotency-Key"),
              "dunning-case-" + case_id() + "-paid-out-of-band");
    EXPECT_EQ(call.headers.at("Authorization"), "Bearer sk_test_alpha");
    EXPECT_EQ(stripe->invoice("in_1").status, "paid");
    EXPECT_EQ(stripe->pay_executions("in_1"), 0);
    const int thanked = thanks();
    EXPECT_EQ(thanked, 1) << "the dunned member is thanked once";

    // Stripe's invoice.paid for it came back (delivered within the advance) and changed nothing.
    advance_days(30);
    const auto c = only_case();
    int paid_events = 0;
    for (const auto& e : c["events"])
        paid_events += e["type"] == "invoice.paid";
    EXPECT_EQ(paid_events, 1) << c["events"].dump(2);
    EXPECT_TRUE(stripe->queued_types().empty());
    EXPECT_EQ(c["status"], "paid") << c.dump(2);
    EXPECT_EQ(thanks(), thanked) << "no second email";
    EXPECT_EQ(pays().size(), 1u) << "nothing else sent to /pay";
    int jobs = 0;
    for (const auto& a : c["actions"])
        if (a["kind"] == "paid_out_of_band") {
            ++jobs;
            EXPECT_EQ(a["state"], "done") << a.dump(2);
        }
    EXPECT_EQ(jobs, 1);
}

TEST_F(MarkPaid, AnInvoiceAlreadyPaidInStripeFinishesTheJobWithoutRetrying) {
    boot();
    open_case(decline("lost_card"));
    stripe->pay_out_of_band("in_1"); // paid on the hosted page; the webhooks are not there yet
    mark_paid();
    advance(0s);
    advance_days(5);
    ASSERT_EQ(out_of_band().size(), 1u) << "a 400 \"already paid\" is not retried";
    const auto c = only_case();
    EXPECT_EQ(c["status"], "paid") << c.dump(2);
    for (const auto& a : c["actions"])
        if (a["kind"] == "paid_out_of_band") {
            EXPECT_EQ(a["state"], "done") << a.dump(2);
        }
}

TEST_F(MarkPaid, InStripeModeNothingIsSentToStripe) {
    boot(config::RetryMode::stripe);
    open_case(decline("lost_card"));
    mark_paid();
    advance_days(30);
    EXPECT_TRUE(pays().empty());
    EXPECT_EQ(stripe->invoice("in_1").status, "open");
    const auto c = only_case();
    EXPECT_EQ(c["status"], "paid");
    for (const auto& a : c["actions"])
        EXPECT_NE(a["kind"], "paid_out_of_band") << a.dump(2);
}

} // namespace
