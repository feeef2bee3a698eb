// Connecting a creator's Stripe account against the real Module and the fake Stripe: Connect
// OAuth from the authorization URL to a dunned case on the Connect endpoint, every refused
// callback changing nothing, a creator's own restricted key with its webhook endpoint, and
// disconnecting.
#include "fakes/fake_stripe.hpp"
#include "store/secrets.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"
#include "webhook/event_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string public_url = "https://pay.example.org";

httplib::Result send(httplib::Client& cli, const std::string& method, const std::string& path,
                     const std::string& token, const std::string& body = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    if (method == "GET") return cli.Get(path.c_str(), h);
    if (method == "PATCH") return cli.Patch(path.c_str(), h, body, "application/json");
    return cli.Post(path.c_str(), h, body, "application/json");
}

class StripeConnect : public ::testing::Test {
  protected:
    TempDir dir;
    HostReceiver host;
    Timestamp clock_now = from_unix(1'800'000'000);
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    config::Config cfg;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    std::string gamma_token;

    void start(bool with_secrets_key = true) {
        stripe = std::make_unique<fakes::FakeStripe>(
            platform_stripe_key,
            fakes::WebhookTarget{"", alpha_secret, [this] {
                                     return service ? service->module().clock().now() : clock_now;
                                 }});
        cfg = test_config(dir.path());
        cfg.platform.admin_token = admin_token;
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.mail.outbox_dir = outbox().string();
        cfg.stripe.api_base = stripe->base_url();
        cfg.stripe.connect_base = stripe->base_url();
        cfg.stripe.connect_client_id = stripe->connect_client_id();
        cfg.stripe.platform_secret_key = platform_stripe_key;
        cfg.server.public_url = public_url;
        cfg.host.webhook_url = host.url();
        cfg.host.webhook_secret = "whsec_host_test";
        if (with_secrets_key) cfg.storage.secrets_key = std::string(32, 'k');
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_connect_webhook(service->url("/webhooks/stripe"), platform_secret);
        auto cli = service->client();
        const json body = {{"id", "gamma"},
                           {"name", "Gamma Courses"},
                           {"locale", "en"},
                           {"products", {{{"stripe_product", "prod_fake"}, {"courses", {"g1"}}}}}};
        const auto r = send(cli, "POST", "/v1/creators", admin_token, body.dump());
        ASSERT_EQ(r->status, 201) << r->body;
        gamma_token = json::parse(r->body)["api_token"];
    }
    std::filesystem::path outbox() const { return dir.path() / "outbox"; }
    std::size_t emails() const {
        std::size_t n = 0;
        if (!std::filesystem::exists(outbox())) return 0;
        for (const auto& f : std::filesystem::directory_iterator(outbox()))
            n += f.path().extension() == ".eml";
        return n;
    }
    void advance(std::chrono::seconds by) { advance_test_clock(*service, by, {stripe.get()}); }
    json stripe_view() {
        auto cli = service->client();
        const auto r = send(cli, "GET", "/v1/creators/gamma", admin_token);
        EXPECT_EQ(r->status, 200) << r->body;
        return json::parse(r->body)["stripe"];
    }
    std::string authorization_url() {
        auto cli = service->client();
        const auto r = send(cli, "POST", "/v1/creators/gamma/stripe/oauth", admin_token);
        EXPECT_EQ(r->status, 200) << r->body;
        return json::parse(r->body).value("url", "");
    }
    // Follows the URL to the fake's authorize page; the query Stripe sends back to our callback.
    std::string authorize(const std::string& url) {
        const auto path = url.substr(stripe->base_url().size());
        httplib::Client fake(stripe->base_url());
        const auto r = fake.Get(path.c_str());
        EXPECT_EQ(r->status, 302) << r->body;
        const auto location = r->get_header_value("Location");
        EXPECT_TRUE(location.starts_with(public_url + "/stripe/oauth/callback?")) << location;
        return location.substr(location.find('?'));
    }
    httplib::Result callback(const std::string& query) {
        auto cli = service->client();
        return cli.Get(("/stripe/oauth/callback" + query).c_str());
    }
    std::size_t token_exchanges() const { return stripe->requests_to("/oauth/token").size(); }
    json only_case() {
        auto cli = service->client();
        const auto list =
            json::parse(send(cli, "GET", "/v1/creators/gamma/cases?status=all", gamma_token)->body);
        EXPECT_EQ(list["data"].size(), 1u) << list.dump();
        if (list["data"].size() != 1) return {};
        const auto id = std::to_string(list["data"][0]["id"].get<int>());
        return json::parse(send(cli, "GET", "/v1/creators/gamma/cases/" + id, gamma_token)->body);
    }
    std::vector<json> notifications_of(const std::string& type) const {
        std::vector<json> out;
        for (auto& n : host.notifications())
            if (n.value("type", "") == type) out.push_back(std::move(n));
        return out;
    }
    httplib::Result connect_key(const std::string& key, const json& extra = json::object()) {
        auto cli = service->client();
        json body = {{"secret_key", key}};
        body.update(extra);
        return send(cli, "POST", "/v1/creators/gamma/stripe/keys", admin_token, body.dump());
    }
    std::string full_key() {
        return stripe->make_restricted_key(
            {"rak_accounts_kyc_basic_read", "rak_webhook_write", "rak_invoice_write"});
    }
    std::vector<std::string> secret_names(const std::string& creator) {
        return service->module().api_db().use(
            [&](store::Connection& db) { return store::list_secret_names(db, creator); });
    }
    // Every /v1/invoices list asked so far, by the Stripe-Account it was asked for ("" = a key).
    std::vector<std::string> invoice_lists() const {
        std::vector<std::string> out;
        for (const auto& r : stripe->requests_to("/v1/invoices"))
            out.push_back(r.headers.contains("Stripe-Account") ? r.headers.at("Stripe-Account")
                                                               : "");
        return out;
    }
    // Imports run one after another in the background: once a later one is asked, those queued
    // before it are done. Polls while it runs (no schedule involved).
    void wait_for_invoice_list(const std::string& account) {
        for (int i = 0; i < 2000; ++i) {
            const auto lists = invoice_lists();
            if (std::find(lists.begin(), lists.end(), account) != lists.end()) return;
            std::this_thread::sleep_for(10ms);
        }
        ADD_FAILURE() << "no list of invoices for " << account;
    }
};

TEST_F(StripeConnect, OAuthConnectsAndAFailedPaymentOnTheAccountIsDunned) {
    start();
    EXPECT_EQ(stripe_view()["method"], "none");
    const auto url = authorization_url();
    const auto expected = stripe->base_url() + "/oauth/authorize?response_type=code&client_id=" +
                          stripe->connect_client_id() +
                          "&scope=read_write&redirect_uri=https%3A%2F%2Fpay.example.org%2Fstripe"
                          "%2Foauth%2Fcallback&state=gamma.";
    ASSERT_TRUE(url.starts_with(expected)) << url;
    const auto page = callback(authorize(url));
    ASSERT_EQ(page->status, 200) << page->body;
    EXPECT_NE(page->body.find("Your Stripe account is now connected"), std::string::npos);
    const auto view = stripe_view();
    EXPECT_EQ(view["method"], "oauth");
    EXPECT_EQ(view["status"], "connected");
    const std::string account = view["account"];
    ASSERT_TRUE(account.starts_with("acct_")) << view.dump();
    EXPECT_TRUE(stripe->is_connected(account));
    EXPECT_EQ(service->module().creators().find("gamma")->stripe_account, account);

    fakes::FakeInvoice inv;
    inv.id = "in_gamma";
    inv.account = account;
    stripe->add_invoice(inv);
    stripe->fail_invoice("in_gamma", {"card_declined", "insufficient_funds", "", "", ""});
    advance(0s);
    auto cli = service->client();
    const auto cases = send(cli, "GET", "/v1/creators/gamma/cases", gamma_token);
    ASSERT_EQ(cases->status, 200);
    ASSERT_NE(cases->body.find("in_gamma"), std::string::npos) << cases->body;
    EXPECT_EQ(emails(), 0u);
    for (int i = 0; i < 8; ++i)
        advance(12h);
    EXPECT_GE(emails(), 1u); // the first reminder, three days in
    const auto stored = stored_text(cfg);
    ASSERT_NE(stored.find("in_gamma"), std::string::npos); // the store is read
    EXPECT_EQ(stored.find("sk_test_"), std::string::npos);
}

// The account's owner removes the platform in Stripe's dashboard while a case is being dunned:
// nothing more is charged or sent, the platform hears of it, and connecting again goes on where
// dunning stood (one catch-up retry, the ladder moved on by the time waited).
TEST_F(StripeConnect, ADeauthorizedCreatorIsLeftAloneUntilItConnectsAgain) {
    start();
    auto cli = service->client();
    ASSERT_EQ(send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                   json{{"retry", {{"mode", "plugin"}}}}.dump())
                  ->status,
              200);
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    const std::string account = stripe_view()["account"];
    fakes::FakeInvoice inv;
    inv.id = "in_gamma";
    inv.account = account;
    stripe->add_invoice(inv);
    stripe->script_pay("in_gamma",
                       std::vector(10, fakes::ScriptedPay::declined("insufficient_funds")));
    stripe->fail_invoice("in_gamma", {"card_declined", "insufficient_funds", "", "", ""});
    advance(0s);
    advance(25h);
    ASSERT_EQ(stripe->pay_executions("in_gamma"), 1) << "the first retry, a day in";
    ASSERT_EQ(only_case()["status"], "open");

    stripe->deauthorize_from_dashboard(account);
    advance(0s);
    EXPECT_EQ(stripe_view()["status"], "disconnected");
    auto c = only_case();
    EXPECT_EQ(c["status"], "paused");
    EXPECT_EQ(c["pause_reason"], "stripe_disconnected");
    const auto told = notifications_of("creator.disconnected");
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0]["creator"], "gamma");
    EXPECT_EQ(told[0]["data"]["creator"]["stripe_account"], account);
    EXPECT_EQ(told[0]["data"]["creator"]["reason"], "deauthorized");
    EXPECT_EQ(told[0]["data"]["creator"]["open_cases_paused"], 1);
    const auto emails_before = emails();
    for (int i = 0; i < 40; ++i)
        advance(12h);
    EXPECT_EQ(stripe->pay_executions("in_gamma"), 1) << "nothing charged while disconnected";
    EXPECT_EQ(emails(), emails_before) << "nothing sent while disconnected";
    EXPECT_EQ(only_case()["status"], "paused");

    fakes::AccountProfile same;
    same.id = account;
    stripe->decide_next_authorization({true, same});
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    EXPECT_EQ(stripe_view()["status"], "connected");
    advance(0s);
    c = only_case();
    EXPECT_EQ(c["status"], "open");
    EXPECT_EQ(c["pause_reason"], nullptr);
    EXPECT_EQ(stripe->pay_executions("in_gamma"), 2) << "one catch-up retry, not a burst";
    EXPECT_EQ(emails(), emails_before) << "the ladder moved on by the time waited";
    for (int i = 0; i < 6; ++i)
        advance(12h);
    EXPECT_EQ(emails(), emails_before + 1) << "the first reminder, three days after the failure "
                                              "plus the time waited";
    EXPECT_EQ(notifications_of("creator.disconnected").size(), 1u);
}

TEST_F(StripeConnect, RefusedCallbacksShowAPageAndChangeNothing) {
    start();
    // Denied consent.
    stripe->decide_next_authorization({false, {}});
    auto denied = callback(authorize(authorization_url()));
    ASSERT_EQ(denied->status, 400);
    EXPECT_NE(denied->body.find("You declined the connection"), std::string::npos);
    // Forged: another creator's id under gamma's signature.
    auto query = authorize(authorization_url());
    auto forged = query;
    forged.replace(forged.find("state=gamma."), 12, "state=alpha.");
    EXPECT_EQ(callback(forged)->status, 400);
    auto unsigned_state = callback("?code=ac_x&state=gamma.00.99999999999.00");
    EXPECT_EQ(unsigned_state->status, 400);
    EXPECT_EQ(token_exchanges(), 0u);
    EXPECT_EQ(stripe_view()["method"], "none");
    // Expired: 15 minutes pass.
    const auto late = authorize(authorization_url());
    advance(16min);
    const auto expired = callback(late);
    ASSERT_EQ(expired->status, 400);
    EXPECT_NE(expired->body.find("expired"), std::string::npos) << expired->body;
    EXPECT_EQ(token_exchanges(), 0u);
    EXPECT_EQ(stripe_view()["method"], "none");
    // Reused: the first use connects, the second is refused and exchanges nothing.
    query = authorize(authorization_url());
    EXPECT_EQ(callback(query)->status, 200);
    const auto account = stripe_view()["account"];
    const auto again = callback(query);
    ASSERT_EQ(again->status, 400);
    EXPECT_NE(again->body.find("used already"), std::string::npos);
    EXPECT_EQ(token_exchanges(), 1u);
    EXPECT_EQ(stripe_view()["account"], account);
}

TEST_F(StripeConnect, DisconnectDeauthorizesAtStripe) {
    start();
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    const std::string account = stripe_view()["account"];
    auto cli = service->client();
    EXPECT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/disconnect", gamma_token)->status, 403);
    const auto r = send(cli, "POST", "/v1/creators/gamma/stripe/disconnect", admin_token);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto calls = stripe->requests_to("/oauth/deauthorize");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].form.at("stripe_user_id"), account);
    EXPECT_FALSE(stripe->is_connected(account));
    EXPECT_EQ(stripe_view()["status"], "disconnected");
    EXPECT_TRUE(service->module().creators().find("gamma")->stripe_disconnected);
    advance(0s); // Stripe's account.application.deauthorized for our own call arrives too
    const auto told = notifications_of("creator.disconnected");
    ASSERT_EQ(told.size(), 1u) << "told once, whichever came first";
    EXPECT_EQ(told[0]["data"]["creator"]["reason"], "disconnected");
    EXPECT_EQ(stripe_view()["status"], "disconnected");
}

// A Connect event about the platform's application, as Stripe signs it for the Connect endpoint.
json account_event(const std::string& type, const std::string& account, Timestamp created) {
    return {
        {"id", "evt_" + type + std::to_string(to_unix(created))},
        {"object", "event"},
        {"api_version", "2020-08-27"},
        {"account", account},
        {"created", to_unix(created)},
        {"livemode", false},
        {"pending_webhooks", 1},
        {"request", {{"id", nullptr}, {"idempotency_key", nullptr}}},
        {"type", type},
        {"data",
         {{"object", {{"id", "ca_platform"}, {"object", "application"}, {"name", "Platform"}}}}}};
}

// An account the platform registered leaves and comes back (account.application.authorized);
// a deauthorization Stripe delivers late, from before it came back, changes nothing.
TEST_F(StripeConnect, ARegisteredAccountComesBackAndALateDeauthorizationIsIgnored) {
    start();
    auto cli = service->client();
    ASSERT_EQ(send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                   json{{"stripe_account", "acct_gamma1"}}.dump())
                  ->status,
              200);
    const auto now = [&] { return service->module().clock().now(); };
    const auto left = now();
    ASSERT_EQ(
        post_signed(cli, "/webhooks/stripe",
                    account_event("account.application.deauthorized", "acct_gamma1", left).dump(),
                    platform_secret)
            ->status,
        200);
    advance(1h);
    EXPECT_EQ(stripe_view()["status"], "disconnected");
    EXPECT_TRUE(service->module().creators().find("gamma")->stripe_disconnected);
    ASSERT_EQ(
        post_signed(cli, "/webhooks/stripe",
                    account_event("account.application.authorized", "acct_gamma1", now()).dump(),
                    platform_secret)
            ->status,
        200);
    advance(1h);
    EXPECT_EQ(stripe_view()["status"], "connected");
    EXPECT_FALSE(service->module().creators().find("gamma")->stripe_disconnected);
    // The same departure, delivered again late with another id: from before the return.
    auto late = account_event("account.application.deauthorized", "acct_gamma1", left);
    late["id"] = "evt_late_copy";
    ASSERT_EQ(post_signed(cli, "/webhooks/stripe", late.dump(), platform_secret)->status, 200);
    advance(1h);
    EXPECT_EQ(stripe_view()["status"], "connected");
    EXPECT_FALSE(service->module().creators().find("gamma")->stripe_disconnected);
    EXPECT_EQ(notifications_of("creator.disconnected").size(), 1u);
}

TEST_F(StripeConnect, ARestrictedKeyGetsAnEndpointForTheHandledEvents) {
    start();
    const auto key = stripe->make_restricted_key(
        {"rak_accounts_kyc_basic_read", "rak_webhook_write", "rak_invoice_write"});
    auto cli = service->client();
    const auto r = send(cli, "POST", "/v1/creators/gamma/stripe/keys", gamma_token,
                        json{{"secret_key", key}}.dump());
    ASSERT_EQ(r->status, 200) << r->body;
    const auto answer = json::parse(r->body);
    const auto endpoints = stripe->webhook_endpoints();
    ASSERT_EQ(endpoints.size(), 1u);
    EXPECT_EQ(endpoints[0].url, public_url + "/webhooks/stripe/gamma");
    EXPECT_EQ(endpoints[0].enabled_events, webhook::handled_event_types());
    EXPECT_EQ(answer["webhook_endpoint"], endpoints[0].id);
    EXPECT_EQ(answer["account"], stripe->account_id());
    EXPECT_EQ(answer["key_last4"], key.substr(key.size() - 4));
    EXPECT_EQ(answer["enabled_events"].get<std::vector<std::string>>(),
              webhook::handled_event_types());
    const auto view = stripe_view();
    EXPECT_EQ(view["method"], "key");
    EXPECT_EQ(view["webhook_endpoint"], endpoints[0].id);
    // An event signed with the endpoint's secret is taken at once.
    auto event = fixture("invoice.payment_failed");
    event.erase("account");
    const auto delivered =
        post_signed(cli, "/webhooks/stripe/gamma", event.dump(), endpoints[0].secret);
    EXPECT_EQ(delivered->status, 200) << delivered->body;
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe/gamma", event.dump(), "whsec_other")->status, 400);
    const auto stored = stored_text(cfg);
    ASSERT_NE(stored.find("Gamma Courses"), std::string::npos); // the store is read
    EXPECT_EQ(stored.find(key), std::string::npos);
    EXPECT_EQ(stored.find(endpoints[0].secret), std::string::npos);
    // A new key replaces the endpoint.
    const auto second = stripe->make_restricted_key(
        {"rak_accounts_kyc_basic_read", "rak_webhook_write", "rak_invoice_write"});
    ASSERT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/keys", admin_token,
                   json{{"secret_key", second}}.dump())
                  ->status,
              200);
    const auto now = stripe->webhook_endpoints();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_NE(now[0].id, endpoints[0].id);
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe/gamma", event.dump(), now[0].secret)->status, 200);
}

TEST_F(StripeConnect, ARefusedKeyOrAMissingPermissionIsA400NamingIt) {
    start();
    auto cli = service->client();
    const auto invalid = send(cli, "POST", "/v1/creators/gamma/stripe/keys", gamma_token,
                              json{{"secret_key", "rk_test_not_a_key"}}.dump());
    ASSERT_EQ(invalid->status, 400);
    EXPECT_NE(invalid->body.find("the key was refused by Stripe: "), std::string::npos);
    const auto partial = stripe->make_restricted_key({"rak_webhook_write"});
    const auto missing = send(cli, "POST", "/v1/creators/gamma/stripe/keys", gamma_token,
                              json{{"secret_key", partial}}.dump());
    ASSERT_EQ(missing->status, 400);
    EXPECT_NE(missing->body.find("rak_accounts_kyc_basic_read"), std::string::npos)
        << missing->body;
    const auto no_webhooks = stripe->make_restricted_key({"rak_accounts_kyc_basic_read"});
    const auto refused = send(cli, "POST", "/v1/creators/gamma/stripe/keys", gamma_token,
                              json{{"secret_key", no_webhooks}}.dump());
    ASSERT_EQ(refused->status, 400);
    EXPECT_NE(refused->body.find("rak_webhook_write"), std::string::npos) << refused->body;
    EXPECT_TRUE(stripe->webhook_endpoints().empty());
    EXPECT_EQ(stripe_view()["method"], "none");
}

TEST_F(StripeConnect, AnotherCreatorsTokenCannotConnectThisCreator) {
    start();
    auto cli = service->client();
    const auto key = stripe->make_restricted_key({"rak_accounts_kyc_basic_read"});
    EXPECT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/keys", beta_token,
                   json{{"secret_key", key}}.dump())
                  ->status,
              403);
    EXPECT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/oauth", beta_token)->status, 403);
    EXPECT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/oauth", gamma_token)->status, 403);
    EXPECT_EQ(stripe->requests().size(), 0u);
}

TEST_F(StripeConnect, WithoutASecretsKeyConnectingSaysTheKeyIsNeeded) {
    start(false);
    auto cli = service->client();
    const auto oauth = send(cli, "POST", "/v1/creators/gamma/stripe/oauth", admin_token);
    EXPECT_EQ(oauth->status, 503);
    EXPECT_NE(oauth->body.find("secrets_key"), std::string::npos);
    const auto key = send(cli, "POST", "/v1/creators/gamma/stripe/keys", admin_token,
                          json{{"secret_key", "rk_test_x"}}.dump());
    EXPECT_EQ(key->status, 503);
    EXPECT_NE(key->body.find("secrets_key"), std::string::npos);
}

TEST_F(StripeConnect, ThePlatformRegistersAnAccountItHas) {
    start();
    auto cli = service->client();
    const auto r = send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                        json{{"stripe_account", "acct_gamma1"}}.dump());
    ASSERT_EQ(r->status, 200) << r->body;
    const auto view = stripe_view();
    EXPECT_EQ(view["method"], "platform");
    EXPECT_EQ(view["status"], "connected");
    EXPECT_EQ(view["account"], "acct_gamma1");
    EXPECT_EQ(service->module().creators().find_by_account("acct_gamma1")->id, "gamma");
}

TEST_F(StripeConnect, ConnectingByOAuthOrKeyMayLeaveInvoicesPastDueAlone) {
    start();
    auto cli = service->client();
    const auto bad = send(cli, "POST", "/v1/creators/gamma/stripe/oauth", admin_token,
                          json{{"import_open_invoices", "no"}}.dump());
    EXPECT_EQ(bad->status, 400);
    EXPECT_NE(bad->body.find("import_open_invoices"), std::string::npos) << bad->body;
    EXPECT_EQ(connect_key(full_key(), {{"import_open_invoices", 0}})->status, 400);
    EXPECT_TRUE(stripe->webhook_endpoints().empty());

    stripe->decide_next_authorization({true, {"acct_gammaoauth"}});
    const auto r = send(cli, "POST", "/v1/creators/gamma/stripe/oauth", admin_token,
                        json{{"import_open_invoices", false}}.dump());
    ASSERT_EQ(r->status, 200) << r->body;
    ASSERT_EQ(callback(authorize(json::parse(r->body)["url"]))->status, 200);
    // Another creator connected by key, without the import either.
    const json epsilon = {{"id", "epsilon"}, {"name", "Epsilon"}};
    ASSERT_EQ(send(cli, "POST", "/v1/creators", admin_token, epsilon.dump())->status, 201);
    ASSERT_EQ(send(cli, "POST", "/v1/creators/epsilon/stripe/keys", admin_token,
                   json{{"secret_key", full_key()}, {"import_open_invoices", false}}.dump())
                  ->status,
              200);
    // A creator with the import, connected last.
    const json delta = {{"id", "delta"}, {"name", "Delta"}, {"stripe_account", "acct_delta"}};
    ASSERT_EQ(send(cli, "POST", "/v1/creators", admin_token, delta.dump())->status, 201);
    wait_for_invoice_list("acct_delta");
    EXPECT_EQ(invoice_lists(), std::vector<std::string>{"acct_delta"});
}

TEST_F(StripeConnect, OAuthReplacesAKeyConnectionAndDeletesItsEndpoint) {
    start();
    const auto key = full_key();
    ASSERT_EQ(connect_key(key)->status, 200);
    const auto endpoint = stripe->webhook_endpoints().at(0);
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    EXPECT_EQ(stripe_view()["method"], "oauth");
    EXPECT_TRUE(stripe->webhook_endpoints().empty()); // deleted at Stripe, with the old key
    const auto deleted = stripe->requests_to("/v1/webhook_endpoints/" + endpoint.id);
    ASSERT_EQ(deleted.size(), 1u);
    EXPECT_EQ(deleted[0].method, "DELETE");
    EXPECT_EQ(deleted[0].headers.at("Authorization"), "Bearer " + key);
    for (const auto& name : secret_names("gamma")) // the key and its webhook secret are gone
        EXPECT_TRUE(name.starts_with("oauth_")) << name;
    const auto gamma = service->module().creators().find("gamma");
    EXPECT_TRUE(gamma->stripe_secret_key.empty());
    EXPECT_TRUE(gamma->webhook_secrets.empty());
    auto cli = service->client();
    auto event = fixture("invoice.payment_failed");
    event.erase("account");
    EXPECT_EQ(post_signed(cli, "/webhooks/stripe/gamma", event.dump(), endpoint.secret)->status,
              404); // no secret of its own: its events come on the Connect endpoint
}

TEST_F(StripeConnect, OAuthToAnotherAccountDeauthorizesTheFormerOne) {
    start();
    stripe->decide_next_authorization({true, {"acct_gammafirst"}});
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    stripe->decide_next_authorization({true, {"acct_gammasecond"}});
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    EXPECT_EQ(stripe_view()["account"], "acct_gammasecond");
    const auto calls = stripe->requests_to("/oauth/deauthorize");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].form.at("stripe_user_id"), "acct_gammafirst");
    EXPECT_FALSE(stripe->is_connected("acct_gammafirst"));
    EXPECT_TRUE(stripe->is_connected("acct_gammasecond"));
    // The same account again is not ended.
    stripe->decide_next_authorization({true, {"acct_gammasecond"}});
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    EXPECT_EQ(stripe->requests_to("/oauth/deauthorize").size(), 1u);
    EXPECT_TRUE(stripe->is_connected("acct_gammasecond"));
}

TEST_F(StripeConnect, AKeyWhileConnectedByOAuthIsAConflictUntilDisconnected) {
    start();
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    const auto key = full_key();
    const auto refused = connect_key(key);
    ASSERT_EQ(refused->status, 409);
    EXPECT_NE(refused->body.find("/v1/creators/gamma/stripe/disconnect"), std::string::npos)
        << refused->body;
    EXPECT_TRUE(stripe->requests_to("/v1/account").empty()); // Stripe was not asked
    EXPECT_TRUE(stripe->webhook_endpoints().empty());
    EXPECT_EQ(stripe_view()["method"], "oauth");
    auto cli = service->client();
    ASSERT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/disconnect", admin_token)->status, 200);
    ASSERT_EQ(connect_key(key)->status, 200);
    EXPECT_EQ(stripe_view()["method"], "key");
    EXPECT_EQ(secret_names("gamma").size(), 2u) << json(secret_names("gamma")).dump();
}

// A creator connected by OAuth to another account than its settings name leaves that account
// free for others; a key connection makes the settings' account its own again, so it is refused
// while another creator holds it.
TEST_F(StripeConnect, AKeyDoesNotTakeBackTheSettingsAccountAnotherCreatorHolds) {
    start();
    auto cli = service->client();
    ASSERT_EQ(send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                   R"({"stripe_account": "acct_shared"})")
                  ->status,
              200);
    stripe->decide_next_authorization({true, {"acct_gammaoauth"}});
    ASSERT_EQ(callback(authorize(authorization_url()))->status, 200);
    ASSERT_EQ(send(cli, "POST", "/v1/creators/gamma/stripe/disconnect", admin_token)->status, 200);
    json delta = {{"id", "delta"},
                  {"name", "Delta"},
                  {"locale", "en"},
                  {"stripe_account", "acct_shared"},
                  {"products", {{{"stripe_product", "prod_delta"}, {"courses", {"d1"}}}}}};
    const auto made = send(cli, "POST", "/v1/creators", admin_token, delta.dump());
    ASSERT_EQ(made->status, 201) << made->body;
    const auto refused = connect_key(full_key());
    EXPECT_EQ(refused->status, 409) << refused->body;
    EXPECT_NE(refused->body.find("already used by creator delta"), std::string::npos)
        << refused->body;
    EXPECT_NE(stripe_view()["method"], "key");
    EXPECT_TRUE(secret_names("gamma").empty()) << json(secret_names("gamma")).dump();
}

// Connecting, disconnecting and the SIGHUP reload wait for a change to creators in progress, as
// the admin routes do, so none overwrites another.
TEST_F(StripeConnect, EveryWriterOfCreatorsTakesTheSameLock) {
    start();
    const auto file = dir.path() / "test.toml";
    std::ofstream(file) << "[mail]\nfrom = \"Alpha Academy <billing@alpha.example>\"\n"
                        << "outbox_dir = \"" << outbox().string() << "\"\n"
                        << "[[creators]]\nid = \"alpha\"\nname = \"Alpha Academy\"\n"
                        << "webhook_secrets = [\"" << alpha_secret << "\"]\napi_token = \""
                        << alpha_token << "\"\n";
    const auto query = authorize(authorization_url());
    const auto key = full_key();
    std::future<int> connected, keyed;
    std::future<bool> reloaded;
    {
        std::lock_guard held(service->module().creators().changes());
        connected = std::async(std::launch::async, [&] { return callback(query)->status; });
        reloaded =
            std::async(std::launch::async, [&] { return service->module().reload(file.string()); });
        for (int i = 0; i < 2000 && token_exchanges() == 0; ++i)
            std::this_thread::sleep_for(10ms);
        ASSERT_EQ(token_exchanges(), 1u); // Stripe is asked without the lock
        std::this_thread::sleep_for(300ms);
        EXPECT_NE(connected.wait_for(0s), std::future_status::ready);
        EXPECT_NE(reloaded.wait_for(0s), std::future_status::ready);
        EXPECT_EQ(stripe_view()["method"], "none");
    }
    EXPECT_EQ(connected.get(), 200);
    EXPECT_TRUE(reloaded.get());
    EXPECT_EQ(stripe_view()["method"], "oauth");
    {
        std::lock_guard held(service->module().creators().changes());
        keyed = std::async(std::launch::async, [&] {
            auto cli = service->client();
            return send(cli, "POST", "/v1/creators/gamma/stripe/disconnect", admin_token)->status;
        });
        std::this_thread::sleep_for(300ms);
        EXPECT_NE(keyed.wait_for(0s), std::future_status::ready);
    }
    EXPECT_EQ(keyed.get(), 200);
    EXPECT_EQ(stripe_view()["status"], "disconnected");
}

} // namespace
