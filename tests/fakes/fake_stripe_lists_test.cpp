// Webhook endpoints made through the API and the lists a connecting creator needs: events (paged
// both ways, filtered by type, 30 days kept, per account) and open invoices.
#include "fakes/fake_stripe_test_support.hpp"

#include <gtest/gtest.h>

namespace dunning::fakes::testing {
namespace {

using namespace std::chrono_literals;

class FakeStripeLists : public ::testing::Test {
  protected:
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock)};
    Api api{stripe};

    json get(const std::string& path, httplib::Headers extra = {}) {
        auto res = api.get(path, std::move(extra));
        EXPECT_TRUE(res && res->status == 200) << path << ": " << (res ? res->body : "");
        return res ? json::parse(res->body) : json();
    }
    static std::vector<std::string> ids(const json& list) {
        std::vector<std::string> out;
        for (const json& item : list["data"])
            out.push_back(item["id"]);
        return out;
    }
};

TEST_F(FakeStripeLists, CreatedEndpointReceivesItsAccountsEventsSignedWithItsOwnSecret) {
    auto res = api.post("/v1/webhook_endpoints", "we-1",
                        "url=https://creator.example/hook&enabled_events[]=invoice.payment_failed"
                        "&enabled_events[]=invoice.paid&api_version=2025-03-31.basil");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json endpoint = json::parse(res->body);
    EXPECT_TRUE(endpoint["id"].get<std::string>().starts_with("we_"));
    EXPECT_EQ(endpoint["object"], "webhook_endpoint");
    EXPECT_EQ(endpoint["status"], "enabled");
    EXPECT_EQ(endpoint["api_version"], "2025-03-31.basil");
    EXPECT_EQ(endpoint["enabled_events"], (json{"invoice.payment_failed", "invoice.paid"}));
    EXPECT_TRUE(endpoint["secret"].get<std::string>().starts_with("whsec_"));
    EXPECT_EQ(api.post("/v1/webhook_endpoints", "we-1",
                       "url=https://creator.example/hook&enabled_events[]=invoice.payment_failed"
                       "&enabled_events[]=invoice.paid&api_version=2025-03-31.basil")
                  ->get_header_value("Idempotent-Replayed"),
              "true");

    json list = get("/v1/webhook_endpoints");
    EXPECT_EQ(list["object"], "list");
    ASSERT_EQ(list["data"].size(), 1u) << "the replay made none";
    EXPECT_FALSE(list["data"][0].contains("secret")) << "only returned on create";
    auto missing = api.post("/v1/webhook_endpoints", "", "url=https://creator.example/hook");
    EXPECT_EQ(missing->status, 400);
    EXPECT_EQ(json::parse(missing->body)["error"]["param"], "enabled_events");

    ASSERT_EQ(api.del("/v1/webhook_endpoints/" + endpoint["id"].get<std::string>())->status, 200);

    // One that listens to a single type gets that type only; a deleted one gets nothing.
    Receiver listening("whsec_unused");
    Receiver removed("whsec_unused");
    api.post("/v1/webhook_endpoints", "",
             "url=" + listening.url() + "&enabled_events[0]=invoice.payment_failed");
    json gone = json::parse(
        api.post("/v1/webhook_endpoints", "", "url=" + removed.url() + "&enabled_events[]=*")
            ->body);
    api.del("/v1/webhook_endpoints/" + gone["id"].get<std::string>());
    stripe.add_invoice(sample_invoice());
    stripe.fail_invoice("in_1", {"card_declined", "insufficient_funds", "", "", ""});
    EXPECT_EQ(stripe.deliver(), 3u);
    EXPECT_EQ(receiver.deliveries().size(), 3u) << "the main URL still gets everything";
    EXPECT_TRUE(removed.deliveries().empty());
    EXPECT_EQ(listening.types(), std::vector<std::string>{"invoice.payment_failed"});
}

TEST_F(FakeStripeLists, EndpointSecretSignsAndDeleteAnswersDeleted) {
    Receiver hook("whsec_unknown_yet");
    json made = json::parse(
        api.post("/v1/webhook_endpoints", "", "url=" + hook.url() + "&enabled_events[]=*")->body);
    const std::string id = made["id"];
    std::vector<FakeStripe::Endpoint> endpoints = stripe.webhook_endpoints();
    ASSERT_EQ(endpoints.size(), 1u);
    EXPECT_EQ(endpoints[0].secret, made["secret"]);
    stripe.set_webhook_url("");
    stripe.add_invoice(sample_invoice());
    stripe.pay_out_of_band("in_1");
    EXPECT_EQ(stripe.deliver(), 3u);
    for (const Delivery& d : hook.deliveries()) {
        std::string secret = made["secret"];
        EXPECT_TRUE(webhook::verify_signature(d.body, d.signature, {secret},
                                              std::chrono::time_point_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now()))
                        .ok());
    }
    auto deleted = api.del("/v1/webhook_endpoints/" + id);
    EXPECT_EQ(json::parse(deleted->body),
              (json{{"id", id}, {"object", "webhook_endpoint"}, {"deleted", true}}));
    auto twice = api.del("/v1/webhook_endpoints/" + id);
    EXPECT_EQ(twice->status, 404);
    EXPECT_EQ(json::parse(twice->body)["error"]["code"], "resource_missing");
}

TEST_F(FakeStripeLists, EventsPageBothWaysAcrossHasMore) {
    stripe.add_invoice(sample_invoice());
    for (int i = 0; i < 4; ++i) { // 12 events, a second apart at least
        stripe.fail_invoice("in_1", {"card_declined", "do_not_honor", "", "", ""});
        clock.advance(1min);
    }
    json first = get("/v1/events?limit=5");
    EXPECT_EQ(first["url"], "/v1/events");
    EXPECT_TRUE(first["has_more"]);
    std::vector<std::string> all = ids(first);
    std::string cursor = all.back();
    for (;;) {
        json next = get("/v1/events?limit=5&starting_after=" + cursor);
        for (const std::string& id : ids(next))
            all.push_back(id);
        if (!next["has_more"]) break;
        cursor = all.back();
    }
    std::vector<std::string> logged = stripe.event_ids();
    ASSERT_EQ(all.size(), 12u);
    EXPECT_EQ(all, std::vector<std::string>(logged.rbegin(), logged.rend())) << "newest first";

    json newer = get("/v1/events?limit=3&ending_before=" + all[5]);
    EXPECT_EQ(ids(newer), (std::vector<std::string>{all[2], all[3], all[4]}));
    EXPECT_TRUE(newer["has_more"]);
    EXPECT_FALSE(get("/v1/events?limit=3&ending_before=" + all[3])["has_more"]);

    EXPECT_EQ(get("/v1/events?type=invoice.payment_failed")["data"].size(), 4u);
    EXPECT_EQ(get("/v1/events?types[]=charge.failed&types[]=invoice.payment_failed")["data"].size(),
              8u);
    EXPECT_EQ(get("/v1/events?type=invoice.*")["data"].size(), 4u);
    std::string since = std::to_string(to_unix(start_time + 2min));
    EXPECT_EQ(get("/v1/events?limit=100&created[gte]=" + since)["data"].size(), 6u);
    EXPECT_EQ(get("/v1/events?limit=100&created[gt]=" + since)["data"].size(), 5u)
        << "the first of the third batch happened at exactly `since`";
    auto too_many = api.get("/v1/events?limit=101");
    EXPECT_EQ(too_many->status, 400);
    EXPECT_EQ(json::parse(too_many->body)["error"]["param"], "limit");
}

TEST_F(FakeStripeLists, EventsOlderThanThirtyDaysAreGoneAndEachAccountSeesItsOwn) {
    stripe.add_invoice(sample_invoice());
    stripe.fail_invoice("in_1", {"card_declined", "do_not_honor", "", "", ""});
    std::string account = stripe.connect_account();
    FakeInvoice connected = sample_invoice("in_connected");
    connected.account = account;
    connected.customer = "cus_connected";
    stripe.add_invoice(connected);
    clock.advance(std::chrono::days{29});
    stripe.fail_invoice("in_connected", {"card_declined", "expired_card", "", "", ""});
    EXPECT_EQ(get("/v1/events")["data"].size(), 3u);
    json theirs = get("/v1/events", {{"Stripe-Account", account}});
    ASSERT_EQ(theirs["data"].size(), 3u);
    EXPECT_EQ(theirs["data"][0]["account"], account);
    clock.advance(std::chrono::days{1} + 5s); // the three were a second apart
    EXPECT_TRUE(get("/v1/events")["data"].empty()) << "more than 30 days old";
    EXPECT_EQ(get("/v1/events", {{"Stripe-Account", account}})["data"].size(), 3u);
}

TEST_F(FakeStripeLists, OpenInvoicesListWithDunningFieldsAndPaging) {
    for (int i = 1; i <= 3; ++i) {
        FakeInvoice invoice = sample_invoice("in_" + std::to_string(i));
        invoice.collection_method = "send_invoice";
        invoice.due_date = start_time + std::chrono::days{14};
        invoice.next_payment_attempt = start_time + std::chrono::days{3};
        invoice.customer = i == 3 ? "cus_other" : "cus_fake";
        stripe.add_invoice(invoice);
        clock.advance(1h);
    }
    stripe.fail_invoice("in_2", {"card_declined", "insufficient_funds", "", "", ""});
    api.pay("in_1", "pay-1");
    json open = get("/v1/invoices?status=open");
    EXPECT_EQ(open["object"], "list");
    EXPECT_EQ(open["url"], "/v1/invoices");
    EXPECT_EQ(ids(open), (std::vector<std::string>{"in_3", "in_2"})) << "newest first";
    const json& in2 = open["data"][1];
    EXPECT_EQ(in2["attempt_count"], 1);
    EXPECT_EQ(in2["collection_method"], "send_invoice");
    EXPECT_EQ(in2["due_date"], to_unix(start_time + std::chrono::days{14}));
    EXPECT_EQ(in2["next_payment_attempt"], to_unix(start_time + std::chrono::days{3}));
    EXPECT_EQ(in2["customer_email"], "member@example.org");
    EXPECT_EQ(in2["customer_name"], "Mia Member");
    EXPECT_EQ(in2["lines"]["data"][0]["price"]["product"], "prod_fake");

    EXPECT_EQ(ids(get("/v1/invoices?status=open&customer=cus_fake")),
              std::vector<std::string>{"in_2"});
    json page = get("/v1/invoices?limit=1");
    EXPECT_TRUE(page["has_more"]);
    EXPECT_EQ(ids(get("/v1/invoices?limit=5&starting_after=in_3")),
              (std::vector<std::string>{"in_2", "in_1"}));
    EXPECT_TRUE(get("/v1/invoices?status=open", {{"Stripe-Account", "acct_none"}})["data"].empty());
    EXPECT_EQ(api.get("/v1/invoices?status=late")->status, 400);
}

} // namespace
} // namespace dunning::fakes::testing
