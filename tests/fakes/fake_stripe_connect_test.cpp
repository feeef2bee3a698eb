// Connecting a creator, as Stripe documents it: the Connect OAuth flow (approval, denial, a code
// used twice, deauthorization and its Connect event), GET /v1/account, and restricted keys with
// their permission errors.
#include "fakes/fake_stripe_test_support.hpp"

#include <gtest/gtest.h>

namespace dunning::fakes::testing {
namespace {

const std::string redirect_uri = "https://platform.example/stripe/oauth/callback";

class FakeStripeConnect : public ::testing::Test {
  protected:
    FakeClock clock{start_time};
    Receiver receiver;
    FakeStripe stripe{secret_key, target_for(receiver, clock)};
    Api api{stripe};

    // The redirect /oauth/authorize answers, and its query.
    std::map<std::string, std::string> authorize(const std::string& client_id,
                                                 const std::string& extra = "") {
        auto res = api.client().Get(("/oauth/authorize?response_type=code&client_id=" + client_id +
                                     "&scope=read_write&redirect_uri=" + redirect_uri +
                                     "&state=s1gned" + extra)
                                        .c_str());
        EXPECT_TRUE(res);
        if (!res) return {};
        EXPECT_EQ(res->status, 302) << res->body;
        std::string location = res->get_header_value("Location");
        EXPECT_TRUE(location.starts_with(redirect_uri + "?")) << location;
        httplib::Params params;
        httplib::detail::parse_query_text(location.substr(location.find('?') + 1), params);
        return {params.begin(), params.end()};
    }
    httplib::Result token(const std::string& code, httplib::Headers auth) {
        return api.client().Post("/oauth/token", auth, "grant_type=authorization_code&code=" + code,
                                 "application/x-www-form-urlencoded");
    }
    static httplib::Headers bearer(const std::string& key) {
        return {{"Authorization", "Bearer " + key}};
    }
};

TEST_F(FakeStripeConnect, ApprovalRedirectsWithACodeThatTradesOnceForTheAccountsTokens) {
    auto query = authorize(stripe.connect_client_id());
    EXPECT_EQ(query["state"], "s1gned");
    EXPECT_EQ(query["scope"], "read_write");
    ASSERT_TRUE(query["code"].starts_with("ac_"));

    // Basic auth with the secret key as user name, as Stripe's libraries send it.
    auto res = token(query["code"], {httplib::make_basic_authentication_header(secret_key, "")});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json t = json::parse(res->body);
    EXPECT_EQ(t["token_type"], "bearer");
    EXPECT_EQ(t["scope"], "read_write");
    EXPECT_EQ(t["livemode"], false);
    EXPECT_TRUE(t["access_token"].get<std::string>().starts_with("sk_test_"));
    EXPECT_TRUE(t["refresh_token"].get<std::string>().starts_with("rt_"));
    EXPECT_TRUE(t["stripe_publishable_key"].get<std::string>().starts_with("pk_test_"));
    std::string account = t["stripe_user_id"];
    ASSERT_TRUE(account.starts_with("acct_"));
    EXPECT_TRUE(stripe.is_connected(account));

    // The platform key reaches the account with Stripe-Account; the access token on its own.
    json by_platform = json::parse(api.get("/v1/account", {{"Stripe-Account", account}})->body);
    EXPECT_EQ(by_platform["id"], account);
    Api as_account(stripe, t["access_token"]);
    EXPECT_EQ(json::parse(as_account.get("/v1/account")->body)["id"], account);

    // A code presented twice: Stripe refuses and revokes what it issued.
    auto again = token(query["code"], bearer(secret_key));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 400);
    json error = json::parse(again->body);
    EXPECT_EQ(error["error"], "invalid_grant");
    EXPECT_EQ(error["error_description"], "This authorization code has already been used. All "
                                          "tokens issued with this code have been revoked.");
    EXPECT_EQ(as_account.get("/v1/account")->status, 401);
}

TEST_F(FakeStripeConnect, DenialPerNextCallOrPerClientRedirectsWithAccessDenied) {
    stripe.decide_next_authorization({false, {}});
    auto denied = authorize(stripe.connect_client_id());
    EXPECT_EQ(denied["error"], "access_denied");
    EXPECT_EQ(denied["error_description"], "The user denied your request");
    EXPECT_EQ(denied["state"], "s1gned");
    EXPECT_FALSE(denied.contains("code"));
    EXPECT_TRUE(authorize(stripe.connect_client_id()).contains("code")) << "one call only";

    stripe.add_connect_client("ca_refusing", false);
    EXPECT_EQ(authorize("ca_refusing")["error"], "access_denied");
    AccountProfile chosen;
    chosen.id = "acct_chosen";
    stripe.decide_next_authorization({true, chosen});
    std::string code = authorize("ca_refusing")["code"];
    EXPECT_EQ(json::parse(token(code, bearer(secret_key))->body)["stripe_user_id"], "acct_chosen");
}

TEST_F(FakeStripeConnect, UnknownClientUnknownCodeAndWrongKeyAreOAuthErrors) {
    auto res = api.client().Get(
        ("/oauth/authorize?response_type=code&client_id=ca_nobody&redirect_uri=" + redirect_uri)
            .c_str());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << "no redirect for a client Stripe does not know";
    EXPECT_EQ(json::parse(res->body)["error"], "invalid_client");

    auto unknown = token("ac_never_issued", bearer(secret_key));
    EXPECT_EQ(unknown->status, 400);
    EXPECT_EQ(json::parse(unknown->body),
              (json{{"error", "invalid_grant"},
                    {"error_description", "Authorization code does not exist: ac_never_issued"}}));
    std::string code = authorize(stripe.connect_client_id())["code"];
    auto wrong_key = token(code, bearer("sk_test_someone_else"));
    EXPECT_EQ(wrong_key->status, 401);
    EXPECT_EQ(json::parse(wrong_key->body)["error"], "invalid_client");
    EXPECT_EQ(token(code, bearer(secret_key))->status, 200) << "a refused try does not use it";
}

TEST_F(FakeStripeConnect, DeauthorizeEndsTheConnectionAndSendsTheConnectEventSigned) {
    Receiver platform("whsec_connect_secret");
    stripe.set_webhook_url("");
    stripe.set_connect_webhook(platform.url(), "whsec_connect_secret");
    std::string account = stripe.connect_account();
    auto res =
        api.client().Post("/oauth/deauthorize", bearer(secret_key),
                          "client_id=" + stripe.connect_client_id() + "&stripe_user_id=" + account,
                          "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(json::parse(res->body), (json{{"stripe_user_id", account}}));
    EXPECT_FALSE(stripe.is_connected(account));
    auto gone = api.get("/v1/invoices", {{"Stripe-Account", account}});
    EXPECT_EQ(gone->status, 403);
    EXPECT_EQ(json::parse(gone->body)["error"]["code"], "account_invalid");

    EXPECT_EQ(stripe.deliver(), 1u);
    ASSERT_EQ(platform.deliveries().size(), 1u);
    const Delivery d = platform.deliveries()[0];
    EXPECT_TRUE(d.signature_valid);
    EXPECT_EQ(d.type(), "account.application.deauthorized");
    EXPECT_EQ(d.event()["account"], account);
    EXPECT_EQ(d.event()["data"]["object"]["id"], stripe.connect_client_id());
    EXPECT_EQ(d.event()["data"]["object"]["object"], "application");

    auto twice =
        api.client().Post("/oauth/deauthorize", bearer(secret_key),
                          "client_id=" + stripe.connect_client_id() + "&stripe_user_id=" + account,
                          "application/x-www-form-urlencoded");
    EXPECT_EQ(json::parse(twice->body)["error"], "invalid_client");
}

TEST_F(FakeStripeConnect, AccountAnswersForEachKeyAndUnknownKeysAre401) {
    AccountProfile profile;
    profile.email = "creator@example.org";
    profile.business_name = "Creator Courses";
    stripe.set_account_profile(profile);
    json account = json::parse(api.get("/v1/account")->body);
    EXPECT_EQ(account["id"], stripe.account_id());
    EXPECT_EQ(account["object"], "account");
    EXPECT_EQ(account["email"], "creator@example.org");
    EXPECT_EQ(account["business_profile"]["name"], "Creator Courses");
    EXPECT_EQ(account["country"], "DE");
    EXPECT_EQ(account["default_currency"], "eur");
    EXPECT_EQ(account["charges_enabled"], true);

    Api stranger(stripe, "rk_test_unknownkey0000abcd");
    auto res = stranger.get("/v1/account");
    EXPECT_EQ(res->status, 401);
    json error = json::parse(res->body)["error"];
    EXPECT_EQ(error["type"], "invalid_request_error");
    EXPECT_EQ(error["message"], "Invalid API Key provided: rk_test_**************abcd");
}

TEST_F(FakeStripeConnect, RestrictedKeyMayDoWhatItsPermissionsAllowAndNothingElse) {
    std::string key = stripe.make_restricted_key(
        {"rak_accounts_kyc_basic_read", "rak_invoice_write", "rak_event_read"});
    Api restricted(stripe, key);
    EXPECT_EQ(restricted.get("/v1/account")->status, 200);
    EXPECT_EQ(restricted.get("/v1/invoices?status=open")->status, 200) << "write implies read";
    EXPECT_EQ(restricted.get("/v1/events")->status, 200);

    auto refused = restricted.post("/v1/webhook_endpoints", "",
                                   "url=https://x.example/hook&enabled_events[]=invoice.paid");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403);
    json error = json::parse(refused->body)["error"];
    EXPECT_EQ(error["type"], "invalid_request_error");
    std::string redacted =
        "rk_test_" + std::string(key.size() - 14, '*') + key.substr(key.size() - 6);
    EXPECT_EQ(error["message"],
              "The provided key '" + redacted +
                  "' does not have the required permissions for this endpoint on account '" +
                  stripe.account_id() +
                  "'. Having the 'rak_webhook_write' permission would allow this request to "
                  "continue.");
    EXPECT_TRUE(stripe.webhook_endpoints().empty());

    Api readonly(stripe, stripe.make_restricted_key({"rak_invoice_read"}));
    auto pay = readonly.post("/v1/invoices/in_x/pay", "k");
    EXPECT_EQ(pay->status, 403);
    EXPECT_NE(
        json::parse(pay->body)["error"]["message"].get<std::string>().find("'rak_invoice_write'"),
        std::string::npos);
}

} // namespace
} // namespace dunning::fakes::testing
