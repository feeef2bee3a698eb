// Answers of the wrong shape from Stripe (a number where an id belongs, a list where a status
// belongs): connecting fails with a message, the import and the backfill take nothing they cannot
// read, and nothing throws.
#include "config/creator_registry.hpp"
#include "jobs/backfill.hpp"
#include "jobs/import_past_due.hpp"
#include "jobs/stripe_connect.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

// Answers every request with the body set for its path (200, JSON).
class OddStripe {
  public:
    OddStripe() {
        const auto reply = [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex_);
            const auto found = answers_.find(req.path);
            res.status = found == answers_.end() ? 404 : 200;
            res.set_content(found == answers_.end() ? "{}" : found->second, "application/json");
        };
        server_.Get(".*", reply);
        server_.Post(".*", reply);
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 5000 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~OddStripe() {
        server_.stop();
        thread_.join();
    }
    void answer(const std::string& path, const json& body) {
        std::lock_guard lock(mutex_);
        answers_[path] = body.dump();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  private:
    httplib::Server server_;
    std::mutex mutex_;
    std::map<std::string, std::string> answers_;
    int port_ = 0;
    std::thread thread_;
};

retry::StripeClientOptions once(const std::string& base) {
    retry::StripeClientOptions o;
    o.api_base = base;
    o.max_tries = 1;
    o.sleep = [](std::chrono::milliseconds) {};
    return o;
}

config::Config config_for(const std::filesystem::path& dir, const OddStripe& stripe) {
    auto c = test_config(dir);
    c.stripe.api_base = stripe.url();
    c.stripe.connect_base = stripe.url();
    c.stripe.platform_secret_key = platform_stripe_key;
    c.stripe.connect_client_id = "ca_test";
    c.creators[0].stripe_account.clear();
    c.creators[0].stripe_secret_key = alpha_stripe_key;
    return c;
}

TEST(StripeAnswers, AnOAuthAnswerOfTheWrongShapeIsAFailedExchange) {
    TempDir dir;
    OddStripe stripe;
    const auto config = config_for(dir.path(), stripe);
    jobs::StripeConnector connector(config, once(stripe.url()));
    for (const json& odd :
         {json{{"stripe_user_id", 42}, {"access_token", "sk_x"}},
          json{{"stripe_user_id", "acct_1"}, {"access_token", json::array()}},
          json{{"stripe_user_id", "acct_1"}, {"refresh_token", 7}}, json::array({"acct_1"})}) {
        stripe.answer("/oauth/token", odd);
        const auto grant = connector.exchange_code("ac_1");
        ASSERT_FALSE(grant.ok()) << odd.dump();
        EXPECT_NE(grant.error().find("Stripe's answer"), std::string::npos) << grant.error();
    }
    stripe.answer("/oauth/token", {{"stripe_user_id", "acct_1"}, {"access_token", "sk_x"}});
    ASSERT_TRUE(connector.exchange_code("ac_1").ok());
    EXPECT_EQ(connector.exchange_code("ac_1").value().account, "acct_1");
}

TEST(StripeAnswers, AKeysAccountOrEndpointOfTheWrongShapeIsRefused) {
    TempDir dir;
    OddStripe stripe;
    const auto config = config_for(dir.path(), stripe);
    jobs::StripeConnector connector(config, once(stripe.url()));
    stripe.answer("/v1/account", {{"id", {{"nested", true}}}});
    EXPECT_FALSE(connector.check_key("rk_test_1").ok());
    stripe.answer("/v1/webhook_endpoints", {{"id", "we_1"}, {"secret", 12345}});
    EXPECT_FALSE(connector.create_endpoint("rk_test_1", "https://x/webhooks").ok());
    stripe.answer("/v1/webhook_endpoints", {{"id", false}, {"secret", "whsec_1"}});
    EXPECT_FALSE(connector.create_endpoint("rk_test_1", "https://x/webhooks").ok());
}

TEST(StripeAnswers, OddInvoicesAreNotImportedAndOddEventsNotStored) {
    TempDir dir;
    OddStripe stripe;
    const auto config = config_for(dir.path(), stripe);
    config::CreatorRegistry creators(config);
    jobs::StripeGateway gateway(config, creators, once(stripe.url()));
    auto db = store::open_store({config.storage.sqlite_path, "normal"});
    const json failed = {{"id", "in_good"},    {"object", "invoice"},
                         {"status", "open"},   {"collection_method", "charge_automatically"},
                         {"attempt_count", 1}, {"livemode", "yes"}};
    stripe.answer("/v1/invoices",
                  {{"object", "list"},
                   {"has_more", false},
                   {"data",
                    {json{{"id", 5}, {"status", "open"}, {"attempt_count", 1}},
                     json{{"id", "in_a"}, {"status", {"open"}}, {"attempt_count", 1}},
                     json{{"id", "in_b"}, {"status", "open"}, {"collection_method", 7}},
                     json("in_c"), failed}}});
    const auto now = from_unix(1'800'000'000);
    const auto imported = jobs::import_past_due(*db, gateway, "alpha", now);
    ASSERT_TRUE(imported.ok()) << imported.error;
    EXPECT_EQ(imported.open, 5);
    EXPECT_EQ(imported.past_due, 1);
    EXPECT_EQ(imported.inserted, 1);
    EXPECT_EQ(json::parse(jobs::imported_failure_event(failed.dump(), "", now))["livemode"], false);

    stripe.answer("/v1/events", {{"object", "list"},
                                 {"has_more", false},
                                 {"data", {5, json{{"id", 7}}, json{{"type", {"x"}}}}}});
    const auto r = jobs::backfill_creator(*db, gateway, {"alpha", now, false, std::nullopt}, now);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.fetched, 3);
    EXPECT_EQ(r.inserted, 0);
    EXPECT_EQ(r.not_handled, 3);
}

} // namespace
