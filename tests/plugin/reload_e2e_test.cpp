// SIGHUP on the real `dunning serve`: a valid edit of the file takes effect while it runs, a
// broken one is reported line by line and the running configuration stays.
#include "support/child_service.hpp"
#include "support/files.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;

namespace {

int access_status(const ChildService& s, const std::string& course) {
    auto cli = s.client();
    auto r =
        get_with_token(cli, "/v1/creators/alpha/access?member=cus_1&course=" + course, alpha_token);
    return r ? r->status : 0;
}

// Polls while the service handles the signal (no schedule involved).
bool wait_for_log(const ChildService& s, const std::string& text) {
    for (int i = 0; i < 3000; ++i) {
        if (s.read_log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST(Reload, ValidEditTakesEffectAndABrokenFileKeepsTheRunningConfiguration) {
    TempDir dir;
    ChildServiceOptions options;
    options.log_name = "reload";
    ChildService s(dir.path(), options);
    ASSERT_EQ(access_status(s, "course-new"), 404);
    {
        auto cli = s.client();
        auto before = get_with_token(cli, "/v1/creators/beta/access?member=cus_1&course=course-new",
                                     beta_token);
        ASSERT_TRUE(before);
        ASSERT_EQ(before->status, 404);
    }

    // A new product mapping for beta's table (the last one in the file), a new listen address.
    const std::string original = read_file(s.config_path());
    std::string moved = original;
    moved.replace(moved.find("127.0.0.1:0"), 11, "127.0.0.1:1");
    {
        std::ofstream out(s.config_path(), std::ios::trunc);
        out << moved << "[[creators.products]]\nstripe_product = \"prod_new\"\n"
            << "courses = [\"course-new\"]\n"
            << "[[creators]]\nid = \"gamma\"\nname = \"Gamma\"\nlocale = \"de\"\n"
            << "stripe_account = \"acct_gamma\"\n"
            << "api_token = \"gamma-token-0123456789abcdef\"\n";
    }
    ASSERT_EQ(kill(s.pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_log(s, "applied: 3 creator(s)")) << s.read_log();
    EXPECT_TRUE(wait_for_log(s, "need a restart: server.listen")) << s.read_log();
    EXPECT_EQ(access_status(s, "course-1"), 200);
    auto cli = s.client();
    auto beta =
        get_with_token(cli, "/v1/creators/beta/access?member=cus_1&course=course-new", beta_token);
    ASSERT_TRUE(beta);
    EXPECT_EQ(beta->status, 200) << beta->body;
    auto gamma = get_with_token(cli, "/v1/creators/gamma/cases", "gamma-token-0123456789abcdef");
    ASSERT_TRUE(gamma);
    EXPECT_EQ(gamma->status, 200) << gamma->body;

    // Broken: an unknown locale, reported at its line.
    {
        std::ofstream out(s.config_path(), std::ios::trunc);
        out << original << "[[creators]]\nid = \"delta\"\nname = \"Delta\"\nlocale = \"xx\"\n";
    }
    const auto broken_line = std::count(original.begin(), original.end(), '\n') + 4;
    ASSERT_EQ(kill(s.pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_log(s, "the running configuration stays")) << s.read_log();
    EXPECT_NE(
        s.read_log().find("dunning.toml:" + std::to_string(broken_line) + ": creators[2].locale"),
        std::string::npos)
        << s.read_log();
    // Still answering, with the configuration of the last valid file.
    auto still =
        get_with_token(cli, "/v1/creators/beta/access?member=cus_1&course=course-new", beta_token);
    ASSERT_TRUE(still);
    EXPECT_EQ(still->status, 200);
    EXPECT_EQ(
        get_with_token(cli, "/v1/creators/gamma/cases", "gamma-token-0123456789abcdef")->status,
        200);
    EXPECT_EQ(s.terminate(), 0) << s.read_log();
}

// The interest base-rate table the file points to is read again with it; a table that cannot be
// read keeps the running configuration, as a broken file does.
TEST(Reload, ReadsTheBaseRateTableAgain) {
    TempDir dir;
    const auto rates = dir.path() / "rates.toml";
    const auto write_rates = [&rates](const std::string& percent) {
        std::ofstream(rates) << "[[base_rate]]\nvalid_from = 2020-01-01\npercent = " << percent
                             << "\n";
    };
    write_rates("1.0");
    const auto path = dir.path() / "dunning.toml";
    std::ofstream(path)
        << storage_toml(dir.path()) << "[mail]\nfrom = \"Billing <billing@example.org>\"\n"
        << "outbox_dir = \"outbox\"\n"
        << "[[creators]]\nid = \"alpha\"\nname = \"Alpha\"\n"
        << "webhook_secrets = [\"" << alpha_secret << "\"]\napi_token = \"" << alpha_token << "\"\n"
        << "[creators.dunning]\ninterest = true\nbase_rates_file = \"rates.toml\"\n";
    auto loaded = config::load_config(path.string());
    ASSERT_TRUE(loaded) << loaded.error().front();
    plugin::Module module(std::move(loaded).value());
    const auto percent = [&module] {
        const auto table = module.base_rates().of(*module.creators().find("alpha"));
        return table.empty() ? -100.0 : table.back().percent;
    };
    EXPECT_EQ(percent(), 1.0);
    write_rates("3.5");
    ASSERT_TRUE(module.reload(path.string()));
    EXPECT_EQ(percent(), 3.5);
    std::ofstream(rates) << "[[base_rate]]\nvalid_from = 2020-01-02\npercent = 2.0\n";
    EXPECT_FALSE(module.reload(path.string()));
    EXPECT_EQ(percent(), 3.5);
}

} // namespace
