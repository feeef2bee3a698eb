// The admin API against what a careless or hostile caller sends: a creator reaching for another
// account, a body nested to crash a recursive reader, bytes that are not UTF-8 in the path, and
// the creator GET showed sent back as a PATCH.
#include "creators_admin_support.hpp"

#include "plugin/replay.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace dunning;
using namespace dunning::testing;

namespace {

TEST(CreatorsAdminHostile, OnlyThePlatformGivesACreatorAnotherStripeAccount) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto token = create_gamma(s);
    auto cli = s.client();
    const auto mine = send(cli, "PATCH", "/v1/creators/gamma", token,
                           R"({"stripe_account": "acct_someone_else"})");
    ASSERT_EQ(mine->status, 403) << mine->body;
    EXPECT_NE(mine->body.find("only the admin token may change stripe_account"), std::string::npos);
    EXPECT_EQ(s.module().creators().find("gamma")->stripe_account, "acct_gamma");
    EXPECT_EQ(s.module().creators().find_by_account("acct_someone_else"), nullptr);
    // Its own other settings it may change, and sending its account unchanged is no change.
    const auto same = send(cli, "PATCH", "/v1/creators/gamma", token,
                           R"({"stripe_account": "acct_gamma", "name": "Gamma Academy"})");
    EXPECT_EQ(same->status, 200) << same->body;
    const auto admin = send(cli, "PATCH", "/v1/creators/gamma", admin_token,
                            R"({"stripe_account": "acct_gamma_2"})");
    EXPECT_EQ(admin->status, 200) << admin->body;
    EXPECT_EQ(s.module().creators().find("gamma")->stripe_account, "acct_gamma_2");
}

TEST(CreatorsAdminHostile, ADeeplyNestedBodyIsRefusedAndTheServiceStaysUp) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto token = create_gamma(s);
    auto cli = s.client();
    const std::string deep =
        R"({"name": )" + std::string(200000, '[') + std::string(200000, ']') + "}";
    const auto patched = send(cli, "PATCH", "/v1/creators/gamma", token, deep);
    ASSERT_TRUE(patched);
    EXPECT_EQ(patched->status, 400) << patched->body.substr(0, 200);
    EXPECT_NE(patched->body.find("nested deeper than"), std::string::npos);
    std::string objects = "{\"id\": \"delta\", \"retry\": ";
    for (int i = 0; i < 100000; ++i)
        objects += "{\"a\": ";
    objects += "1" + std::string(100000, '}') + "}";
    const auto created = send(cli, "POST", "/v1/creators", admin_token, objects);
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status, 400);
    EXPECT_EQ(send(cli, "GET", "/v1/creators/gamma", token)->status, 200);
}

TEST(CreatorsAdminHostile, AnIdThatIsNotUtf8IsAnAnswerNotAFailure) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    auto cli = s.client();
    const auto r = send(cli, "GET", "/v1/creators/%FF%FE/cases", alpha_token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << r->body;
    EXPECT_TRUE(json::accept(r->body)) << r->body;
    const auto admin = send(cli, "GET", "/v1/creators/%FF", admin_token);
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->status, 404) << admin->body;
}

TEST(CreatorsAdminHostile, WhatGetShowsCanBeSentBackAsAPatch) {
    TempDir dir;
    Service s(admin_config(dir.path()));
    const auto token = create_gamma(s);
    auto cli = s.client();
    const auto shown = send(cli, "GET", "/v1/creators/gamma", token);
    ASSERT_EQ(shown->status, 200);
    auto body = json::parse(shown->body);
    // Made with an account, it is connected through the platform from the start.
    ASSERT_TRUE(body.contains("stripe")) << shown->body;
    EXPECT_EQ(body["stripe"]["method"], "platform") << shown->body;
    EXPECT_EQ(body["stripe"]["status"], "connected") << shown->body;
    const auto connected_at = body["stripe"]["connected_at"];
    body["name"] = "Gamma Academy";
    const auto patched = send(cli, "PATCH", "/v1/creators/gamma", token, body.dump());
    EXPECT_EQ(patched->status, 200) << patched->body;
    EXPECT_EQ(s.module().creators().find("gamma")->name, "Gamma Academy");
    // The same account sent back is no new connection.
    const auto again = json::parse(send(cli, "GET", "/v1/creators/gamma", token)->body);
    EXPECT_EQ(again["stripe"]["connected_at"], connected_at) << again.dump();
    EXPECT_FALSE(s.module().creators().find("gamma")->disabled);
}

TEST(CreatorsAdminHostile, TwoCreatorsOnOneStripeAccountStopTheStart) {
    TempDir dir;
    {
        Service s(admin_config(dir.path()));
        create_gamma(s);
    }
    auto c = admin_config(dir.path());
    c.creators[0].stripe_account = "acct_gamma";
    try {
        plugin::Module module(c);
        FAIL() << "the module started";
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("acct_gamma"), std::string::npos) << message;
        EXPECT_NE(message.find("gamma"), std::string::npos) << message;
    }
}

TEST(CreatorsAdminHostile, ReplayRoutesEventsToCreatorsOfTheApi) {
    TempDir dir;
    const auto config = admin_config(dir.path());
    {
        Service s(config);
        create_gamma(s);
    }
    const auto events = dir.path() / "events.jsonl";
    std::ofstream(events) << json{{"id", "evt_gamma_1"},
                                  {"object", "event"},
                                  {"type", "customer.updated"},
                                  {"created", 1767225600},
                                  {"account", "acct_gamma"},
                                  {"data", {{"object", {{"id", "cus_1"}, {"object", "customer"}}}}}}
                                 .dump()
                          << "\n";
    std::ostringstream err;
    const auto r = plugin::replay(config, {events.string(), "", false}, err);
    EXPECT_EQ(r.inserted, 1) << err.str();
    EXPECT_EQ(r.rejected, 0) << err.str();
    EXPECT_THROW(plugin::replay(config, {events.string(), "nobody", false}, err),
                 std::runtime_error);
    EXPECT_NO_THROW(plugin::replay(config, {events.string(), "gamma", false}, err));
}

} // namespace
