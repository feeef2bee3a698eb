// A creator of the admin API read by the [[creators]] rules, and [platform] admin_token.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "tests/config/support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace dunning::config {
namespace {

using namespace testing;

Config base() {
    auto c = parse_config("[stripe]\nconnect_webhook_secrets = [\"whsec_p\"]\n"
                          "platform_secret_key = \"sk_test_platform\"\n"
                          "[retry]\nmode = \"plugin\"\n[platform]\nadmin_token = "
                          "\"admin-token-0123456789\"\n[mail]\n" +
                              sender,
                          "t.toml", "/etc/dunning", no_env);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : joined(c.error()));
    return c.value();
}

TEST(PlatformConfig, AdminTokenIsOptionalAndLongEnough) {
    EXPECT_EQ(base().platform.admin_token, "admin-token-0123456789");
    EXPECT_TRUE(base().creators.empty()); // with the admin API no [[creators]] is needed
    const auto short_token =
        parse_config("[platform]\nadmin_token = \"short\"\n" + creator("a") + "[mail]\n" + sender,
                     "t.toml", "/etc/dunning", no_env);
    ASSERT_FALSE(short_token.ok());
    EXPECT_EQ(joined(short_token.error()),
              "t.toml:2: platform.admin_token: must be at least 16 characters\n");
}

TEST(PlatformConfig, AdminTokenIsNoCreatorsToken) {
    const auto same = parse_config("[platform]\nadmin_token = \"a-token-0123456789\"\n" +
                                       creator("a") + "[mail]\n" + sender,
                                   "t.toml", "/etc/dunning", no_env);
    ASSERT_FALSE(same.ok());
    EXPECT_EQ(joined(same.error()), "t.toml:2: platform.admin_token: must differ from every "
                                    "creator's api_token (creator a has the same)\n");
}

TEST(ApiCreator, InheritsTheGlobalsAndNeedsNoToken) {
    const auto c =
        parse_api_creator("id = \"gamma\"\nname = \"Gamma\"\nstripe_account = \"acct_g\"\n"
                          "products = [{stripe_product = \"prod_g\", courses = [\"c1\"]}]\n",
                          base());
    ASSERT_TRUE(c.ok()) << joined(c.error());
    EXPECT_EQ(c.value().source, "api");
    EXPECT_EQ(c.value().retry.mode, RetryMode::plugin);
    EXPECT_TRUE(c.value().api_token.empty());
}

TEST(ApiCreator, RefusesSecretsPathsAndTheEnvironment) {
    const auto c = parse_api_creator(
        "id = \"gamma\"\nname = \"${HOME}\"\nstripe_account = \"acct_g\"\n"
        "api_token = \"gamma-token-0123456789\"\nwebhook_secrets = [\"whsec_g\"]\n"
        "stripe_secret_key = \"sk_test_g\"\ndunning = {template_dir = \"/etc\"}\n",
        base());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(joined(c.error()),
              "api_token: is a secret and cannot be set through the admin API\n"
              "webhook_secrets: is a secret and cannot be set through the admin API\n"
              "stripe_secret_key: is a secret and cannot be set through the admin API\n"
              "dunning.template_dir: is a path on the server and can only be set in the "
              "configuration file\n"
              "name: environment variable HOME is not set\n");
}

TEST(CreatorRegistry, ReadersKeepTheirSnapshotWhileItChanges) {
    CreatorRegistry registry;
    CreatorConfig a;
    a.id = "a";
    a.name = "first";
    a.stripe_account = "acct_a";
    EXPECT_TRUE(registry.put(a));
    EXPECT_FALSE(registry.put(a));
    const auto held = registry.find("a");
    std::thread writer([&] {
        for (int i = 0; i < 1000; ++i) {
            auto changed = a;
            changed.name = "n" + std::to_string(i);
            registry.replace(changed);
        }
    });
    for (int i = 0; i < 1000; ++i)
        EXPECT_EQ(registry.find_by_account("acct_a")->id, "a");
    writer.join();
    EXPECT_EQ(held->name, "first");
    EXPECT_EQ(registry.find("a")->name, "n999");
    EXPECT_EQ(registry.find_by_account(""), nullptr);
    EXPECT_EQ(registry.all().size(), 1u);
}

} // namespace
} // namespace dunning::config
