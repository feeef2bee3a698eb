// The real contract: every webhook the fake sends, in both API shapes, reads through the
// module's own parser (webhook::parse_event) as the event it stands for, with the right ids and
// decline codes. Also SEPA settlement by the clock, the Events API and the other endpoints.
#include "fakes/fake_stripe_test_support.hpp"
#include "webhook/event_parser.hpp"

#include <gtest/gtest.h>

namespace dunning::fakes::testing {
namespace {

using namespace std::chrono_literals;

class FakeStripeContract : public ::testing::TestWithParam<std::string> {
  protected:
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock, GetParam())};
    Api api{stripe};
    bool basil() const { return GetParam() != "2020-08-27"; }

    void SetUp() override {
        stripe.add_invoice(sample_invoice("in_card"));
        FakeInvoice sepa = sample_invoice("in_sepa");
        sepa.customer = "cus_sepa";
        sepa.subscription = "sub_sepa";
        sepa.product = "prod_sepa";
        sepa.default_payment_method = "pm_sepa";
        sepa.method = PaymentMethodKind::sepa_debit;
        stripe.add_invoice(sepa);
    }

    // Delivers what is queued and reads each delivery with the module's parser.
    std::vector<Event> delivered() {
        receiver.clear();
        stripe.deliver();
        std::vector<Event> events;
        for (const Delivery& d : receiver.deliveries()) {
            EXPECT_TRUE(d.signature_valid);
            auto parsed = webhook::parse_event(d.body);
            if (!parsed.ok()) {
                ADD_FAILURE() << d.type() << ": " << parsed.error();
                continue;
            }
            auto* event = std::get_if<Event>(&parsed.value());
            if (!event) {
                ADD_FAILURE() << d.type()
                              << " ignored: " << std::get<webhook::Ignored>(parsed.value()).reason;
                continue;
            }
            events.push_back(*event);
        }
        return events;
    }

    static std::vector<EventKind> kinds(const std::vector<Event>& events) {
        std::vector<EventKind> k;
        for (const Event& e : events)
            k.push_back(e.kind);
        return k;
    }

    template <class Facts> static const Facts& facts(const Event& e) {
        static const Facts none{};
        const Facts* f = std::get_if<Facts>(&e.facts);
        EXPECT_TRUE(f) << e.type << " carries other facts";
        return f ? *f : none;
    }

    // Checks what every payment event must say about the attempt.
    void expect_payment(const Event& e, const std::string& invoice, const std::string& customer,
                        PaymentMethodKind method) {
        const auto& p = facts<PaymentFacts>(e);
        FakeInvoice now = stripe.invoice(invoice);
        EXPECT_EQ(p.payment_intent_id, now.payment_intent) << e.type;
        EXPECT_EQ(p.charge_id.substr(0, 3), "ch_") << e.type;
        EXPECT_EQ(p.customer_id, customer) << e.type;
        EXPECT_EQ(p.invoice_id, basil() ? "" : invoice) << e.type;
        // A current intent names its method by id only (and no charge is expanded), so its
        // kind is known only from an error's payment_method; payment_method_types is not read.
        bool names_kind = !basil() || e.kind == EventKind::payment_failed;
        if (names_kind) {
            EXPECT_EQ(p.method, method) << e.type;
        }
        EXPECT_EQ(p.amount, 4900);
        EXPECT_EQ(p.currency, "eur");
    }

    void expect_invoice(const Event& e, const std::string& invoice, const std::string& status,
                        int attempts, const std::string& subscription, const std::string& product) {
        const auto& i = facts<InvoiceFacts>(e);
        EXPECT_EQ(i.invoice_id, invoice) << e.type;
        EXPECT_EQ(i.status, status) << e.type;
        EXPECT_EQ(i.attempt_count, attempts) << e.type;
        EXPECT_EQ(i.subscription_id, subscription) << e.type;
        EXPECT_EQ(i.products, std::vector<std::string>{product}) << e.type;
        EXPECT_EQ(i.customer_email, "member@example.org");
        EXPECT_EQ(i.customer_name, "Mia Member");
        EXPECT_EQ(i.amount_due, 4900);
        EXPECT_EQ(i.currency, "eur");
        EXPECT_EQ(i.hosted_invoice_url, "https://invoice.stripe.com/i/acct_fake/test_" + invoice);
        EXPECT_FALSE(i.next_payment_attempt);
        bool links_payment = !basil() || e.kind == EventKind::invoice_paid;
        if (links_payment) {
            EXPECT_EQ(i.payment_intent_id, stripe.invoice(invoice).payment_intent) << e.type;
        } else {
            EXPECT_EQ(i.payment_intent_id, "") << e.type;
        }
    }
};

using K = EventKind;

TEST_P(FakeStripeContract, StripesOwnFailedAttemptReadsAsFailureWithDeclineCodes) {
    stripe.fail_invoice("in_card",
                        {"card_declined", "insufficient_funds", "try_again_later", "", ""});
    auto events = delivered();
    ASSERT_EQ(kinds(events),
              (std::vector{K::payment_failed, K::payment_failed, K::invoice_payment_failed}));
    for (int i = 0; i < 2; ++i) {
        expect_payment(events[i], "in_card", "cus_fake", PaymentMethodKind::card);
        const auto& p = facts<PaymentFacts>(events[i]);
        EXPECT_EQ(p.error.code, "card_declined");
        EXPECT_EQ(p.error.decline_code, "insufficient_funds");
        EXPECT_EQ(p.error.advice_code, "try_again_later");
        EXPECT_EQ(p.error.message, "Your card has insufficient funds.");
        EXPECT_EQ(p.card_brand, "visa");
        EXPECT_EQ(p.payment_method_id, "pm_card_visa");
    }
    expect_invoice(events[2], "in_card", "open", 1, "sub_fake", "prod_fake");
    EXPECT_EQ(facts<InvoiceFacts>(events[2]).number, "FAKE-0001");
}

TEST_P(FakeStripeContract, DeclinedPayWithACodeOnlyReadsTheSameWay) {
    stripe.script_pay("in_card", {ScriptedPay::declined("", "expired_card")});
    auto res = api.pay("in_card", "k");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 402);
    auto events = delivered();
    ASSERT_EQ(events.size(), 3u);
    for (int i = 0; i < 2; ++i) {
        const auto& p = facts<PaymentFacts>(events[i]);
        EXPECT_EQ(p.error.reason(), "expired_card") << events[i].type;
        EXPECT_EQ(p.error.decline_code, "") << events[i].type;
    }
    expect_invoice(events[2], "in_card", "open", 1, "sub_fake", "prod_fake");
}

TEST_P(FakeStripeContract, SuccessfulPayReadsAsPaid) {
    ASSERT_EQ(api.pay("in_card", "k")->status, 200);
    auto events = delivered();
    ASSERT_EQ(kinds(events), (std::vector{K::payment_succeeded, K::invoice_paid, K::invoice_paid}));
    expect_payment(events[0], "in_card", "cus_fake", PaymentMethodKind::card);
    EXPECT_TRUE(facts<PaymentFacts>(events[0]).error.code.empty());
    expect_invoice(events[1], "in_card", "paid", 1, "sub_fake", "prod_fake");
    expect_invoice(events[2], "in_card", "paid", 1, "sub_fake", "prod_fake");
}

TEST_P(FakeStripeContract, SepaDebitIsProcessingUntilTheClockPassesItsSettleTime) {
    stripe.script_pay("in_sepa", {ScriptedPay::sepa(true, "account_closed", 48h)});
    auto res = api.pay("in_sepa", "k");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(json::parse(res->body)["status"], "open");
    EXPECT_EQ(stripe.invoice("in_sepa").attempt_count, 1);
    auto processing = delivered();
    ASSERT_EQ(kinds(processing), std::vector{K::payment_processing});
    expect_payment(processing[0], "in_sepa", "cus_sepa", PaymentMethodKind::sepa_debit);

    clock.advance(47h);
    EXPECT_EQ(stripe.settle(), 0u);
    clock.advance(1h);
    EXPECT_EQ(stripe.settle(), 1u);
    EXPECT_EQ(stripe.settle(), 0u);
    auto failed = delivered();
    ASSERT_EQ(kinds(failed),
              (std::vector{K::payment_failed, K::payment_failed, K::invoice_payment_failed}));
    for (int i = 0; i < 2; ++i) {
        expect_payment(failed[i], "in_sepa", "cus_sepa", PaymentMethodKind::sepa_debit);
        const auto& p = facts<PaymentFacts>(failed[i]);
        EXPECT_EQ(p.error.code, "account_closed") << failed[i].type;
        EXPECT_EQ(p.error.decline_code, "") << failed[i].type;
        EXPECT_EQ(p.payment_method_id, "pm_sepa");
    }
    expect_invoice(failed[2], "in_sepa", "open", 1, "sub_sepa", "prod_sepa");
    for (const Event& e : failed)
        EXPECT_GE(e.created, clock.now());
}

TEST_P(FakeStripeContract, PlainScriptsOnASepaInvoiceSettleLikeSepa) {
    stripe.script_pay("in_sepa",
                      {ScriptedPay::declined("insufficient_funds"), ScriptedPay::success()});
    ASSERT_EQ(api.pay("in_sepa", "k1")->status, 200);
    ASSERT_EQ(api.pay("in_sepa", "k2")->status, 200);
    EXPECT_EQ(kinds(delivered()), (std::vector{K::payment_processing, K::payment_processing}));
    clock.advance(std::chrono::days{3});
    EXPECT_EQ(stripe.settle(), 2u);
    auto events = delivered();
    ASSERT_EQ(kinds(events),
              (std::vector{K::payment_failed, K::payment_failed, K::invoice_payment_failed,
                           K::payment_succeeded, K::invoice_paid, K::invoice_paid}));
    EXPECT_EQ(facts<PaymentFacts>(events[0]).error.code, "insufficient_funds");
    EXPECT_EQ(facts<PaymentFacts>(events[0]).method, PaymentMethodKind::sepa_debit);
    EXPECT_EQ(stripe.invoice("in_sepa").status, "paid");
    expect_invoice(events[5], "in_sepa", "paid", 2, "sub_sepa", "prod_sepa");
}

TEST_P(FakeStripeContract, NewDefaultPaymentMethodReadsAsAttachedAndChanged) {
    stripe.attach_payment_method("cus_fake", "pm_new_card", "mastercard");
    auto events = delivered();
    ASSERT_EQ(kinds(events),
              (std::vector{K::payment_method_attached, K::default_payment_method_changed}));
    for (const Event& e : events) {
        const auto& m = facts<PaymentMethodFacts>(e);
        EXPECT_EQ(m.customer_id, "cus_fake");
        EXPECT_EQ(m.payment_method_id, "pm_new_card");
    }
    EXPECT_EQ(facts<PaymentMethodFacts>(events[0]).method, PaymentMethodKind::card);
    EXPECT_EQ(facts<PaymentMethodFacts>(events[0]).card_exp_year, 2030);
}

TEST_P(FakeStripeContract, OutOfBandPaymentUncollectibleAndCancellationRead) {
    stripe.pay_out_of_band("in_card");
    ASSERT_EQ(kinds(delivered()),
              (std::vector{K::payment_succeeded, K::invoice_paid, K::invoice_paid}));

    auto marked = api.post("/v1/invoices/in_sepa/mark_uncollectible", "mu-1");
    ASSERT_TRUE(marked);
    EXPECT_EQ(json::parse(marked->body)["status"], "uncollectible");
    auto canceled = api.del("/v1/subscriptions/sub_sepa");
    ASSERT_TRUE(canceled);
    EXPECT_EQ(json::parse(canceled->body)["status"], "canceled");
    auto events = delivered();
    ASSERT_EQ(kinds(events),
              (std::vector{K::invoice_marked_uncollectible, K::subscription_deleted}));
    expect_invoice(events[0], "in_sepa", "uncollectible", 0, "sub_sepa", "prod_sepa");
    const auto& sub = facts<SubscriptionFacts>(events[1]);
    EXPECT_EQ(sub.subscription_id, "sub_sepa");
    EXPECT_EQ(sub.customer_id, "cus_sepa");
    EXPECT_EQ(sub.status, "canceled");
    EXPECT_EQ(sub.products, std::vector<std::string>{"prod_sepa"});
}

TEST_P(FakeStripeContract, PayWithPaidOutOfBandMarksPaidWithoutAChargeAndSendsInvoicePaid) {
    auto paid = api.post("/v1/invoices/in_card/pay", "oob-1", "paid_out_of_band=true");
    ASSERT_TRUE(paid);
    ASSERT_EQ(paid->status, 200) << paid->body;
    EXPECT_EQ(json::parse(paid->body)["status"], "paid");
    EXPECT_EQ(stripe.pay_executions("in_card"), 0) << "no charge";
    auto events = delivered();
    ASSERT_EQ(kinds(events), (std::vector{K::invoice_paid}));
    expect_invoice(events[0], "in_card", "paid", 0, "sub_fake", "prod_fake");

    auto again = api.post("/v1/invoices/in_card/pay", "oob-2", "paid_out_of_band=true");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 400);
    EXPECT_EQ(json::parse(again->body)["error"]["message"], "Invoice is already paid");
    EXPECT_TRUE(delivered().empty());
}

TEST_P(FakeStripeContract, EventsApiListsNewestFirstWithPaging) {
    stripe.fail_invoice("in_card", {"card_declined", "do_not_honor", "", "", ""}); // 3 events
    clock.advance(1h);
    api.pay("in_card", "k"); // 3 more, an hour later
    auto page = api.get("/v1/events?limit=4");
    ASSERT_TRUE(page);
    json list = json::parse(page->body);
    EXPECT_EQ(list["object"], "list");
    EXPECT_EQ(list["url"], "/v1/events");
    EXPECT_TRUE(list["has_more"]);
    ASSERT_EQ(list["data"].size(), 4u);
    EXPECT_EQ(list["data"][0]["type"], "invoice.payment_succeeded");
    for (std::size_t i = 1; i < 4; ++i)
        EXPECT_LT(list["data"][i]["created"], list["data"][i - 1]["created"]);
    std::string last = list["data"][3]["id"];
    json rest = json::parse(api.get("/v1/events?limit=4&starting_after=" + last)->body);
    EXPECT_FALSE(rest["has_more"]);
    ASSERT_EQ(rest["data"].size(), 2u);
    EXPECT_EQ(rest["data"][1]["type"], "charge.failed");
    std::string since = std::to_string(to_unix(start_time + 1h));
    json recent = json::parse(api.get("/v1/events?created[gte]=" + since)->body);
    EXPECT_EQ(recent["data"].size(), 3u);
    // Connect events live with their account: the platform's own list has none of them.
    auto other = api.get("/v1/events", {{"Stripe-Account", "acct_other"}});
    EXPECT_TRUE(json::parse(other->body)["data"].empty());
}

INSTANTIATE_TEST_SUITE_P(ApiVersions, FakeStripeContract,
                         ::testing::Values("2020-08-27", "2025-03-31.basil"), [](const auto& info) {
                             return info.param == "2020-08-27" ? std::string("legacy")
                                                               : std::string("basil");
                         });

} // namespace
} // namespace dunning::fakes::testing
