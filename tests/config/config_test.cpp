#include "config/config.hpp"
#include "tests/config/support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <unistd.h>

namespace dunning::config {
namespace {

using namespace testing;

Problems problems_of(const std::string& text, const EnvLookup& env = no_env) {
    return problems_in(text, "/etc/dunning", env);
}

Config parsed(const std::string& text, const EnvLookup& env = no_env,
              const std::string& base_dir = "/etc/dunning") {
    return parsed_in(text, base_dir, env);
}

// "[[creators]]" on line 1, then id (2), name (3), webhook_secrets (4), api_token (5), then
// `extra` from line 6. `changes` replaces one of those lines by its key; "" comments it out,
// so the line numbers stay put.
std::string creator_with(const std::map<std::string, std::string>& changes = {},
                         const std::string& extra = "") {
    const std::vector<std::pair<std::string, std::string>> lines = {
        {"id", R"(id = "acme")"},
        {"name", R"(name = "Acme Courses")"},
        {"webhook_secrets", R"(webhook_secrets = ["whsec_acme"])"},
        {"api_token", R"(api_token = "acme-token-0123456789")"},
    };
    std::string out = "[[creators]]\n";
    for (const auto& [key, line] : lines) {
        auto it = changes.find(key);
        if (it == changes.end())
            out += line + "\n";
        else
            out += it->second.empty() ? "# no " + key + "\n" : it->second + "\n";
    }
    return out + extra;
}

// Appended after the text under test, whose lines therefore start at 1.
const std::string valid_creator = "\n" + creator_with();

struct Rule {
    std::string text;
    std::string message;
};

void expect_each(const std::vector<Rule>& rules, const std::string& suffix) {
    for (const auto& rule : rules) {
        SCOPED_TRACE(rule.text);
        EXPECT_EQ(problems_of(rule.text + suffix), Problems{rule.message});
    }
}

std::size_t line_containing(const std::string& path, const std::string& needle) {
    std::ifstream file(path);
    std::string line;
    for (std::size_t number = 1; std::getline(file, line); ++number)
        if (line.find(needle) != std::string::npos) return number;
    ADD_FAILURE() << needle << " not found in " << path;
    return 0;
}

const std::string example = std::string(DUNNING_SOURCE_DIR) + "/config/example.toml";

TEST(ExampleConfig, LoadsWithTheDemoEnvironment) {
    auto result =
        load_config(example, env_of({{"DUNNING_DEMO_WEBHOOK_SECRET", "whsec_demo"},
                                     {"DUNNING_DEMO_API_TOKEN", "demo-token-0123456789"},
                                     {"DUNNING_DEMO_ADMIN_TOKEN", "demo-admin-token-0123456789"}}));
    ASSERT_TRUE(result.ok()) << joined(result.error());
    const Config& config = result.value();
    EXPECT_EQ(config.path, example);
    EXPECT_EQ(config.server.host, "127.0.0.1");
    EXPECT_EQ(config.server.port, 8080);
    const std::string dir = std::string(DUNNING_SOURCE_DIR) + "/config/";
    EXPECT_EQ(config.storage.sqlite_path, dir + "../var/demo/dunning.db");
    EXPECT_EQ(config.mail.transport, "outbox");
    EXPECT_EQ(config.mail.outbox_dir, dir + "../var/demo/outbox");
    EXPECT_EQ(config.retry.mode, RetryMode::stripe);
    ASSERT_EQ(config.creators.size(), 1u);
    const CreatorConfig& demo = config.creators[0];
    EXPECT_EQ(demo.id, "demo");
    EXPECT_EQ(demo.name, "Demo Academy");
    EXPECT_EQ(demo.locale, "de");
    EXPECT_EQ(demo.webhook_secrets, std::vector<std::string>{"whsec_demo"});
    EXPECT_EQ(demo.api_token, "demo-token-0123456789");
    ASSERT_EQ(demo.products.size(), 1u);
    EXPECT_EQ(demo.products[0].stripe_product, "prod_demo_course");
    EXPECT_EQ(demo.products[0].courses, std::vector<std::string>{"course-101"});
}

TEST(ExampleConfig, NamesTheMissingEnvironmentVariables) {
    auto result = load_config(example, no_env);
    ASSERT_FALSE(result.ok());
    const auto secrets_line = line_containing(example, "${DUNNING_DEMO_WEBHOOK_SECRET}\"]");
    const auto token_line = line_containing(example, "api_token = \"${DUNNING_DEMO_API_TOKEN}\"");
    const auto admin_line =
        line_containing(example, "admin_token = \"${DUNNING_DEMO_ADMIN_TOKEN}\"");
    EXPECT_EQ(result.error(), (Problems{example + ":" + std::to_string(admin_line) +
                                            ": platform.admin_token: environment variable "
                                            "DUNNING_DEMO_ADMIN_TOKEN is not set",
                                        example + ":" + std::to_string(secrets_line) +
                                            ": creators[0].webhook_secrets: environment variable "
                                            "DUNNING_DEMO_WEBHOOK_SECRET is not set",
                                        example + ":" + std::to_string(token_line) +
                                            ": creators[0].api_token: environment variable "
                                            "DUNNING_DEMO_API_TOKEN is not set"}));
}

TEST(Config, MinimalConfigGetsTheDefaults) {
    const Config config = parsed(creator_with());
    EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
    EXPECT_EQ(config.server.host, "127.0.0.1");
    EXPECT_EQ(config.server.port, 8080);
    EXPECT_EQ(config.server.threads, 64);
    EXPECT_EQ(config.server.request_deadline_seconds, 10);
    EXPECT_EQ(config.server.max_connections, 4096);
    EXPECT_EQ(config.server.max_connections_per_client, 256);
    EXPECT_EQ(config.server.max_buffered_bytes, 256u * 1024u * 1024u);
    EXPECT_EQ(config.server.max_body_bytes, 1024u * 1024u);
    EXPECT_EQ(config.storage.sqlite_path, "/etc/dunning/dunning.db");
    EXPECT_EQ(config.storage.synchronous, "full");
    EXPECT_EQ(config.stripe.api_base, "https://api.stripe.com");
    EXPECT_EQ(config.stripe.webhook_tolerance, std::chrono::seconds(300));
    EXPECT_EQ(config.mail.transport, "outbox");
    EXPECT_EQ(config.mail.outbox_dir, "/etc/dunning/outbox");
    EXPECT_EQ(config.retry.mode, RetryMode::stripe);
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(config.creators[0].locale, "de");
    EXPECT_EQ(config.creators[0].retry.mode, RetryMode::stripe);
}

TEST(Config, ReadsEveryKey) {
    const std::string text = R"([server]
listen = "[::1]:0"
threads = 8
max_body_bytes = 2048
[storage]
sqlite_path = "/var/lib/dunning/d.db"
synchronous = "normal"
[stripe]
api_base = "http://127.0.0.1:12111"
platform_secret_key = "rk_test_1"
connect_webhook_secrets = ["whsec_old", "whsec_new"]
webhook_tolerance_seconds = 0
[mail]
transport = "smtp"
smtp_url = "smtps://u:p@mail.example.com"
from = "Acme <billing@example.com>"
[host]
webhook_url = "https://courses.example.com/hook"
webhook_secret = "host-secret"
[[creators]]
id = "acme"
name = "Acme"
locale = "en"
stripe_account = "acct_1"
stripe_secret_key = "sk_test_1"
api_token = "acme-token-0123456789"
)";
    const Config config = parsed(text);
    EXPECT_EQ(config.server.host, "::1");
    EXPECT_EQ(config.server.port, 0);
    EXPECT_EQ(config.server.threads, 8);
    EXPECT_EQ(config.server.max_body_bytes, 2048u);
    EXPECT_EQ(config.storage.sqlite_path, "/var/lib/dunning/d.db");
    EXPECT_EQ(config.storage.synchronous, "normal");
    EXPECT_EQ(config.stripe.api_base, "http://127.0.0.1:12111");
    EXPECT_EQ(config.stripe.platform_secret_key, "rk_test_1");
    EXPECT_EQ(config.stripe.connect_webhook_secrets,
              (std::vector<std::string>{"whsec_old", "whsec_new"}));
    EXPECT_EQ(config.stripe.webhook_tolerance, std::chrono::seconds(0));
    EXPECT_EQ(config.mail.transport, "smtp");
    EXPECT_EQ(config.mail.smtp_url, "smtps://u:p@mail.example.com");
    EXPECT_EQ(config.mail.from, "Acme <billing@example.com>");
    EXPECT_EQ(config.host.webhook_url, "https://courses.example.com/hook");
    EXPECT_EQ(config.host.webhook_secret, "host-secret");
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(config.creators[0].locale, "en");
    EXPECT_EQ(config.creators[0].stripe_account, "acct_1");
    EXPECT_EQ(config.creators[0].stripe_secret_key, "sk_test_1");
    EXPECT_TRUE(config.creators[0].webhook_secrets.empty());
}

TEST(Config, ListenAcceptsIpv4LocalhostAndBracketedIpv6) {
    EXPECT_EQ(parsed("[server]\nlisten = \"localhost:9000\"\n" + valid_creator).server.port, 9000);
    const Config any = parsed("[server]\nlisten = \"0.0.0.0:65535\"\n" + valid_creator);
    EXPECT_EQ(any.server.host, "0.0.0.0");
    EXPECT_EQ(any.server.port, 65535);
}

TEST(Config, EachServerStorageAndStripeRule) {
    const std::string host_problem = R"(host must be an IPv4 address, "localhost" or an IPv6 )"
                                     R"(address in brackets like "[::1]")";
    expect_each(
        {
            {"[server]\nlisten = \"8080\"\n",
             R"(t.toml:2: server.listen: must be "host:port", e.g. "127.0.0.1:8080")"},
            {"[server]\nlisten = \"example.com:80\"\n", "t.toml:2: server.listen: " + host_problem},
            {"[server]\nlisten = \"::1:80\"\n", "t.toml:2: server.listen: " + host_problem},
            {"[server]\nlisten = \"127.0.0.1:70000\"\n",
             "t.toml:2: server.listen: port must be a number from 0 to 65535"},
            {"[server]\nlisten = \"127.0.0.1:\"\n",
             "t.toml:2: server.listen: port must be a number from 0 to 65535"},
            {"[server]\nlisten = 8080\n", "t.toml:2: server.listen: must be a string"},
            {"[server]\nthreads = 0\n", "t.toml:2: server.threads: must be between 1 and 1024"},
            {"[server]\nthreads = 1025\n", "t.toml:2: server.threads: must be between 1 and 1024"},
            {"[server]\nthreads = \"8\"\n", "t.toml:2: server.threads: must be an integer"},
            {"[server]\nthreads = 8.0\n", "t.toml:2: server.threads: must be an integer"},
            {"[server]\nmax_body_bytes = 1023\n",
             "t.toml:2: server.max_body_bytes: must be between 1024 and 67108864"},
            {"[server]\nmax_body_bytes = 67108865\n",
             "t.toml:2: server.max_body_bytes: must be between 1024 and 67108864"},
            {"[server]\nrequest_deadline_seconds = 0\n",
             "t.toml:2: server.request_deadline_seconds: must be between 1 and 3600"},
            {"[server]\nmax_connections = 15\n",
             "t.toml:2: server.max_connections: must be between 16 and 1000000"},
            {"[server]\nmax_connections_per_client = -1\n",
             "t.toml:2: server.max_connections_per_client: must be between 0 and 1000000"},
            {"[server]\nmax_buffered_bytes = 1000\n",
             "t.toml:2: server.max_buffered_bytes: must be between 1048576 and 1099511627776"},
            {"[server]\nmax_body_bytes = 1048576\nmax_buffered_bytes = 2097152\n",
             "t.toml:3: server.max_buffered_bytes: must be at least 2 * max_body_bytes + 16384 "
             "(2113536): room for one whole request"},
            {"server = 1\n", "t.toml:1: server: must be a table ([server])"},
            {"[storage]\nsqlite_path = \"\"\n", "t.toml:2: storage.sqlite_path: must not be empty"},
            {"[storage]\nsynchronous = \"off\"\n",
             R"(t.toml:2: storage.synchronous: must be "full" or "normal")"},
            {"[stripe]\napi_base = \"ftp://x\"\n",
             R"(t.toml:2: stripe.api_base: must start with "https://" or "http://")"},
            {"[stripe]\nplatform_secret_key = \"pk_live_1\"\n",
             R"(t.toml:2: stripe.platform_secret_key: must be empty or start with "sk_" or "rk_")"},
            {"[stripe]\nconnect_webhook_secrets = [\n  \"whsec_a\",\n  \"nope\",\n]\n",
             R"(t.toml:4: stripe.connect_webhook_secrets: must start with "whsec_")"},
            {"[stripe]\nconnect_webhook_secrets = \"whsec_a\"\n",
             "t.toml:2: stripe.connect_webhook_secrets: must be an array of strings"},
            {"[stripe]\nconnect_webhook_secrets = [1]\n",
             "t.toml:2: stripe.connect_webhook_secrets: must be an array of strings"},
            {"[stripe]\nwebhook_tolerance_seconds = -1\n",
             "t.toml:2: stripe.webhook_tolerance_seconds: must be between 0 and 86400"},
            {"[stripe]\nwebhook_tolerance_seconds = 86401\n",
             "t.toml:2: stripe.webhook_tolerance_seconds: must be between 0 and 86400"},
        },
        valid_creator);
}

TEST(Config, EachMailHostAndRetryRule) {
    expect_each(
        {
            {"[mail]\ntransport = \"sendmail\"\n" + sender,
             R"(t.toml:2: mail.transport: must be "outbox" or "smtp")"},
            {"[mail]\ntransport = \"smtp\"\n" + sender,
             R"(t.toml:1: mail.smtp_url: is required when transport = "smtp")"},
            {"[mail]\ntransport = \"smtp\"\nsmtp_url = \"\"\n" + sender,
             R"(t.toml:3: mail.smtp_url: must start with "smtp://" or "smtps://")"},
            {"[mail]\nsmtp_url = \"http://mail.example.com\"\n" + sender,
             R"(t.toml:2: mail.smtp_url: must start with "smtp://" or "smtps://")"},
            {"[mail]\noutbox_dir = \"\"\n" + sender,
             "t.toml:2: mail.outbox_dir: must not be empty"},
            {"[mail]\nfrom = 1\n", "t.toml:2: mail.from: must be a string"},
            {"[host]\nwebhook_url = \"ftp://x\"\n",
             R"(t.toml:2: host.webhook_url: must be empty or start with "https://" or "http://")"},
            {"[host]\nwebhook_url = \"https://x.example\"\n",
             "t.toml:1: host.webhook_secret: is required when webhook_url is set"},
            {"[host]\nwebhook_url = \"https://x.example\"\nwebhook_secret = \"\"\n",
             "t.toml:3: host.webhook_secret: is required when webhook_url is set"},
            {"[retry]\nmode = \"smart\"\n",
             R"(t.toml:2: retry.mode: must be "stripe" or "plugin")"},
        },
        valid_creator);
}

TEST(Config, EachCreatorRule) {
    const std::string id_problem = R"(must be 1 to 64 characters of a-z, 0-9, "_" and "-", )"
                                   R"(starting with a letter or digit)";
    const std::string unreachable =
        "t.toml:1: creators[0]: no way to receive its webhooks: set webhook_secrets, or "
        "stripe_account with [stripe] connect_webhook_secrets";
    const std::string product = "[[creators.products]]\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {creator_with({{"id", ""}}), "t.toml:1: creators[0].id: is required"},
        {creator_with({{"id", R"(id = "Bad Id")"}}), "t.toml:2: creators[0].id: " + id_problem},
        {creator_with({{"id", R"(id = "-acme")"}}), "t.toml:2: creators[0].id: " + id_problem},
        {creator_with({{"id", "id = \"" + std::string(65, 'a') + "\""}}),
         "t.toml:2: creators[0].id: " + id_problem},
        {creator_with({{"id", "id = 7"}}), "t.toml:2: creators[0].id: must be a string"},
        {creator_with({{"name", ""}}), "t.toml:1: creators[0].name: is required"},
        {creator_with({{"name", R"(name = "")"}}), "t.toml:3: creators[0].name: must not be empty"},
        {creator_with({}, "locale = \"fr\"\n"),
         R"(t.toml:6: creators[0].locale: must be "de" or "en")"},
        {creator_with({}, "stripe_account = \"acc_1\"\n"),
         R"(t.toml:6: creators[0].stripe_account: must be empty or start with "acct_")"},
        {creator_with({{"webhook_secrets", R"(webhook_secrets = ["whsec_a", "abc"])"}}),
         R"(t.toml:4: creators[0].webhook_secrets: must start with "whsec_")"},
        {creator_with({{"webhook_secrets", R"(webhook_secrets = "whsec_a")"}}),
         "t.toml:4: creators[0].webhook_secrets: must be an array of strings"},
        {creator_with({}, "stripe_secret_key = \"pk_live_1\"\n"),
         R"(t.toml:6: creators[0].stripe_secret_key: must be empty or start with "sk_" or "rk_")"},
        {creator_with({{"api_token", R"(api_token = "fifteen-chars-x")"}}),
         "t.toml:5: creators[0].api_token: must be at least 16 characters"},
        {creator_with({{"api_token", ""}}), "t.toml:1: creators[0].api_token: is required"},
        {creator_with({{"webhook_secrets", ""}}), unreachable},
        {creator_with({{"webhook_secrets", R"(webhook_secrets = [])"}}), unreachable},
        {creator_with({{"webhook_secrets", ""}}, "stripe_account = \"acct_1\"\n"), unreachable},
        {creator_with({}, "[creators.retry]\nmode = \"sometimes\"\n"),
         R"(t.toml:7: creators[0].retry.mode: must be "stripe" or "plugin")"},
        {creator_with({}, "retry = \"plugin\"\n"),
         "t.toml:6: creators[0].retry: must be a table ([creators.retry])"},
        {creator_with({}, product + "courses = [\"c\"]\n"),
         "t.toml:6: creators[0].products[0].stripe_product: is required"},
        {creator_with({}, product + "stripe_product = \"price_1\"\ncourses = [\"c\"]\n"),
         R"(t.toml:7: creators[0].products[0].stripe_product: must start with "prod_")"},
        {creator_with({}, product + "stripe_product = \"prod_1\"\n"),
         "t.toml:6: creators[0].products[0].courses: is required"},
        {creator_with({}, product + "stripe_product = \"prod_1\"\ncourses = []\n"),
         "t.toml:8: creators[0].products[0].courses: must list at least one course"},
        {creator_with({}, product + "stripe_product = \"prod_1\"\ncourses = [\"a\", \"\"]\n"),
         "t.toml:8: creators[0].products[0].courses: must not contain an empty course id"},
        {creator_with({}, product + "stripe_product = \"prod_1\"\ncourses = [\"a\"]\n" + product +
                              "stripe_product = \"prod_1\"\ncourses = [\"b\"]\n"),
         "t.toml:10: creators[0].products[1].stripe_product: already mapped in "
         "creators[0].products[0]"},
        {creator_with({}, "[creators.products]\nstripe_product = \"prod_1\"\n"),
         "t.toml:6: creators[0].products: must be an array of tables ([[creators.products]])"},
    };
    for (const auto& [text, message] : cases) {
        SCOPED_TRACE(text);
        EXPECT_EQ(problems_of(text), Problems{message});
    }
}

TEST(Config, CreatorsAreRequired) {
    const std::string missing = "t.toml:1: creators: at least one [[creators]] table is required";
    EXPECT_EQ(problems_of(""), Problems{missing});
    EXPECT_EQ(problems_of("[server]\nthreads = 4\n"), Problems{missing});
    EXPECT_EQ(problems_of("creators = []\n"), Problems{missing});
    EXPECT_EQ(problems_of("[creators]\nid = \"a\"\n"),
              Problems{"t.toml:1: creators: must be an array of tables ([[creators]])"});
}

TEST(Config, ConnectedCreatorIsReachableThroughThePlatformSecrets) {
    const Config config =
        parsed("[stripe]\nconnect_webhook_secrets = [\"whsec_platform\"]\n\n" +
               creator_with({{"webhook_secrets", ""}}, "stripe_account = \"acct_1\"\n"));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_TRUE(config.creators[0].webhook_secrets.empty());
    EXPECT_EQ(config.find_creator_by_account("acct_1"), &config.creators[0]);
}

TEST(Config, ReportsEveryProblemInLineOrder) {
    const std::string text = "[server]\n"
                             "threads = 0\n"
                             "[mail]\n"
                             "transport = \"fax\"\n" +
                             sender +
                             "[storage]\n"
                             "synchronous = \"off\"\n" +
                             creator_with({{"id", R"(id = "UPPER")"}, {"api_token", ""}});
    EXPECT_EQ(problems_of(text),
              (Problems{
                  "t.toml:2: server.threads: must be between 1 and 1024",
                  R"(t.toml:4: mail.transport: must be "outbox" or "smtp")",
                  R"(t.toml:7: storage.synchronous: must be "full" or "normal")",
                  "t.toml:8: creators[0].api_token: is required",
                  R"(t.toml:9: creators[0].id: must be 1 to 64 characters of a-z, 0-9, "_" and )"
                  R"("-", starting with a letter or digit)",
              }));
}

TEST(Config, SyntaxErrorNamesItsLine) {
    auto problems = problems_of("[server]\nthreads = 4\nlisten = \"127.0.0.1:80\nx = 1\n");
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_EQ(problems[0].rfind("t.toml:3: syntax: ", 0), 0u) << problems[0];
    problems = problems_of("[server]\nthreads = 1\nthreads = 2\n");
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_EQ(problems[0].rfind("t.toml:3: syntax: ", 0), 0u) << problems[0];
    EXPECT_GT(problems[0].size(), std::string("t.toml:3: syntax: ").size());
}

TEST(Config, UnknownKeysAndTablesSuggestTheClosestKnownOne) {
    expect_each(
        {
            {"[server]\nlistn = \"127.0.0.1:1\"\n",
             R"(t.toml:2: server.listn: unknown key, did you mean "listen"?)"},
            {"[server]\ncolour = 1\n", "t.toml:2: server.colour: unknown key"},
            {"[sever]\nthreads = 1\n", R"(t.toml:1: sever: unknown table, did you mean "server"?)"},
            {"[dunnig]\n", R"(t.toml:1: dunnig: unknown table, did you mean "dunning"?)"},
            {"[retry]\nmod = \"plugin\"\n",
             R"(t.toml:2: retry.mod: unknown key, did you mean "mode"?)"},
            {"[stripe]\nwebhook_tolerance = 5\n",
             "t.toml:2: stripe.webhook_tolerance: unknown key"},
        },
        valid_creator);
    EXPECT_EQ(problems_of(creator_with({}, "locael = \"en\"\n")),
              Problems{R"(t.toml:6: creators[0].locael: unknown key, did you mean "locale"?)"});
    EXPECT_EQ(
        problems_of(creator_with({}, "[[creators.product]]\nstripe_product = \"prod_1\"\n")),
        Problems{R"(t.toml:6: creators[0].product: unknown table, did you mean "products"?)"});
}

TEST(Config, DuplicateCreatorIdTokenAndAccount) {
    const std::string extra = "stripe_account = \"acct_1\"\n";
    const std::string text = creator_with({}, extra) + "\n" +
                             creator_with({{"name", R"(name = "Other")"},
                                           {"webhook_secrets", R"(webhook_secrets = ["whsec_b"])"}},
                                          extra);
    EXPECT_EQ(problems_of(text),
              (Problems{
                  "t.toml:9: creators[1].id: already used by creators[0]",
                  "t.toml:12: creators[1].api_token: already used by creators[0]",
                  "t.toml:13: creators[1].stripe_account: already used by "
                  "creators[0]",
              }));
}

TEST(Config, CreatorRetryOverridesTheGlobalOne) {
    // Mode "plugin" charges through the API: each creator has its own key.
    const std::string key = "stripe_secret_key = \"sk_test_1\"\n";
    const std::string text = "[retry]\nmode = \"plugin\"\n\n" + creator_with({}, key) + "\n" +
                             creator_with({{"id", R"(id = "beta")"},
                                           {"api_token", R"(api_token = "beta-token-0123456789")"}},
                                          key + "[creators.retry]\nmode = \"stripe\"\n");
    const Config config = parsed(text);
    EXPECT_EQ(config.retry.mode, RetryMode::plugin);
    ASSERT_EQ(config.creators.size(), 2u);
    EXPECT_EQ(config.find_creator("acme")->retry.mode, RetryMode::plugin);
    EXPECT_EQ(config.find_creator("beta")->retry.mode, RetryMode::stripe);
    EXPECT_EQ(config.find_creator("gamma"), nullptr);
    EXPECT_EQ(config.find_creator_by_account(""), nullptr);
}

TEST(Config, RelativePathsAreTakenFromTheConfigDirectory) {
    const std::string text = "[storage]\nsqlite_path = \"data/d.db\"\n"
                             "[mail]\noutbox_dir = \"/var/spool/dunning\"\n" +
                             sender + valid_creator;
    const Config config = parsed(text);
    EXPECT_EQ(config.storage.sqlite_path, "/etc/dunning/data/d.db");
    EXPECT_EQ(config.mail.outbox_dir, "/var/spool/dunning");
    EXPECT_EQ(parsed("[storage]\nsqlite_path = \":memory:\"\n" + valid_creator).storage.sqlite_path,
              ":memory:");
    EXPECT_EQ(parsed(creator_with(), no_env, "").storage.sqlite_path, "dunning.db");
}

TEST(Config, LoadConfigResolvesAgainstTheFilesDirectory) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("dunning-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "dunning.toml").string();
    std::ofstream(path) << "[storage]\nsqlite_path = \"db/d.db\"\n[mail]\n"
                        << sender << valid_creator;
    auto result = load_config(path, no_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(result.value().storage.sqlite_path, (dir / "db/d.db").string());
    std::filesystem::remove_all(dir);

    auto missing = load_config((dir / "absent.toml").string(), no_env);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error(), Problems{(dir / "absent.toml").string() +
                                        ": cannot read the file: No such file or directory"});
}

TEST(Config, EnvironmentReferences) {
    const auto env = env_of({{"SMTP_PASS", "hunter2"}, {"WHO", "Acme"}});
    const Config config =
        parsed("[mail]\nsmtp_url = \"smtp://billing:${SMTP_PASS}@mail.example.com\"\n" + sender +
                   "\n" + creator_with({{"name", R"(name = "${WHO} costs $${PRICE}")"}}),
               env);
    EXPECT_EQ(config.mail.smtp_url, "smtp://billing:hunter2@mail.example.com");
    EXPECT_EQ(config.creators[0].name, "Acme costs ${PRICE}");

    expect_each(
        {
            {"[mail]\nsmtp_url = \"smtp://user:${SMTP_PASS}@host\"\n" + sender,
             "t.toml:2: mail.smtp_url: environment variable SMTP_PASS is not set"},
            {"[stripe]\nplatform_secret_key = \"${STRIPE_KEY\"\n",
             R"(t.toml:2: stripe.platform_secret_key: unterminated "${" )"
             R"((write "$${" for a literal "${"))"},
            {"[stripe]\nplatform_secret_key = \"${1 KEY}\"\n",
             "t.toml:2: stripe.platform_secret_key: invalid environment variable reference: "
             R"(a name is letters, digits and "_" (write "$${" for a literal "${"))"},
        },
        valid_creator);
    EXPECT_EQ(
        problems_of("[stripe]\nconnect_webhook_secrets = [\"${A}\", \"${B}\"]\n" + valid_creator),
        (Problems{
            "t.toml:2: stripe.connect_webhook_secrets: environment variable A is not set",
            "t.toml:2: stripe.connect_webhook_secrets: environment variable B is not set",
        }));
}

TEST(Config, PostgresUrl) {
    const auto env = env_of({{"PG_PASSWORD", "pg-S3cret"}});
    const Config config =
        parsed("[storage]\npostgres_url = \"postgresql://dunning:${PG_PASSWORD}@db/dunning\"\n" +
                   valid_creator,
               env);
    EXPECT_EQ(config.storage.postgres_url, "postgresql://dunning:pg-S3cret@db/dunning");
    EXPECT_TRUE(parsed(valid_creator).storage.postgres_url.empty());
    expect_each(
        {
            {"[storage]\npostgres_url = \"postgresql://dunning:${PG_PASSWORD}@db/dunning\"\n",
             "t.toml:2: storage.postgres_url: environment variable PG_PASSWORD is not set"},
            {"[storage]\npostgres_url = \"mysql://u:pg-S3cret@db/dunning\"\n",
             R"(t.toml:2: storage.postgres_url: must be a "postgresql://" or "postgres://" URL, )"
             R"(e.g. "postgresql://dunning:${DUNNING_PG_PASSWORD}@db.example/dunning")"},
            {"[storage]\npostgres_url = \"postgres://\"\n",
             R"(t.toml:2: storage.postgres_url: must be a "postgresql://" or "postgres://" URL, )"
             R"(e.g. "postgresql://dunning:${DUNNING_PG_PASSWORD}@db.example/dunning")"},
            {"[storage]\nsqlite_path = \"d.db\"\npostgres_url = \"postgres://db/dunning\"\n",
             "t.toml:3: storage.postgres_url: excludes sqlite_path: the store is one database, "
             "remove one of the two"},
            {"[storage]\npostgres_url = \"postgres://db/dunning\"\nclaim_lease_seconds = 0\n",
             "t.toml:3: storage.claim_lease_seconds: must be between 1 and 86400"},
            {"[storage]\nclaim_lease_seconds = 30\n",
             "t.toml:2: storage.claim_lease_seconds: applies to postgres_url only: on SQLite one "
             "instance uses the store"},
        },
        valid_creator);
    EXPECT_EQ(config.storage.claim_lease_seconds, 300);
    EXPECT_EQ(parsed("[storage]\npostgres_url = \"postgres://db/dunning\"\n"
                     "claim_lease_seconds = 30\n" +
                     valid_creator)
                  .storage.claim_lease_seconds,
              30);
}

TEST(Config, SecretValuesNeverAppearInMessages) {
    const auto env = env_of({{"TOKEN", "env-SECRET-token-1"},
                             {"WHSEC", "nope-SECRET-2"},
                             {"KEY", "pk_SECRET_3"},
                             {"PASS", "SECRET-4"}});
    const std::string text = R"([stripe]
platform_secret_key = "${KEY}"
connect_webhook_secrets = ["${WHSEC}", "inline-SECRET-5"]
[mail]
smtp_url = "http://user:${PASS}@host"
from = "A <a@a.example>"
[host]
webhook_url = "https://h.example/x"
webhook_secret = ""
[[creators]]
id = "a"
name = "A"
webhook_secrets = ["whsec_ok", "bad-SECRET-6"]
stripe_secret_key = "pk_live_SECRET-7"
api_token = "${TOKEN}"
[[creators]]
id = "b"
name = "B"
webhook_secrets = ["whsec_b"]
api_token = "${TOKEN}"
[[creators]]
id = "c"
name = "C"
webhook_secrets = ["whsec_c"]
api_token = "SECRET-8-short"
)";
    const auto problems = problems_of(text, env);
    EXPECT_EQ(problems.size(), 9u) << joined(problems);
    for (const auto& problem : problems)
        EXPECT_EQ(problem.find("SECRET"), std::string::npos) << problem;
}

TEST(Config, ProcessEnvReadsTheEnvironment) {
    ::setenv("DUNNING_CONFIG_TEST_VAR", "value", 1);
    EXPECT_EQ(process_env("DUNNING_CONFIG_TEST_VAR"), "value");
    ::unsetenv("DUNNING_CONFIG_TEST_VAR");
    EXPECT_EQ(process_env("DUNNING_CONFIG_TEST_VAR"), std::nullopt);
}

} // namespace
} // namespace dunning::config

namespace dunning::config {
namespace {

TEST(ServerConfig, PromiseLinksNeedAUrlAndALongSecret) {
    using namespace testing;
    const auto env = env_of({{"LINK_SECRET", std::string(40, 'k')}});
    const auto c = parsed_in("[server]\npublic_url = \"https://pay.example\"\n"
                             "link_secret = \"${LINK_SECRET}\"\n\n" +
                                 creator_with(),
                             "/etc/dunning", env);
    EXPECT_TRUE(c.server.promise_links());
    EXPECT_EQ(c.server.link_secret, std::string(40, 'k'));
    EXPECT_FALSE(parsed_in(creator_with(), "/etc/dunning", no_env).server.promise_links());
    EXPECT_EQ(
        problems_in("[server]\npublic_url = \"https://pay.example\"\nlink_secret = \"short\"\n\n" +
                        creator_with(),
                    "/etc/dunning", no_env),
        Problems{"t.toml:3: server.link_secret: must be at least 32 characters"});
    EXPECT_EQ(
        problems_in("[server]\nlink_secret = \"" + std::string(32, 'k') + "\"\n\n" + creator_with(),
                    "/etc/dunning", no_env),
        Problems{"t.toml:2: server.link_secret: needs public_url: the address the links "
                 "point to"});
    EXPECT_EQ(problems_in("[server]\npublic_url = \"ftp://pay.example\"\n\n" + creator_with(),
                          "/etc/dunning", no_env)
                  .size(),
              1u);
}

} // namespace
} // namespace dunning::config

namespace dunning::config {
namespace {

TEST(Config, DashboardKeysHaveDefaultsAndLimits) {
    const Config defaults = parsed(valid_creator);
    EXPECT_EQ(defaults.dashboard.session_idle_minutes, 30);
    EXPECT_EQ(defaults.dashboard.frame_ancestors, "'none'");
    const Config set = parsed("[dashboard]\nsession_idle_minutes = 90\n"
                              "frame_ancestors = \"'self' https://courses.example\"\n" +
                              valid_creator);
    EXPECT_EQ(set.dashboard.session_idle_minutes, 90);
    EXPECT_EQ(set.dashboard.frame_ancestors, "'self' https://courses.example");
    expect_each(
        {{"[dashboard]\nsession_idle_minutes = 0\n",
          "t.toml:2: dashboard.session_idle_minutes: must be between 1 and 1440"},
         {"[dashboard]\nframe_ancestors = \"https://a.example; script-src *\"\n",
          "t.toml:2: dashboard.frame_ancestors: must be CSP sources separated by spaces, e.g. "
          "\"'self' https://platform.example\""},
         {"[dashboard]\nframe_ancestors = \"\"\n",
          "t.toml:2: dashboard.frame_ancestors: must not be empty ('none' for no framing)"},
         {"[dashboard]\nsession_idle_minute = 5\n",
          "t.toml:2: dashboard.session_idle_minute: unknown key, did you mean "
          "\"session_idle_minutes\"?"}},
        valid_creator);
}

} // namespace
} // namespace dunning::config
