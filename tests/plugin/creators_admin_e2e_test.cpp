// The admin API against the real Module on loopback: creators made, changed, given new tokens
// and kept across a restart, each seen by the routes at once; a creator's token reaches only its
// own creator and never the admin routes.
#include "creators_admin_support.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

int status_of(Service& s, const std::string& method, const std::string& path,
              const std::string& token, const std::string& body = "") {
    auto cli = s.client();
    const auto r = send(cli, method, path, token, body);
    return r ? r->status : -1;
}

TEST(CreatorsAdmin, ACreatedCreatorsTokenWorksAtOnceAndIsShownOnlyOnce) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    auto cli = s.client();
    const auto r = send(cli, "POST", "/v1/creators", admin_token, gamma_body().dump());
    ASSERT_EQ(r->status, 201) << r->body;
    const auto created = json::parse(r->body);
    const std::string token = created["api_token"];
    EXPECT_GE(token.size(), 32u);
    EXPECT_EQ(created["id"], "gamma");
    EXPECT_EQ(created["source"], "api");
    EXPECT_EQ(created["disabled"], false);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma/cases", token), 200);
    const auto shown = send(cli, "GET", "/v1/creators/gamma", admin_token);
    ASSERT_EQ(shown->status, 200);
    EXPECT_EQ(shown->body.find(token), std::string::npos);
    EXPECT_FALSE(json::parse(shown->body).contains("api_token"));
    EXPECT_EQ(json::parse(shown->body)["products"][0]["courses"][0], "course-g1");
    const auto list = send(cli, "GET", "/v1/creators", admin_token);
    ASSERT_EQ(list->status, 200);
    EXPECT_EQ(json::parse(list->body)["data"].size(), 3u);
    for (const auto& secret : configured_secrets())
        EXPECT_EQ(list->body.find(secret), std::string::npos) << secret;
}

TEST(CreatorsAdmin, TheListShowsEachCreatorsStripeConnectionAsItsOwnPageDoes) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    create_gamma(s);
    auto cli = s.client();
    const auto list = send(cli, "GET", "/v1/creators", admin_token);
    ASSERT_EQ(list->status, 200);
    const auto data = json::parse(list->body)["data"];
    ASSERT_EQ(data.size(), 3u);
    for (const auto& c : data) {
        const std::string id = c["id"];
        const auto one = json::parse(send(cli, "GET", "/v1/creators/" + id, admin_token)->body);
        ASSERT_TRUE(c.contains("stripe")) << id;
        EXPECT_EQ(c["stripe"], one["stripe"]) << id;
    }
    EXPECT_EQ(data[2]["stripe"]["method"], "platform"); // gamma, by id
    EXPECT_EQ(data[2]["stripe"]["account"], "acct_gamma");
}

TEST(CreatorsAdmin, AnExistingIdIsAConflict) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    create_gamma(s);
    EXPECT_EQ(status_of(s, "POST", "/v1/creators", admin_token, gamma_body().dump()), 409);
    auto alpha = gamma_body();
    alpha["id"] = "alpha";
    EXPECT_EQ(status_of(s, "POST", "/v1/creators", admin_token, alpha.dump()), 409);
}

// Two instances on one store: the second has not yet read the creator the first made, and still
// cannot give that creator's account to another (events are routed by account; two holders would
// also stop every later start). Neither by a new creator nor by a changed one.
TEST(CreatorsAdmin, AnAccountAnotherInstanceGaveAwayIsRefused) {
    TempDir dir;
    Service first(admin_config(dir.path()));
    Service second(admin_config(dir.path()));
    create_gamma(first);
    auto delta = gamma_body();
    delta["id"] = "delta";
    auto cli = second.client();
    const auto refused = send(cli, "POST", "/v1/creators", admin_token, delta.dump());
    EXPECT_EQ(refused->status, 400) << refused->body;
    EXPECT_NE(refused->body.find("stripe_account: already used by creator gamma"),
              std::string::npos)
        << refused->body;
    delta["stripe_account"] = "acct_delta";
    ASSERT_EQ(send(cli, "POST", "/v1/creators", admin_token, delta.dump())->status, 201);
    const auto changed = send(cli, "PATCH", "/v1/creators/delta", admin_token,
                              R"({"stripe_account": "acct_gamma"})");
    EXPECT_EQ(changed->status, 400) << changed->body;
    EXPECT_NE(changed->body.find("already used by creator gamma"), std::string::npos)
        << changed->body;
    EXPECT_EQ(
        json::parse(send(cli, "GET", "/v1/creators/delta", admin_token)->body)["stripe_account"],
        "acct_delta");
}

// Every problem at once, in the words `dunning check-config` uses for the same table.
TEST(CreatorsAdmin, AnInvalidBodyListsEveryProblemAsCheckConfigWordsIt) {
    TempDir dir;
    const auto base = admin_config(dir.path());
    Service s(base);
    auto cli = s.client();
    const json body = {{"id", "Bad Id"},
                       {"locale", "fr"},
                       {"reply_to", "not a mailbox"},
                       {"products", {{{"stripe_product", "price_1"}, {"courses", json::array()}}}},
                       {"retry", {{"mode", "sometimes"}}}};
    const auto r = send(cli, "POST", "/v1/creators", admin_token, body.dump());
    ASSERT_EQ(r->status, 400) << r->body;
    const auto problems = json::parse(r->body)["problems"].get<std::vector<std::string>>();
    const std::string file = "[[creators]]\nid = \"Bad Id\"\nlocale = \"fr\"\n"
                             "reply_to = \"not a mailbox\"\napi_token = \"0123456789abcdefg\"\n"
                             "[[creators.products]]\nstripe_product = \"price_1\"\ncourses = []\n"
                             "[creators.retry]\nmode = \"sometimes\"\n"
                             "[mail]\nfrom = \"a@b.example\"\n";
    const auto checked = config::parse_config(file, "t.toml", dir.path().string());
    ASSERT_FALSE(checked.ok());
    for (const auto& key : {"id:", "name:", "locale:", "reply_to:", "products[0].stripe_product:",
                            "products[0].courses:", "retry.mode:"}) {
        const auto api = std::find_if(problems.begin(), problems.end(),
                                      [&](const std::string& p) { return p.starts_with(key); });
        ASSERT_NE(api, problems.end()) << key << " missing from " << r->body;
        const auto same =
            std::find_if(checked.error().begin(), checked.error().end(), [&](const std::string& p) {
                return p.ends_with(": creators[0]." + *api);
            });
        EXPECT_NE(same, checked.error().end()) << *api << " is not how check-config words it";
    }
    const auto secret = send(cli, "POST", "/v1/creators", admin_token,
                             json{{"id", "delta"},
                                  {"name", "Delta"},
                                  {"stripe_account", "acct_delta"},
                                  {"stripe_secret_key", "sk_test_delta"}}
                                 .dump());
    ASSERT_EQ(secret->status, 400);
    EXPECT_NE(secret->body.find("stripe_secret_key: is a secret"), std::string::npos);
    EXPECT_EQ(status_of(s, "POST", "/v1/creators", admin_token, "[1]"), 400);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/delta", admin_token), 404);
}

TEST(CreatorsAdmin, APatchIsSeenAtOnce) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto token = create_gamma(s);
    const auto access = "/v1/creators/gamma/access?member=cus_1&course=course-g2";
    EXPECT_EQ(status_of(s, "GET", access, token), 404);
    const json change = {
        {"products", {{{"stripe_product", "prod_gamma"}, {"courses", {"course-g1", "course-g2"}}}}},
        {"name", "Gamma Academy"}};
    EXPECT_EQ(status_of(s, "PATCH", "/v1/creators/gamma", token, change.dump()), 200);
    EXPECT_EQ(status_of(s, "GET", access, token), 200);
    auto cli = s.client();
    const auto shown = json::parse(send(cli, "GET", "/v1/creators/gamma", token)->body);
    EXPECT_EQ(shown["name"], "Gamma Academy");
    EXPECT_EQ(shown["locale"], "en"); // untouched keys stay
    // The same checks as on creation; nothing changes on a refusal.
    const auto bad = send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                          json{{"locale", "fr"}, {"id", "other"}}.dump());
    ASSERT_EQ(bad->status, 400);
    EXPECT_EQ(json::parse(bad->body)["problems"],
              (json{"id: cannot be changed", "locale: must be \"de\" or \"en\""}))
        << bad->body; // every problem at once
    EXPECT_EQ(status_of(s, "PATCH", "/v1/creators/gamma", admin_token, R"({"locale": "fr"})"), 400);
    EXPECT_EQ(json::parse(send(cli, "GET", "/v1/creators/gamma", token)->body)["locale"], "en");
    // A creator of the file is changed in the file.
    EXPECT_EQ(status_of(s, "PATCH", "/v1/creators/alpha", admin_token, R"({"name": "A"})"), 409);
}

TEST(CreatorsAdmin, ANewTokenEndsTheOldOneAtOnce) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto old_token = create_gamma(s);
    auto cli = s.client();
    const auto r = send(cli, "POST", "/v1/creators/gamma/api-token", admin_token);
    ASSERT_EQ(r->status, 200) << r->body;
    const std::string fresh = json::parse(r->body)["api_token"];
    EXPECT_NE(fresh, old_token);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma/cases", old_token), 401);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma/cases", fresh), 200);
    EXPECT_EQ(status_of(s, "POST", "/v1/creators/alpha/api-token", admin_token), 409);
}

TEST(CreatorsAdmin, ACreatorsTokenReachesOnlyItsOwnCreator) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto token = create_gamma(s);
    auto other = gamma_body();
    other["id"] = "delta";
    other["stripe_account"] = "acct_delta";
    const std::vector<std::tuple<std::string, std::string, std::string, int>> refused = {
        {"GET", "/v1/creators", "", 403},
        {"POST", "/v1/creators", other.dump(), 403},
        {"GET", "/v1/creators/alpha", "", 403},
        {"PATCH", "/v1/creators/alpha", R"({"name": "x"})", 403},
        {"GET", "/v1/creators/alpha/cases", "", 403},
        {"POST", "/v1/creators/gamma/disable", "", 403},
        {"POST", "/v1/creators/gamma/api-token", "", 403},
        {"POST", "/v1/creators/alpha/disable", "", 403},
    };
    for (const auto& [method, path, body, status] : refused)
        EXPECT_EQ(status_of(s, method, path, token, body), status) << method << " " << path;
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma", alpha_token), 403);
    EXPECT_EQ(status_of(s, "PATCH", "/v1/creators/gamma", alpha_token, R"({"name": "x"})"), 403);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma/cases", alpha_token), 403);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/alpha", alpha_token), 200);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators", ""), 401);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators", "not-a-token-at-all"), 401);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/delta", admin_token), 404);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma", token), 200);
}

TEST(CreatorsAdmin, DisablingIsStoredAndShown) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    create_gamma(s);
    auto cli = s.client();
    ASSERT_EQ(status_of(s, "POST", "/v1/creators/gamma/disable", admin_token), 200);
    EXPECT_EQ(json::parse(send(cli, "GET", "/v1/creators/gamma", admin_token)->body)["disabled"],
              true);
    ASSERT_EQ(status_of(s, "POST", "/v1/creators/alpha/disable", admin_token), 200);
    ASSERT_EQ(status_of(s, "POST", "/v1/creators/gamma/enable", admin_token), 200);
    EXPECT_EQ(json::parse(send(cli, "GET", "/v1/creators/gamma", admin_token)->body)["disabled"],
              false);
}

std::size_t emails_in(const std::filesystem::path& outbox) {
    std::size_t n = 0;
    if (std::filesystem::exists(outbox))
        for (const auto& f : std::filesystem::recursive_directory_iterator(outbox))
            n += f.path().extension() == ".eml";
    return n;
}

// A disabled creator's webhooks are still taken and its cases kept, but its emails wait until it
// is enabled again.
TEST(CreatorsAdmin, ADisabledCreatorsEmailsWaitUntilItIsEnabled) {
    TempDir dir;
    const auto start = plugin::SystemClock().now();
    Service s(admin_config(dir.path()), plugin::ModuleOptions{true, start});
    auto cli = s.client();
    ASSERT_EQ(status_of(s, "POST", "/v1/creators/alpha/disable", admin_token), 200);
    auto e = fixture("invoice.payment_failed");
    e["data"]["object"]["customer_email"] = "member@example.org";
    e.erase("account");
    ASSERT_EQ(post_signed(cli, "/webhooks/stripe/alpha", e.dump(), alpha_secret)->status, 200);
    s.drain(); // the case opens before the clock moves
    ASSERT_EQ(get_with_token(cli, "/v1/creators/alpha/cases/1", alpha_token)->status, 200);
    const auto advance = [&](std::chrono::seconds by) {
        return cli
            .Post("/v1/test-clock/advance", json{{"seconds", by.count()}}.dump(),
                  "application/json")
            ->status;
    };
    ASSERT_EQ(advance(std::chrono::days{4}), 200); // the first reminder is due after 3 days
    const auto outbox = dir.path() / "outbox";
    EXPECT_EQ(emails_in(outbox), 0u);
    const auto actions = [&] {
        const auto r = get_with_token(cli, "/v1/creators/alpha/cases/1", alpha_token);
        return json::parse(r->body)["actions"];
    };
    bool held = false;
    for (const auto& a : actions())
        held = held || (a["kind"] == "email" && a["state"] == "pending" &&
                        a["last_error"] == "held: creator disabled");
    EXPECT_TRUE(held) << actions().dump();
    ASSERT_EQ(status_of(s, "POST", "/v1/creators/alpha/enable", admin_token), 200);
    ASSERT_EQ(advance(std::chrono::hours{2}), 200);
    EXPECT_EQ(emails_in(outbox), 1u) << actions().dump();
}

TEST(CreatorsAdmin, ARestartKeepsTheCreatorsOfTheApiAndTheirFlags) {
    TempDir dir;
    std::string token;
    {
        Service s(admin_config(dir.path()));
        token = create_gamma(s);
        ASSERT_EQ(status_of(s, "PATCH", "/v1/creators/gamma", token, R"({"name": "G2"})"), 200);
        ASSERT_EQ(status_of(s, "POST", "/v1/creators/alpha/disable", admin_token), 200);
    }
    Service s(admin_config(dir.path()));
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/gamma/cases", token), 200);
    auto cli = s.client();
    const auto gamma = json::parse(send(cli, "GET", "/v1/creators/gamma", admin_token)->body);
    EXPECT_EQ(gamma["name"], "G2");
    EXPECT_EQ(gamma["source"], "api");
    const auto alpha = json::parse(send(cli, "GET", "/v1/creators/alpha", admin_token)->body);
    EXPECT_EQ(alpha["disabled"], true);
    EXPECT_EQ(alpha["source"], "config");
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/alpha/cases", alpha_token), 200);
}

TEST(CreatorsAdmin, AnIdInTheFileAndMadeThroughTheApiStopsTheStart) {
    TempDir dir;
    {
        Service s(admin_config(dir.path()));
        create_gamma(s);
    }
    auto c = admin_config(dir.path());
    config::CreatorConfig gamma;
    gamma.id = "gamma";
    gamma.name = "Gamma";
    gamma.webhook_secrets = {beta_secret};
    gamma.api_token = "gamma-token-0123456789";
    c.creators.push_back(gamma);
    try {
        plugin::Module module(c);
        FAIL() << "the module started";
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("creator gamma"), std::string::npos) << message;
        EXPECT_NE(message.find(c.path), std::string::npos) << message;
    }
}

TEST(CreatorsAdmin, WithoutAnAdminTokenTheRoutesAreOff) {
    TempDir dir;
    Service s(test_config(dir.path()));
    auto cli = s.client();
    const auto r = send(cli, "POST", "/v1/creators", alpha_token, gamma_body().dump());
    EXPECT_EQ(r->status, 404);
    EXPECT_NE(r->body.find("[platform] admin_token"), std::string::npos) << r->body;
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/alpha", alpha_token), 404);
    EXPECT_EQ(status_of(s, "GET", "/v1/creators/alpha/cases", alpha_token), 200);
}

} // namespace
