// [retry] and [creators.retry]: the retry mode and policy keys, their defaults, their rules, and
// how a creator's table overrides the global one key by key.
#include "config/config.hpp"
#include "tests/config/support.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace dunning::config {
namespace {

using namespace std::chrono_literals;
using namespace testing;

Problems problems_of(const std::string& text) {
    return problems_in(text, "/etc/dunning", no_env);
}

Config parsed(const std::string& text) {
    return parsed_in(text, "/etc/dunning", no_env);
}

// Mode "plugin" charges through Stripe's API, so a creator under it needs a key.
const std::string stripe_key = "stripe_secret_key = \"sk_test_0123\"\n";

const std::string valid_creator = "\n" + creator("acme", stripe_key);

// Every field, so a failing comparison shows what differs.
std::string describe(const RetryConfig& retry) {
    const RetryPolicy& p = retry.policy;
    std::ostringstream out;
    out << "mode=" << (retry.mode == RetryMode::plugin ? "plugin" : "stripe") << " card=[";
    for (std::size_t i = 0; i < p.card_schedule.size(); ++i)
        out << (i ? "," : "") << p.card_schedule[i].count() << "s";
    out << "] sepa_max_retries=" << p.sepa_max_retries << " sepa_min_gap=" << p.sepa_min_gap.count()
        << "d"
        << " sepa_prefer_paydays=" << p.sepa_prefer_paydays
        << " sepa_max_payday_wait=" << p.sepa_max_payday_wait.count() << "d"
        << " sepa_retry_hour_utc=" << p.sepa_retry_hour_utc.count() << "h"
        << " new_payment_method_delay=" << p.new_payment_method_delay.count() << "s"
        << " end_action=" << static_cast<int>(p.end_action);
    return out.str();
}

std::vector<std::chrono::seconds> days(std::initializer_list<int> list) {
    std::vector<std::chrono::seconds> out;
    for (int d : list)
        out.push_back(std::chrono::days(d));
    return out;
}

TEST(RetryConfig, DefaultsAreRetryPolicys) {
    const Config config = parsed(creator("acme"));
    EXPECT_EQ(describe(config.retry), describe(RetryConfig{}));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].retry), describe(RetryConfig{}));
    // The documented defaults (config/example.toml, README).
    const RetryPolicy& p = config.retry.policy;
    EXPECT_EQ(config.retry.mode, RetryMode::stripe);
    EXPECT_EQ(p.card_schedule, days({1, 3, 5, 7, 10, 14}));
    EXPECT_EQ(p.sepa_max_retries, 2);
    EXPECT_EQ(p.sepa_min_gap, std::chrono::days(3));
    EXPECT_TRUE(p.sepa_prefer_paydays);
    EXPECT_EQ(p.sepa_max_payday_wait, std::chrono::days(10));
    EXPECT_EQ(p.sepa_retry_hour_utc, 6h);
    EXPECT_EQ(p.new_payment_method_delay, 5min);
    EXPECT_EQ(p.end_action, EndAction::leave);
    // Empty tables change nothing.
    const Config empty = parsed("[retry]\n\n" + creator("acme", "[creators.retry]\n"));
    EXPECT_EQ(describe(empty.retry), describe(RetryConfig{}));
    EXPECT_EQ(describe(empty.creators[0].retry), describe(RetryConfig{}));
}

TEST(RetryConfig, ReadsEveryKey) {
    const Config config = parsed(R"([retry]
mode = "plugin"
card_schedule_days = [1, 2, 4, 8]
sepa_max_retries = 5
sepa_min_gap_days = 7
sepa_prefer_paydays = false
sepa_max_payday_wait_days = 0
sepa_retry_hour_utc = 23
new_payment_method_delay_minutes = 1440
end_action = "cancel_subscription"
)" + valid_creator);
    const RetryPolicy& p = config.retry.policy;
    EXPECT_EQ(config.retry.mode, RetryMode::plugin);
    EXPECT_EQ(p.card_schedule, days({1, 2, 4, 8}));
    EXPECT_EQ(p.sepa_max_retries, 5);
    EXPECT_EQ(p.sepa_min_gap, std::chrono::days(7));
    EXPECT_FALSE(p.sepa_prefer_paydays);
    EXPECT_EQ(p.sepa_max_payday_wait, std::chrono::days(0));
    EXPECT_EQ(p.sepa_retry_hour_utc, 23h);
    EXPECT_EQ(p.new_payment_method_delay, 1440min);
    EXPECT_EQ(p.end_action, EndAction::cancel_subscription);
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].retry), describe(config.retry));

    const auto end_action = [](const std::string& value) {
        return parsed("[retry]\nend_action = \"" + value + "\"\n" + valid_creator)
            .retry.policy.end_action;
    };
    EXPECT_EQ(end_action("leave"), EndAction::leave);
    EXPECT_EQ(end_action("cancel_subscription"), EndAction::cancel_subscription);
    EXPECT_EQ(end_action("mark_uncollectible"), EndAction::mark_uncollectible);
}

TEST(RetryConfig, LowerBoundsAreAccepted) {
    const RetryPolicy p = parsed(R"([retry]
sepa_max_retries = 0
sepa_min_gap_days = 1
sepa_max_payday_wait_days = 31
sepa_retry_hour_utc = 0
new_payment_method_delay_minutes = 0
)" + valid_creator)
                              .retry.policy;
    EXPECT_EQ(p.sepa_max_retries, 0);
    EXPECT_EQ(p.sepa_min_gap, std::chrono::days(1));
    EXPECT_EQ(p.sepa_max_payday_wait, std::chrono::days(31));
    EXPECT_EQ(p.sepa_retry_hour_utc, 0h);
    EXPECT_EQ(p.new_payment_method_delay, 0s);
}

TEST(RetryConfig, CardScheduleTakesFractionsOfDaysAndUpToThirtyEntries) {
    const auto schedule = [](const std::string& value) {
        return parsed("[retry]\ncard_schedule_days = " + value + "\n" + valid_creator)
            .retry.policy.card_schedule;
    };
    EXPECT_EQ(schedule("[0.5, 1, 2.25, 60]"),
              (std::vector<std::chrono::seconds>{12h, 24h, 54h, std::chrono::days(60)}));
    EXPECT_EQ(schedule("[0.001]"), std::vector<std::chrono::seconds>{86s}); // 86.4 s, rounded
    EXPECT_EQ(schedule("[]"), std::vector<std::chrono::seconds>{});         // no card retries
    std::string thirty = "[2";
    for (int day = 4; day <= 60; day += 2)
        thirty += ", " + std::to_string(day);
    const auto taken = schedule(thirty + "]");
    ASSERT_EQ(taken.size(), 30u);
    EXPECT_EQ(taken.front(), std::chrono::days(2));
    EXPECT_EQ(taken.back(), std::chrono::days(60));
}

// One bad value: `body` follows the table's header line (line 1), `line` is where the problem
// is reported, counted from that header.
struct Rule {
    std::string body;
    int line;
    std::string key;
    std::string problem;
};

const std::string schedule_type =
    "must be an array of numbers: days after the first failure, e.g. [1, 3, 5, 7, 10, 14]";
const std::string end_actions = R"(must be "leave", "cancel_subscription" or "mark_uncollectible")";

std::vector<Rule> rules() {
    std::string thirty_one = "[1";
    for (int day = 2; day <= 31; ++day)
        thirty_one += ", " + std::to_string(day);
    thirty_one += "]";
    return {
        {"mode = \"smart\"\n", 2, "mode", R"(must be "stripe" or "plugin")"},
        {"card_schedule_days = 3\n", 2, "card_schedule_days", schedule_type},
        {"card_schedule_days = \"1, 3\"\n", 2, "card_schedule_days", schedule_type},
        {"card_schedule_days = [1, \"3\"]\n", 2, "card_schedule_days", schedule_type},
        {"card_schedule_days = [[1]]\n", 2, "card_schedule_days", schedule_type},
        {"card_schedule_days = [\n  1,\n  true,\n]\n", 4, "card_schedule_days", schedule_type},
        {"card_schedule_days = [\n  1,\n  0,\n  5,\n]\n", 4, "card_schedule_days",
         "entries must be greater than 0"},
        {"card_schedule_days = [-1]\n", 2, "card_schedule_days", "entries must be greater than 0"},
        {"card_schedule_days = [-0.5]\n", 2, "card_schedule_days",
         "entries must be greater than 0"},
        {"card_schedule_days = [nan]\n", 2, "card_schedule_days", "entries must be greater than 0"},
        {"card_schedule_days = [1e-9]\n", 2, "card_schedule_days",
         "entries must be greater than 0"}, // less than half a second
        {"card_schedule_days = [1, 61]\n", 2, "card_schedule_days",
         "entries must be at most 60 (days)"},
        {"card_schedule_days = [60.5]\n", 2, "card_schedule_days",
         "entries must be at most 60 (days)"},
        {"card_schedule_days = [inf]\n", 2, "card_schedule_days",
         "entries must be at most 60 (days)"},
        {"card_schedule_days = [1, 3, 3]\n", 2, "card_schedule_days",
         "entries must be strictly increasing"},
        {"card_schedule_days = [\n  5,\n  2,\n]\n", 4, "card_schedule_days",
         "entries must be strictly increasing"},
        {"card_schedule_days = [1, 1.0]\n", 2, "card_schedule_days",
         "entries must be strictly increasing"},
        {"card_schedule_days = " + thirty_one + "\n", 2, "card_schedule_days",
         "must have at most 30 entries (the card networks' caps apply on top anyway: Visa 15 "
         "retries in 30 days, Mastercard 10 in 24 hours and 35 in 30 days)"},
        {"sepa_max_retries = -1\n", 2, "sepa_max_retries", "must be between 0 and 5"},
        {"sepa_max_retries = 6\n", 2, "sepa_max_retries", "must be between 0 and 5"},
        {"sepa_max_retries = 2.0\n", 2, "sepa_max_retries", "must be an integer"},
        {"sepa_max_retries = \"2\"\n", 2, "sepa_max_retries", "must be an integer"},
        {"sepa_min_gap_days = 0\n", 2, "sepa_min_gap_days", "must be between 1 and 30"},
        {"sepa_min_gap_days = 31\n", 2, "sepa_min_gap_days", "must be between 1 and 30"},
        {"sepa_prefer_paydays = \"yes\"\n", 2, "sepa_prefer_paydays", "must be true or false"},
        {"sepa_prefer_paydays = 1\n", 2, "sepa_prefer_paydays", "must be true or false"},
        {"sepa_max_payday_wait_days = -1\n", 2, "sepa_max_payday_wait_days",
         "must be between 0 and 31"},
        {"sepa_max_payday_wait_days = 32\n", 2, "sepa_max_payday_wait_days",
         "must be between 0 and 31"},
        {"sepa_retry_hour_utc = -1\n", 2, "sepa_retry_hour_utc", "must be between 0 and 23"},
        {"sepa_retry_hour_utc = 24\n", 2, "sepa_retry_hour_utc", "must be between 0 and 23"},
        {"new_payment_method_delay_minutes = -1\n", 2, "new_payment_method_delay_minutes",
         "must be between 0 and 1440"},
        {"new_payment_method_delay_minutes = 1441\n", 2, "new_payment_method_delay_minutes",
         "must be between 0 and 1440"},
        {"end_action = \"cancel\"\n", 2, "end_action", end_actions},
        {"end_action = \"\"\n", 2, "end_action", end_actions},
        {"end_action = 1\n", 2, "end_action", "must be a string"},
    };
}

TEST(RetryConfig, EachRuleInRetry) {
    for (const auto& rule : rules()) {
        SCOPED_TRACE(rule.body);
        EXPECT_EQ(problems_of("[retry]\n" + rule.body + valid_creator),
                  Problems{"t.toml:" + std::to_string(rule.line) + ": retry." + rule.key + ": " +
                           rule.problem});
    }
}

TEST(RetryConfig, EachRuleInCreatorsRetry) {
    for (const auto& rule : rules()) {
        SCOPED_TRACE(rule.body);
        // [creators.retry] is on line 6.
        EXPECT_EQ(problems_of(creator("acme", "[creators.retry]\n" + rule.body)),
                  Problems{"t.toml:" + std::to_string(rule.line + 5) + ": creators[0].retry." +
                           rule.key + ": " + rule.problem});
    }
}

TEST(RetryConfig, ExactMessages) {
    // The same rules as above, spelled out once.
    EXPECT_EQ(problems_of("[retry]\ncard_schedule_days = [1, 3, 3]\n" + valid_creator),
              Problems{"t.toml:2: retry.card_schedule_days: entries must be strictly increasing"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.retry]\nsepa_max_retries = 9\n")),
              Problems{"t.toml:7: creators[0].retry.sepa_max_retries: must be between 0 and 5"});
    EXPECT_EQ(problems_of(creator("acme", "\n[creators.retry]\nend_action = \"delete\"\n")),
              Problems{R"(t.toml:8: creators[0].retry.end_action: must be "leave", )"
                       R"("cancel_subscription" or "mark_uncollectible")"});
}

TEST(RetryConfig, ReportsEveryProblemInLineOrder) {
    const std::string text = "[retry]\n"
                             "end_action = \"cancel\"\n"
                             "card_schedule_days = [\n"
                             "  0,\n"
                             "  3,\n"
                             "  2,\n"
                             "  99,\n"
                             "]\n"
                             "sepa_prefer_paydays = \"no\"\n" +
                             valid_creator;
    EXPECT_EQ(problems_of(text),
              (Problems{
                  "t.toml:2: retry.end_action: " + end_actions,
                  "t.toml:4: retry.card_schedule_days: entries must be greater than 0",
                  "t.toml:6: retry.card_schedule_days: entries must be strictly increasing",
                  "t.toml:7: retry.card_schedule_days: entries must be at most 60 (days)",
                  "t.toml:9: retry.sepa_prefer_paydays: must be true or false",
              }));
}

TEST(RetryConfig, ABadValueKeepsTheInheritedOne) {
    // Reported, and the value in force stays the global one (no half-read schedule).
    auto result = parse_config(
        with_sender("[retry]\ncard_schedule_days = [2, 4]\n\n" +
                    creator("acme", "[creators.retry]\ncard_schedule_days = [1, 0]\n")),
        "t.toml", "/etc/dunning", no_env);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(),
              Problems{"t.toml:10: creators[0].retry.card_schedule_days: entries must be greater "
                       "than 0"});
}

// Every key set to something other than its default.
const std::string global_retry = R"([retry]
mode = "plugin"
card_schedule_days = [2, 4, 6]
sepa_max_retries = 1
sepa_min_gap_days = 5
sepa_prefer_paydays = false
sepa_max_payday_wait_days = 4
sepa_retry_hour_utc = 9
new_payment_method_delay_minutes = 30
end_action = "mark_uncollectible"

)";

TEST(RetryConfig, CreatorOverridesKeyByKey) {
    const Config base = parsed(global_retry + creator("acme", stripe_key));
    const RetryConfig global = base.retry;
    ASSERT_EQ(global.mode, RetryMode::plugin);
    ASSERT_EQ(global.policy.card_schedule, days({2, 4, 6}));
    ASSERT_EQ(global.policy.sepa_max_retries, 1);
    ASSERT_EQ(global.policy.sepa_min_gap, std::chrono::days(5));
    ASSERT_FALSE(global.policy.sepa_prefer_paydays);
    ASSERT_EQ(global.policy.sepa_max_payday_wait, std::chrono::days(4));
    ASSERT_EQ(global.policy.sepa_retry_hour_utc, 9h);
    ASSERT_EQ(global.policy.new_payment_method_delay, 30min);
    ASSERT_EQ(global.policy.end_action, EndAction::mark_uncollectible);
    EXPECT_EQ(describe(base.creators[0].retry), describe(global)); // no table: all inherited

    const std::vector<std::pair<std::string, std::function<void(RetryConfig&)>>> overrides = {
        {"mode = \"stripe\"", [](RetryConfig& r) { r.mode = RetryMode::stripe; }},
        {"card_schedule_days = [1.5]", [](RetryConfig& r) { r.policy.card_schedule = {36h}; }},
        {"card_schedule_days = []", [](RetryConfig& r) { r.policy.card_schedule = {}; }},
        {"sepa_max_retries = 3", [](RetryConfig& r) { r.policy.sepa_max_retries = 3; }},
        {"sepa_min_gap_days = 2",
         [](RetryConfig& r) { r.policy.sepa_min_gap = std::chrono::days(2); }},
        {"sepa_prefer_paydays = true", [](RetryConfig& r) { r.policy.sepa_prefer_paydays = true; }},
        {"sepa_max_payday_wait_days = 12",
         [](RetryConfig& r) { r.policy.sepa_max_payday_wait = std::chrono::days(12); }},
        {"sepa_retry_hour_utc = 0", [](RetryConfig& r) { r.policy.sepa_retry_hour_utc = 0h; }},
        {"new_payment_method_delay_minutes = 1",
         [](RetryConfig& r) { r.policy.new_payment_method_delay = 1min; }},
        {"end_action = \"leave\"", [](RetryConfig& r) { r.policy.end_action = EndAction::leave; }},
    };
    for (const auto& [line, apply] : overrides) {
        SCOPED_TRACE(line);
        // The overriding creator comes first, so the second one shows nothing leaks over.
        const Config config =
            parsed(global_retry + creator("acme", stripe_key + "[creators.retry]\n" + line + "\n") +
                   "\n" + creator("beta", stripe_key));
        RetryConfig expected = global;
        apply(expected);
        EXPECT_NE(describe(expected), describe(global));
        ASSERT_EQ(config.creators.size(), 2u);
        EXPECT_EQ(describe(config.creators[0].retry), describe(expected));
        EXPECT_EQ(describe(config.creators[1].retry), describe(global));
        EXPECT_EQ(describe(config.retry), describe(global));
    }
}

TEST(RetryConfig, CreatorWithoutGlobalTableStartsFromTheDefaults) {
    const Config config = parsed(creator("acme", "[creators.retry]\nsepa_max_retries = 0\n"));
    RetryConfig expected;
    expected.policy.sepa_max_retries = 0;
    EXPECT_EQ(describe(config.creators[0].retry), describe(expected));
    EXPECT_EQ(describe(config.retry), describe(RetryConfig{}));
}

TEST(RetryConfig, UnknownKeysSuggestTheClosestKnownOne) {
    EXPECT_EQ(problems_of(creator("acme", "[creators.retry]\nsepa_max_retires = 1\n")),
              Problems{R"(t.toml:7: creators[0].retry.sepa_max_retires: unknown key, did you )"
                       R"(mean "sepa_max_retries"?)"});
    EXPECT_EQ(problems_of(creator("acme", stripe_key + "[creators.retry]\nmode = \"plugin\"\n"
                                                       "end_acton = 1\n")),
              Problems{R"(t.toml:9: creators[0].retry.end_acton: unknown key, did you mean )"
                       R"("end_action"?)"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.retry]\nschedule = [1]\n")),
              Problems{"t.toml:7: creators[0].retry.schedule: unknown key"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.retry.card]\nx = 1\n")),
              Problems{"t.toml:6: creators[0].retry.card: unknown table"});
    EXPECT_EQ(problems_of("[retry]\nsepa_min_gap_day = 3\n" + valid_creator),
              Problems{R"(t.toml:2: retry.sepa_min_gap_day: unknown key, did you mean )"
                       R"("sepa_min_gap_days"?)"});
    EXPECT_EQ(problems_of("[retry]\nsepa_prefer_payday = true\n" + valid_creator),
              Problems{R"(t.toml:2: retry.sepa_prefer_payday: unknown key, did you mean )"
                       R"("sepa_prefer_paydays"?)"});
}

// config/example.toml documents every retry key as a commented "# key = default" line under
// [retry], and a commented [creators.retry] example under the demo creator. Uncommenting them
// must give a loadable file with exactly RetryPolicy's defaults.
// Uncomments the "# key = …" lines of the block that starts at the line `header` (itself
// uncommented) and ends at the next blank line or table; returns the keys uncommented.
std::set<std::string> uncomment_block(std::string& text, const std::string& header) {
    static const std::regex key_line(R"(^# ([a-z_]+) = .*)");
    std::istringstream in(text);
    std::string out, line;
    std::set<std::string> keys;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.rfind(header, 0) == 0) {
            inside = true;
            if (line.rfind("# ", 0) == 0) line = line.substr(2);
        } else if (inside && (line.empty() || line[0] == '[' || line.rfind("# [", 0) == 0)) {
            inside = false;
        } else if (std::smatch match; inside && std::regex_match(line, match, key_line)) {
            keys.insert(match[1]);
            line = line.substr(2);
        }
        out += line + "\n";
    }
    text = out;
    return keys;
}

const std::set<std::string> policy_keys = {
    "card_schedule_days",
    "sepa_max_retries",
    "sepa_min_gap_days",
    "sepa_prefer_paydays",
    "sepa_max_payday_wait_days",
    "sepa_retry_hour_utc",
    "new_payment_method_delay_minutes",
    "end_action",
};

TEST(ExampleConfig, ItsRetryKeysAreEveryKeyWithItsDefault) {
    const Config as_is = [] {
        auto result = load_config(example, demo_env);
        EXPECT_TRUE(result.ok()) << joined(result.error());
        return result.ok() ? result.value() : Config{};
    }();
    EXPECT_EQ(describe(as_is.retry), describe(RetryConfig{}));

    std::string text = read_example();
    EXPECT_EQ(uncomment_block(text, "[retry]"), policy_keys);
    auto result = parse_config(text, example, "/etc/dunning", demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(describe(result.value().retry), describe(RetryConfig{}));
}

TEST(ExampleConfig, ItsCreatorRetryExampleLoads) {
    std::string text = read_example();
    const auto keys = uncomment_block(text, "# [creators.retry]");
    EXPECT_FALSE(keys.empty());
    // Its mode = "plugin" charges through Stripe's API with the demo creator's own key.
    const std::string key_line = "# stripe_secret_key = \"${DUNNING_DEMO_STRIPE_KEY}\"";
    ASSERT_NE(text.find(key_line), std::string::npos);
    text.replace(text.find(key_line), 2, "");
    const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "DUNNING_DEMO_STRIPE_KEY") return "sk_test_demo";
        return demo_env(name);
    };
    auto result = parse_config(text, example, "/etc/dunning", env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    const Config& config = result.value();
    ASSERT_EQ(config.creators.size(), 1u);
    RetryConfig expected;
    expected.mode = RetryMode::plugin;
    expected.policy.card_schedule = days({2, 5, 9, 14});
    expected.policy.sepa_max_retries = 1;
    expected.policy.end_action = EndAction::cancel_subscription;
    EXPECT_EQ(describe(config.creators[0].retry), describe(expected));
    EXPECT_EQ(describe(config.retry), describe(RetryConfig{}));
}

} // namespace
} // namespace dunning::config
