// The fake Stripe's API and webhook delivery: answers in Stripe's wire format, idempotent
// replays, scripted outages, SEPA settlement by the test clock, and signed deliveries.
#include "fakes/fake_stripe_test_support.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace dunning::fakes::testing {
namespace {

using Strings = std::vector<std::string>;
using namespace std::chrono_literals;

class FakeStripeTest : public ::testing::Test {
  protected:
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock)};
    Api api{stripe};

    void SetUp() override { stripe.add_invoice(sample_invoice()); }
};

TEST_F(FakeStripeTest, DeclineAnswers402WithStripesCardErrorAndQueuesThreeSignedEvents) {
    stripe.script_pay(
        "in_1", {ScriptedPay::declined("insufficient_funds", "card_declined", "try_again_later")});
    auto res = api.pay("in_1", "in_1-attempt-1");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 402);
    EXPECT_EQ(res->get_header_value("Stripe-Should-Retry"), "false");
    EXPECT_TRUE(res->has_header("Request-Id"));
    json error = json::parse(res->body).at("error");
    EXPECT_EQ(error["type"], "card_error");
    EXPECT_EQ(error["code"], "card_declined");
    EXPECT_EQ(error["decline_code"], "insufficient_funds");
    EXPECT_EQ(error["advice_code"], "try_again_later");
    EXPECT_EQ(error["message"], "Your card has insufficient funds.");
    EXPECT_EQ(error["doc_url"], "https://stripe.com/docs/error-codes/card-declined");
    EXPECT_EQ(error["charge"].get<std::string>().substr(0, 3), "ch_");
    EXPECT_EQ(error["payment_intent"]["status"], "requires_payment_method");
    EXPECT_EQ(error["payment_intent"]["last_payment_error"]["decline_code"], "insufficient_funds");
    EXPECT_EQ(error["payment_method"]["card"]["brand"], "visa");
    EXPECT_EQ(stripe.invoice("in_1").attempt_count, 1);
    EXPECT_EQ(stripe.invoice("in_1").status, "open");

    EXPECT_EQ(stripe.deliver(), 3u);
    auto deliveries = receiver.deliveries();
    ASSERT_EQ(deliveries.size(), 3u);
    EXPECT_EQ(receiver.types(), (Strings{"charge.failed", "payment_intent.payment_failed",
                                         "invoice.payment_failed"}));
    for (const Delivery& d : deliveries) {
        EXPECT_TRUE(d.signature_valid) << d.signature;
        EXPECT_EQ(d.content_type, "application/json; charset=utf-8");
        json event = d.event();
        EXPECT_EQ(event["object"], "event");
        EXPECT_EQ(event["api_version"], "2020-08-27");
        EXPECT_EQ(event["livemode"], false);
        EXPECT_EQ(event["pending_webhooks"], 1);
        EXPECT_EQ(event["request"]["idempotency_key"], "in_1-attempt-1");
        EXPECT_FALSE(event.contains("account"));
    }
    json invoice = deliveries[2].event()["data"]["object"];
    EXPECT_EQ(invoice["attempt_count"], 1);
    EXPECT_EQ(invoice["payment_intent"], error["payment_intent"]["id"]);
    EXPECT_EQ(invoice["charge"], error["charge"]);
    EXPECT_EQ(invoice["hosted_invoice_url"], "https://invoice.stripe.com/i/acct_fake/test_in_1");
    EXPECT_EQ(invoice["number"], "FAKE-0001");
    EXPECT_TRUE(stripe.queued_types().empty());
}

TEST_F(FakeStripeTest, SuccessPaysTheInvoiceAndQueuesPaymentAndInvoiceEvents) {
    auto res = api.pay("in_1", "k1");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    json invoice = json::parse(res->body);
    EXPECT_EQ(invoice["status"], "paid");
    EXPECT_EQ(invoice["amount_remaining"], 0);
    EXPECT_EQ(invoice["attempt_count"], 1);
    EXPECT_EQ(stripe.invoice("in_1").status, "paid");
    EXPECT_EQ(stripe.invoice("in_1").payment_intent.substr(0, 3), "pi_");
    EXPECT_EQ(stripe.queued_types(),
              (Strings{"payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded"}));
    EXPECT_EQ(stripe.deliver(), 3u);

    auto again = api.pay("in_1", "k2");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 400);
    json error = json::parse(again->body)["error"];
    EXPECT_EQ(error["type"], "invalid_request_error");
    EXPECT_EQ(error["message"], "Invoice is already paid");
    EXPECT_EQ(stripe.pay_executions("in_1"), 1);
}

TEST_F(FakeStripeTest, RepeatedIdempotencyKeyReplaysTheSavedAnswerWithoutExecuting) {
    stripe.script_pay("in_1", {ScriptedPay::declined("do_not_honor"), ScriptedPay::success()});
    auto first = api.pay("in_1", "same-key");
    auto second = api.pay("in_1", "same-key");
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->status, 402);
    EXPECT_EQ(second->status, 402);
    EXPECT_EQ(first->body, second->body);
    EXPECT_FALSE(first->has_header("Idempotent-Replayed"));
    EXPECT_EQ(second->get_header_value("Idempotent-Replayed"), "true");
    EXPECT_EQ(first->get_header_value("Request-Id"), second->get_header_value("Request-Id"));
    EXPECT_EQ(stripe.pay_executions("in_1"), 1);
    EXPECT_EQ(stripe.invoice("in_1").attempt_count, 1);
    EXPECT_EQ(stripe.queued_types().size(), 3u);
    auto recorded = stripe.requests_to("/v1/invoices/in_1/pay");
    ASSERT_EQ(recorded.size(), 2u);
    EXPECT_FALSE(recorded[0].idempotent_replay);
    EXPECT_TRUE(recorded[1].idempotent_replay);

    // Same key, other parameters: Stripe refuses rather than replaying.
    auto other = api.pay("in_1", "same-key", "pm_card_visa");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 400);
    EXPECT_EQ(json::parse(other->body)["error"]["type"], "idempotency_error");
    EXPECT_EQ(stripe.pay_executions("in_1"), 1);
}

TEST_F(FakeStripeTest, ServerErrorsAreNotSavedSoARetryWithTheSameKeyRunsTheNextStep) {
    stripe.script_pay("in_1", {ScriptedPay::status_code(500), ScriptedPay::status_code(429),
                               ScriptedPay::success()});
    auto failed = api.pay("in_1", "k");
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status, 500);
    EXPECT_EQ(failed->get_header_value("Stripe-Should-Retry"), "true");
    EXPECT_EQ(json::parse(failed->body)["error"]["type"], "api_error");
    EXPECT_EQ(stripe.pay_executions("in_1"), 0);
    EXPECT_EQ(stripe.invoice("in_1").attempt_count, 0);
    EXPECT_TRUE(stripe.queued_types().empty());

    auto limited = api.pay("in_1", "k");
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->status, 429);
    EXPECT_EQ(limited->get_header_value("Stripe-Should-Retry"), "true");
    EXPECT_EQ(json::parse(limited->body)["error"]["code"], "rate_limit");

    auto retried = api.pay("in_1", "k");
    ASSERT_TRUE(retried);
    EXPECT_EQ(retried->status, 200);
    EXPECT_FALSE(retried->has_header("Idempotent-Replayed"));
    EXPECT_EQ(stripe.pay_executions("in_1"), 1);
    EXPECT_EQ(stripe.invoice("in_1").status, "paid");
}

TEST_F(FakeStripeTest, SlowAnswerIsExecutedOnceAndTheRetryAfterATimeoutIsReplayed) {
    ScriptedPay slow = ScriptedPay::success();
    slow.delay = 800ms;
    stripe.script_pay("in_1", {slow});
    api.client().set_read_timeout(0, 200'000); // 200 ms: gives up before the answer
    auto timed_out = api.pay("in_1", "slow-key");
    EXPECT_FALSE(timed_out);
    api.client().set_read_timeout(5);
    auto retried = api.pay("in_1", "slow-key");
    ASSERT_TRUE(retried);
    EXPECT_EQ(retried->status, 200);
    EXPECT_EQ(retried->get_header_value("Idempotent-Replayed"), "true");
    EXPECT_EQ(stripe.pay_executions("in_1"), 1);
}

TEST_F(FakeStripeTest, RefusesRequestsWithoutTheSecretKey) {
    httplib::Client anonymous(stripe.base_url());
    auto none = anonymous.Post("/v1/invoices/in_1/pay", "off_session=true",
                               "application/x-www-form-urlencoded");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401);
    EXPECT_EQ(json::parse(none->body)["error"]["type"], "invalid_request_error");
    auto wrong = anonymous.Get("/v1/invoices/in_1", {{"Authorization", "Bearer sk_test_wrong"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_NE(json::parse(wrong->body)["error"]["message"].get<std::string>().find(
                  "Invalid API Key provided"),
              std::string::npos);
    EXPECT_EQ(stripe.pay_executions("in_1"), 0);
    EXPECT_EQ(stripe.requests().size(), 2u);
}

TEST_F(FakeStripeTest, UnknownObjectsAnswer404ResourceMissing) {
    for (const std::string path :
         {"/v1/invoices/in_nope", "/v1/customers/cus_nope", "/v1/payment_methods/pm_nope"}) {
        auto res = api.get(path);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 404) << path;
        json error = json::parse(res->body)["error"];
        EXPECT_EQ(error["code"], "resource_missing");
        EXPECT_EQ(error["type"], "invalid_request_error");
    }
    auto pay = api.pay("in_nope", "k");
    ASSERT_TRUE(pay);
    EXPECT_EQ(pay->status, 404);
    EXPECT_EQ(json::parse(pay->body)["error"]["message"], "No such invoice: 'in_nope'");
    auto route = api.get("/v1/charges");
    ASSERT_TRUE(route);
    EXPECT_EQ(route->status, 404);
    EXPECT_EQ(json::parse(route->body)["error"]["type"], "invalid_request_error");
}

TEST_F(FakeStripeTest, RecordsRequestsWithHeadersAndFormAndFiltersByPath) {
    api.get("/v1/invoices/in_1", {{"Stripe-Version", "2025-03-31.basil"}});
    api.pay("in_1", "key-1", "pm_card_visa", {{"Stripe-Version", "2025-03-31.basil"}});
    api.get("/v1/customers/cus_fake");
    EXPECT_EQ(stripe.requests().size(), 3u);
    EXPECT_EQ(stripe.requests_to("/v1/invoices").size(), 2u);
    auto pays = stripe.requests_to("/v1/invoices/in_1/pay");
    ASSERT_EQ(pays.size(), 1u);
    const RecordedRequest& pay = pays[0];
    EXPECT_EQ(pay.method, "POST");
    EXPECT_EQ(pay.headers.at("Idempotency-Key"), "key-1");
    EXPECT_EQ(pay.headers.at("Authorization"), "Bearer " + secret_key);
    EXPECT_EQ(pay.headers.at("Stripe-Version"), "2025-03-31.basil");
    EXPECT_EQ(pay.form.at("off_session"), "true");
    EXPECT_EQ(pay.form.at("payment_method"), "pm_card_visa");
    EXPECT_TRUE(stripe.requests_to("/v1/subscriptions").empty());
}

TEST_F(FakeStripeTest, AnswersInTheShapeOfTheRequestedApiVersion) {
    auto basil = api.get("/v1/invoices/in_1", {{"Stripe-Version", "2025-03-31.basil"}});
    auto legacy = api.get("/v1/invoices/in_1");
    ASSERT_TRUE(basil && legacy);
    json current = json::parse(basil->body);
    EXPECT_FALSE(current.contains("subscription"));
    EXPECT_EQ(current["parent"]["subscription_details"]["subscription"], "sub_fake");
    EXPECT_EQ(json::parse(legacy->body)["subscription"], "sub_fake");

    api.pay("in_1", "k");
    auto expanded =
        api.get("/v1/invoices/in_1?expand[]=payments", {{"Stripe-Version", "2025-03-31.basil"}});
    ASSERT_TRUE(expanded);
    json payment = json::parse(expanded->body)["payments"]["data"][0];
    EXPECT_EQ(payment["payment"]["payment_intent"], stripe.invoice("in_1").payment_intent);
    EXPECT_EQ(payment["status"], "paid");
}

TEST_F(FakeStripeTest, AttachingAPaymentMethodQueuesAttachedAndCustomerUpdated) {
    stripe.attach_payment_method("cus_fake", "pm_new_mc");
    EXPECT_EQ(stripe.deliver(), 2u);
    auto deliveries = receiver.deliveries();
    ASSERT_EQ(deliveries.size(), 2u);
    json attached = deliveries[0].event();
    EXPECT_EQ(attached["type"], "payment_method.attached");
    EXPECT_EQ(attached["data"]["object"]["card"]["brand"], "mastercard");
    EXPECT_EQ(attached["data"]["object"]["customer"], "cus_fake");
    json updated = deliveries[1].event();
    EXPECT_EQ(updated["type"], "customer.updated");
    EXPECT_EQ(updated["data"]["object"]["invoice_settings"]["default_payment_method"], "pm_new_mc");
    EXPECT_EQ(updated["data"]["previous_attributes"]["invoice_settings"]["default_payment_method"],
              "pm_card_visa");

    auto method = api.get("/v1/payment_methods/pm_new_mc");
    ASSERT_TRUE(method);
    EXPECT_EQ(json::parse(method->body)["card"]["brand"], "mastercard");
    auto customer = api.get("/v1/customers/cus_fake");
    ASSERT_TRUE(customer);
    EXPECT_EQ(json::parse(customer->body)["invoice_settings"]["default_payment_method"],
              "pm_new_mc");

    auto paid = api.pay("in_1", "k", "pm_new_mc");
    ASSERT_TRUE(paid);
    EXPECT_EQ(paid->status, 200);
    stripe.deliver();
    json intent = receiver.deliveries()[2].event()["data"]["object"];
    EXPECT_EQ(intent["payment_method"], "pm_new_mc");

    stripe.add_invoice(sample_invoice("in_2"));
    auto unknown = api.pay("in_2", "k2", "pm_unknown");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 400);
    EXPECT_EQ(json::parse(unknown->body)["error"]["param"], "payment_method");
    EXPECT_EQ(stripe.pay_executions("in_2"), 0);
}

TEST_F(FakeStripeTest, EventCreationTimesStrictlyIncrease) {
    stripe.fail_invoice("in_1", {"card_declined", "generic_decline", "", "", ""});
    stripe.pay_out_of_band("in_1");
    stripe.deliver();
    std::int64_t previous = 0;
    for (const Delivery& d : receiver.deliveries()) {
        std::int64_t created = d.event()["created"];
        EXPECT_GT(created, previous);
        EXPECT_GE(created, to_unix(start_time));
        previous = created;
    }
    EXPECT_EQ(receiver.deliveries().size(), 6u);
}

TEST_F(FakeStripeTest, DuplicateAndReverseDelivery) {
    api.pay("in_1", "k");
    stripe.set_delivery({.duplicate = true, .reverse = true});
    EXPECT_EQ(stripe.deliver(), 3u);
    Strings reversed = {"invoice.payment_succeeded", "invoice.paid", "payment_intent.succeeded"};
    Strings expected = reversed;
    expected.insert(expected.end(), reversed.begin(), reversed.end());
    EXPECT_EQ(receiver.types(), expected);
    auto deliveries = receiver.deliveries();
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(deliveries[i].event()["id"], deliveries[i + 3].event()["id"]);
    EXPECT_TRUE(stripe.queued_types().empty());
}

TEST_F(FakeStripeTest, EventsAnsweredWithAnErrorStayQueuedInOrder) {
    api.pay("in_1", "k");
    receiver.status = 500;
    EXPECT_EQ(stripe.deliver(), 0u);
    EXPECT_EQ(receiver.deliveries().size(), 3u);
    EXPECT_EQ(stripe.queued_types(),
              (Strings{"payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded"}));
    receiver.status = 200;
    receiver.clear();
    EXPECT_EQ(stripe.deliver(), 3u);
    EXPECT_EQ(receiver.types(),
              (Strings{"payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded"}));
    EXPECT_TRUE(stripe.queued_types().empty());
    EXPECT_EQ(stripe.deliver(), 0u);
}

TEST(FakeStripeDelivery, UnreachableServiceKeepsEventsQueued) {
    FakeClock clock{start_time};
    std::string url;
    {
        Receiver gone;
        url = gone.url();
    }
    FakeStripe stripe{secret_key, WebhookTarget{url, webhook_secret, [&] { return clock.now(); }}};
    stripe.add_invoice(sample_invoice());
    stripe.pay_out_of_band("in_1");
    EXPECT_EQ(stripe.deliver(), 0u);
    EXPECT_EQ(stripe.queued_types().size(), 3u);
}

TEST(FakeStripeShapes, BasilEventsCarryParentNotTopLevelSubscription) {
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock, "2025-03-31.basil")};
    stripe.add_invoice(sample_invoice());
    stripe.fail_invoice("in_1", {"card_declined", "insufficient_funds", "", "", ""});
    EXPECT_EQ(stripe.deliver(), 3u);
    auto deliveries = receiver.deliveries();
    ASSERT_EQ(deliveries.size(), 3u);
    json event = deliveries[2].event();
    EXPECT_EQ(event["api_version"], "2025-03-31.basil");
    EXPECT_EQ(event["request"]["id"], nullptr);
    json invoice = event["data"]["object"];
    for (const char* gone : {"subscription", "charge", "payment_intent", "paid"})
        EXPECT_FALSE(invoice.contains(gone)) << gone;
    EXPECT_EQ(invoice["parent"]["subscription_details"]["subscription"], "sub_fake");
    EXPECT_EQ(invoice["lines"]["data"][0]["pricing"]["price_details"]["product"], "prod_fake");
    EXPECT_FALSE(invoice["lines"]["data"][0].contains("price"));
    json intent = deliveries[1].event()["data"]["object"];
    EXPECT_FALSE(intent.contains("invoice"));
    EXPECT_FALSE(intent.contains("charges"));
    EXPECT_EQ(intent["latest_charge"], deliveries[0].event()["data"]["object"]["id"]);
    EXPECT_FALSE(deliveries[0].event()["data"]["object"].contains("invoice"));
}

TEST(FakeStripeShapes, ConnectInvoicesNeedStripeAccountAndTheirEventsCarryIt) {
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock)};
    FakeInvoice invoice = sample_invoice();
    invoice.account = "acct_creator";
    stripe.add_invoice(invoice);
    Api api{stripe};
    auto without = api.pay("in_1", "k");
    ASSERT_TRUE(without);
    EXPECT_EQ(without->status, 404);
    auto with = api.pay("in_1", "k2", "", {{"Stripe-Account", "acct_creator"}});
    ASSERT_TRUE(with);
    EXPECT_EQ(with->status, 200);
    stripe.deliver();
    for (const Delivery& d : receiver.deliveries())
        EXPECT_EQ(d.event()["account"], "acct_creator");
}

} // namespace
} // namespace dunning::fakes::testing
