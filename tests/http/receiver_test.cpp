// The webhook receiver and the creator API over real HTTP on loopback with a real SQLite file.
#include "support/service.hpp"
#include "support/store_queries.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

class Receiver : public ::testing::Test {
  protected:
    TempDir dir;
    config::Config cfg = test_config(dir.path());
    std::unique_ptr<Service> service = std::make_unique<Service>(cfg);

    httplib::Result send(const json& event, const std::string& creator = "alpha",
                         const std::string& secret = alpha_secret) {
        auto cli = service->client();
        return post_signed(cli, "/webhooks/stripe/" + creator, event.dump(), secret);
    }
    json cases(const std::string& status = "all", const std::string& creator = "alpha",
               const std::string& token = alpha_token) {
        service->drain();
        auto cli = service->client();
        auto r = get_with_token(cli, "/v1/creators/" + creator + "/cases?status=" + status, token);
        EXPECT_EQ(r->status, 200) << r->body;
        return json::parse(r->body)["data"];
    }
    json case_detail(std::int64_t id) {
        auto cli = service->client();
        auto r = get_with_token(cli, "/v1/creators/alpha/cases/" + std::to_string(id), alpha_token);
        EXPECT_EQ(r->status, 200) << r->body;
        return json::parse(r->body);
    }
    std::int64_t inbox_count(const std::string& where = "1") {
        auto db = connect_to_store(cfg.storage.sqlite_path);
        return query_int(*db, "SELECT count(*) FROM inbox WHERE " + where);
    }
};

TEST_F(Receiver, AcceptsEveryStripeFixtureAndProcessesNoneAsPoison) {
    std::set<std::string> sent; // event ids, one per fixture file
    for (const auto& entry :
         std::filesystem::directory_iterator(fixtures_dir() / "api-2020-08-27")) {
        if (entry.path().extension() != ".json") continue;
        const auto event = fixture(entry.path().stem().string());
        auto r = send(event);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200) << entry.path() << ": " << r->body;
        sent.insert(event["id"].get<std::string>());
    }
    ASSERT_FALSE(sent.empty()) << "no fixture in " << fixtures_dir();
    service->drain();
    std::set<std::string> stored;
    auto db = connect_to_store(cfg.storage.sqlite_path);
    for (const auto& row : query_rows(*db, "SELECT event_id FROM inbox"))
        stored.insert(row[0]);
    EXPECT_EQ(stored, sent);
    EXPECT_EQ(inbox_count("state = 'pending'"), 0);
    EXPECT_EQ(inbox_count("state = 'poison'"), 0);
}

TEST_F(Receiver, FailedInvoiceOpensACaseWithEverythingDunningNeeds) {
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    ASSERT_EQ(send(fixture("payment_intent.payment_failed"))->status, 200);
    const auto open = cases("open");
    ASSERT_EQ(open.size(), 1u) << open.dump(2);
    const auto& c = open[0];
    EXPECT_EQ(c["status"], "open");
    EXPECT_EQ(c["creator"], "alpha");
    EXPECT_EQ(c["invoice"]["id"], "in_000000000000000000000000");
    EXPECT_EQ(c["invoice"]["amount_due"], 2000);
    EXPECT_EQ(c["invoice"]["currency"], "usd");
    EXPECT_EQ(c["customer"]["id"], "cus_00000000000000");
    EXPECT_EQ(c["products"], json::array({"prod_00000000000000"}));
    EXPECT_EQ(c["payment_intent"], "pi_000000000000000000000000");
    EXPECT_TRUE(c["invoice"]["hosted_invoice_url"].get<std::string>().starts_with(
        "https://invoice.stripe.com/"));
    EXPECT_EQ(c["failure"]["code"], "card_declined");
    EXPECT_EQ(c["failure"]["decline_code"], "generic_decline");
    EXPECT_EQ(c["failure"]["payment_method_type"], "card");
    EXPECT_EQ(c["failure"]["card_brand"], "visa");
    const auto detail = case_detail(c["id"]);
    EXPECT_EQ(detail["events"].size(), 2u);
}

TEST_F(Receiver, PaymentFailureBeforeItsInvoiceIsAppliedWhenTheInvoiceArrives) {
    ASSERT_EQ(send(fixture("payment_intent.payment_failed"))->status, 200);
    EXPECT_TRUE(cases().empty());
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    const auto all = cases();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["failure"]["decline_code"], "generic_decline");
    EXPECT_EQ(case_detail(all[0]["id"])["events"].size(), 2u);
}

TEST_F(Receiver, PaidClosesTheCaseAndALateFailureDoesNotReopenIt) {
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    EXPECT_EQ(cases("open").size(), 1u);
    auto paid = fixture("invoice.paid");
    paid["created"] = 1648320100; // after the failure
    ASSERT_EQ(send(paid)->status, 200);
    EXPECT_TRUE(cases("open").empty());
    ASSERT_EQ(cases("closed").size(), 1u);
    EXPECT_EQ(cases("closed")[0]["status"], "paid");
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status,
              200); // a redelivery of an older attempt
    EXPECT_TRUE(cases("open").empty());
}

TEST_F(Receiver, OutOfOrderDeliveryConverges) {
    // paid first, then the failure it followed: no open case
    auto paid = fixture("invoice.paid");
    paid["created"] = 1648320100;
    ASSERT_EQ(send(paid)->status, 200);
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    const auto all = cases("all");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["status"], "paid");
}

TEST_F(Receiver, PaymentIntentSucceededClosesTheCase) {
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    ASSERT_EQ(send(fixture("payment_intent.succeeded"))->status, 200);
    EXPECT_TRUE(cases("open").empty());
    EXPECT_EQ(cases("closed")[0]["status"], "paid");
}

TEST_F(Receiver, VoidAndUncollectibleCloseTheCase) {
    auto failed = fixture("invoice.payment_failed");
    ASSERT_EQ(send(failed)->status, 200);
    auto voided = fixture("invoice.payment_failed");
    voided["type"] = "invoice.voided";
    voided["created"] = 1648320200;
    voided["data"]["object"]["status"] = "void";
    ASSERT_EQ(send(voided)->status, 200);
    EXPECT_EQ(cases("closed")[0]["status"], "voided");
}

TEST_F(Receiver, DuplicateDeliveryIsAcknowledgedAndChangesNothing) {
    const auto event = fixture("invoice.payment_failed");
    auto first = send(event);
    auto second = send(event);
    ASSERT_EQ(first->status, 200);
    ASSERT_EQ(second->status, 200);
    EXPECT_EQ(json::parse(first->body)["duplicate"], false);
    EXPECT_EQ(json::parse(second->body)["duplicate"], true);
    EXPECT_EQ(inbox_count(), 1);
    const auto all = cases();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(case_detail(all[0]["id"])["events"].size(), 1u);
}

TEST_F(Receiver, AnEventSignedForOneCreatorNeverActsOnAnother) {
    auto r = send(fixture("invoice.payment_failed"), "beta", alpha_secret);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(json::parse(r->body)["error"],
              "no signature matches this endpoint's webhook secrets");
    EXPECT_EQ(inbox_count(), 0);
    EXPECT_TRUE(cases("all", "beta", beta_token).empty());
}

TEST_F(Receiver, CreatorApiRefusesOtherCreatorsTokens) {
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    service->drain();
    auto cli = service->client();
    EXPECT_EQ(get_with_token(cli, "/v1/creators/alpha/cases", beta_token)->status, 403);
    EXPECT_EQ(get_with_token(cli, "/v1/creators/beta/cases", alpha_token)->status, 403);
    EXPECT_EQ(get_with_token(cli, "/v1/creators/alpha/cases", "nonsense-token-000000")->status,
              401);
    EXPECT_EQ(cli.Get("/v1/creators/alpha/cases")->status, 401);
    const auto id = cases()[0]["id"].get<std::int64_t>();
    EXPECT_EQ(
        get_with_token(cli, "/v1/creators/beta/cases/" + std::to_string(id), beta_token)->status,
        404);
    EXPECT_EQ(get_with_token(cli, "/v1/creators/alpha/cases?status=bogus", alpha_token)->status,
              400);
}

TEST_F(Receiver, BodyOverTheLimitIs413) {
    std::string big(1024 * 1024 + 1, ' ');
    auto cli = service->client();
    auto r = post_signed(cli, "/webhooks/stripe/alpha", big, alpha_secret);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(json::parse(r->body).contains("error"));
}

TEST_F(Receiver, RefusesBadDeliveriesWithAClearError) {
    auto cli = service->client();
    const auto body = fixture("invoice.payment_failed").dump();
    struct Case {
        const char* name;
        httplib::Result result;
        int status;
    };
    const auto old = plugin::SystemClock().now() - std::chrono::seconds(301);
    Case rows[] = {
        {"unsigned", cli.Post("/webhooks/stripe/alpha", body, "application/json"), 400},
        {"wrong secret", post_signed(cli, "/webhooks/stripe/alpha", body, "whsec_wrong"), 400},
        {"too old", post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret, old), 400},
        {"unknown creator", post_signed(cli, "/webhooks/stripe/nobody", body, alpha_secret), 404},
        {"malformed json", post_signed(cli, "/webhooks/stripe/alpha", "{\"id\":", alpha_secret),
         400},
        {"not an event",
         post_signed(cli, "/webhooks/stripe/alpha", R"({"object":"invoice","id":"in_1"})",
                     alpha_secret),
         400},
        {"array", post_signed(cli, "/webhooks/stripe/alpha", "[]", alpha_secret), 400},
    };
    for (auto& row : rows) {
        ASSERT_TRUE(row.result) << row.name;
        EXPECT_EQ(row.result->status, row.status) << row.name << ": " << row.result->body;
        const auto j = json::parse(row.result->body, nullptr, false);
        EXPECT_TRUE(j.is_object() && j.contains("error")) << row.name << ": " << row.result->body;
    }
    EXPECT_EQ(inbox_count(), 0);
}

TEST_F(Receiver, RotatedSecretsBothWork) {
    auto cli = service->client();
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe/alpha", fixture("charge.failed").dump(),
                          "whsec_alpha_old_secret")
                  ->status,
              200);
    EXPECT_EQ(
        post_signed(cli, "/webhooks/stripe/alpha", fixture("charge.failed").dump(), alpha_secret)
            ->status,
        200);
}

TEST_F(Receiver, ConnectEventsAreRoutedByAccount) {
    auto cli = service->client();
    auto event = fixture("invoice.payment_failed");
    event["account"] = "acct_alpha";
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe", event.dump(), platform_secret)->status, 200);
    EXPECT_EQ(cases("open").size(), 1u);
    event = fixture("invoice.payment_failed");
    event["account"] = "acct_unknown";
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe", event.dump(), platform_secret)->status, 404);
    event = fixture("invoice.payment_failed");
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe", event.dump(), platform_secret)->status, 400);
    event["account"] = "acct_alpha";
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe", event.dump(), alpha_secret)->status, 400);
    // a creator's own endpoint refuses events of another connected account
    event["account"] = "acct_other";
    EXPECT_EQ(send(event)->status, 400);
}

TEST_F(Receiver, APoisonEventIsRecordedAndDoesNotBlockOthers) {
    auto poison = fixture("invoice.payment_failed");
    poison["data"]["object"].erase("id");
    ASSERT_EQ(send(poison)->status, 200);
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    EXPECT_EQ(cases("open").size(), 1u);
    EXPECT_EQ(inbox_count("state = 'poison' AND note <> ''"), 1);
}

TEST_F(Receiver, RestartKeepsEverything) {
    ASSERT_EQ(send(fixture("invoice.payment_failed"))->status, 200);
    const auto before = cases();
    service.reset();
    service = std::make_unique<Service>(cfg);
    EXPECT_EQ(cases(), before);
    ASSERT_EQ(send(fixture("invoice.paid"))->status, 200);
    EXPECT_EQ(cases("closed").size(), 1u);
}

TEST_F(Receiver, MetricsCountWhatHappened) {
    send(fixture("invoice.payment_failed"));
    send(fixture("invoice.payment_failed"), "alpha", "whsec_wrong");
    service->drain();
    auto cli = service->client();
    auto r = cli.Get("/metrics");
    ASSERT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("dunning_webhook_events_accepted_total 1"), std::string::npos)
        << r->body;
    EXPECT_NE(
        r->body.find("dunning_webhook_events_rejected_total{reason=\"no_valid_signature\"} 1"),
        std::string::npos);
    EXPECT_NE(r->body.find("dunning_events_processed_total{outcome=\"done\"} 1"),
              std::string::npos);
    EXPECT_NE(r->body.find("dunning_inbox_pending 0"), std::string::npos);
    EXPECT_EQ(cli.Get("/healthz")->status, 200);
}

TEST_F(Receiver, TestClockRoutesAreAbsentWithoutTheFlag) {
    auto cli = service->client();
    EXPECT_EQ(cli.Get("/v1/test-clock")->status, 404);
    EXPECT_EQ(cli.Post("/v1/test-clock/advance", R"({"seconds":60})", "application/json")->status,
              404);
}

TEST(TestClock, Advances) {
    TempDir dir;
    Service service(test_config(dir.path()), plugin::ModuleOptions{true, from_unix(1700000000)});
    auto cli = service.client();
    EXPECT_EQ(json::parse(cli.Get("/v1/test-clock")->body)["now"], 1700000000);
    auto r = cli.Post("/v1/test-clock/advance", R"({"seconds":86400})", "application/json");
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["now"], 1700086400);
    EXPECT_EQ(cli.Post("/v1/test-clock/advance", R"({"seconds":"x"})", "application/json")->status,
              400);
}

// Stripe signs with real time, also for its own test clocks: a signature's age is measured on
// the system clock, wherever the test clock stands.
TEST(TestClock, SignaturesAreTimedByTheRealClock) {
    TempDir dir;
    const auto real_now = plugin::SystemClock().now();
    Service service(test_config(dir.path()), plugin::ModuleOptions{true, real_now});
    auto cli = service.client();
    ASSERT_EQ(
        cli.Post("/v1/test-clock/advance", R"({"seconds":3888000})", "application/json")->status,
        200);
    const auto body = fixture("invoice.payment_failed").dump();

    const auto fresh =
        post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret, plugin::SystemClock().now());
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->status, 200) << "45 simulated days later: " << fresh->body;

    const auto old = plugin::SystemClock().now() - std::chrono::seconds(301);
    const auto stale = post_signed(cli, "/webhooks/stripe/alpha",
                                   fixture("invoice.payment_failed").dump(), alpha_secret, old);
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, 400);
    EXPECT_NE(stale->body.find("signature timestamp outside the tolerance"), std::string::npos)
        << stale->body;

    // Nor does a signature made at the test clock's time of a clock set in the past pass.
    TempDir past_dir;
    Service past(test_config(past_dir.path()), plugin::ModuleOptions{true, from_unix(1700000000)});
    auto past_cli = past.client();
    EXPECT_EQ(
        post_signed(past_cli, "/webhooks/stripe/alpha", body, alpha_secret, from_unix(1700000000))
            ->status,
        400);
    EXPECT_EQ(post_signed(past_cli, "/webhooks/stripe/alpha", body, alpha_secret,
                          plugin::SystemClock().now())
                  ->status,
              200);
}

} // namespace
