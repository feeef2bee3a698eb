// [access] and [creators.access]: the level each dunning email applies, what happens after the
// final notice's deadline, on a lost dispute and on a subscription ended for non-payment, and the
// minimum amount. Only the AccessPolicy struct is used here, none of core/access.cpp.
#include "config/config.hpp"
#include "tests/config/support.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

namespace dunning::config {
namespace {

using namespace testing;

const std::string base = "/nonexistent-dunning-config";

Problems problems_of(const std::string& text) {
    return problems_in(text, base, no_env);
}
Config parsed(const std::string& text) {
    return parsed_in(text, base, no_env);
}

const std::string valid_creator = "\n" + creator("acme");

// The config's own spelling, independent of core's to_string.
const char* name(AccessLevel level) {
    switch (level) {
    case AccessLevel::granted:
        return "granted";
    case AccessLevel::grace:
        return "grace";
    case AccessLevel::limited:
        return "limited";
    case AccessLevel::locked:
        return "locked";
    }
    return "?";
}

// Every field, so a failing comparison shows what differs.
std::string describe(const AccessConfig& a) {
    std::ostringstream out;
    out << "during_stage={";
    for (const auto& [stage, level] : a.policy.during_stage)
        out << stage << ":" << name(level) << " ";
    out << "} after_final_deadline=" << name(a.policy.after_final_deadline)
        << " on_lost_dispute=" << name(a.policy.on_lost_dispute)
        << " on_subscription_ended=" << name(a.policy.on_subscription_ended)
        << " min_amount_minor=" << a.policy.min_amount_minor;
    return out.str();
}

// ---------------------------------------------------------------------------------------------
// Defaults

TEST(AccessConfig, Defaults) {
    AccessConfig expected;
    expected.policy.during_stage = {{"reminder", AccessLevel::granted},
                                    {"formal_reminder", AccessLevel::granted},
                                    {"final_notice", AccessLevel::grace}};
    expected.policy.after_final_deadline = AccessLevel::locked;
    expected.policy.on_lost_dispute = AccessLevel::locked;
    expected.policy.on_subscription_ended = AccessLevel::locked;
    expected.policy.min_amount_minor = 1000; // 10.00
    // The same as AccessPolicy's own defaults.
    EXPECT_EQ(describe(expected), describe(AccessConfig{}));

    const Config config = parsed(creator("acme"));
    EXPECT_EQ(describe(config.access), describe(expected));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].access), describe(expected));

    // Empty tables change nothing.
    const Config empty = parsed("[access]\n\n" + creator("acme", "[creators.access]\n"));
    EXPECT_EQ(describe(empty.access), describe(expected));
    EXPECT_EQ(describe(empty.creators[0].access), describe(expected));
}

// ---------------------------------------------------------------------------------------------
// Every key

TEST(AccessConfig, OnObjectionIsUnchangedOrGrant) {
    EXPECT_FALSE(parsed(valid_creator).access.policy.grant_on_objection);
    auto c = parsed("[access]\non_objection = \"grant\"\n" + valid_creator);
    EXPECT_TRUE(c.access.policy.grant_on_objection);
    EXPECT_TRUE(c.creators[0].access.policy.grant_on_objection);
    c = parsed("[access]\non_objection = \"grant\"\n\n" +
               creator("acme", "[creators.access]\non_objection = \"unchanged\"\n"));
    EXPECT_FALSE(c.creators[0].access.policy.grant_on_objection);
    EXPECT_EQ(problems_of("[access]\non_objection = \"locked\"\n" + valid_creator),
              Problems{R"(t.toml:2: access.on_objection: must be "unchanged" or "grant")"});
}

TEST(AccessConfig, ReadsEveryKey) {
    const Config config = parsed(R"([access]
min_amount = 25.5
reminder = "grace"
formal_reminder = "grace"
final_notice = "limited"
after_final_deadline = "limited"
on_lost_dispute = "limited"
on_subscription_ended = "limited"
)" + valid_creator);
    AccessConfig expected;
    expected.policy.during_stage = {{"reminder", AccessLevel::grace},
                                    {"formal_reminder", AccessLevel::grace},
                                    {"final_notice", AccessLevel::limited}};
    expected.policy.after_final_deadline = AccessLevel::limited;
    expected.policy.on_lost_dispute = AccessLevel::limited;
    expected.policy.on_subscription_ended = AccessLevel::limited;
    expected.policy.min_amount_minor = 2550;
    EXPECT_EQ(describe(config.access), describe(expected));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].access), describe(expected));
}

TEST(AccessConfig, EachKeyAlone) {
    const std::vector<std::pair<std::string, std::function<void(AccessPolicy&)>>> keys = {
        {"min_amount = 0", [](AccessPolicy& p) { p.min_amount_minor = 0; }},
        {"min_amount = 100000", [](AccessPolicy& p) { p.min_amount_minor = 10000000; }},
        {"min_amount = 49.99", [](AccessPolicy& p) { p.min_amount_minor = 4999; }},
        {"min_amount = 0.005", [](AccessPolicy& p) { p.min_amount_minor = 1; }}, // rounded
        {"min_amount = 7", [](AccessPolicy& p) { p.min_amount_minor = 700; }},
        {"reminder = \"grace\"\nformal_reminder = \"grace\"",
         [](AccessPolicy& p) {
             p.during_stage["reminder"] = AccessLevel::grace;
             p.during_stage["formal_reminder"] = AccessLevel::grace;
         }},
        {"formal_reminder = \"grace\"",
         [](AccessPolicy& p) { p.during_stage["formal_reminder"] = AccessLevel::grace; }},
        {"final_notice = \"granted\"",
         [](AccessPolicy& p) { p.during_stage["final_notice"] = AccessLevel::granted; }},
        {"final_notice = \"limited\"",
         [](AccessPolicy& p) { p.during_stage["final_notice"] = AccessLevel::limited; }},
        {"after_final_deadline = \"limited\"",
         [](AccessPolicy& p) { p.after_final_deadline = AccessLevel::limited; }},
        {"on_lost_dispute = \"limited\"",
         [](AccessPolicy& p) { p.on_lost_dispute = AccessLevel::limited; }},
        {"on_subscription_ended = \"limited\"",
         [](AccessPolicy& p) { p.on_subscription_ended = AccessLevel::limited; }},
    };
    for (const auto& [line, apply] : keys) {
        SCOPED_TRACE(line);
        AccessConfig expected;
        apply(expected.policy);
        EXPECT_EQ(describe(parsed("[access]\n" + line + "\n" + valid_creator).access),
                  describe(expected));
    }
    // The defaults written out are accepted too.
    EXPECT_EQ(describe(parsed("[access]\nreminder = \"granted\"\nformal_reminder = \"granted\"\n"
                              "final_notice = \"grace\"\nafter_final_deadline = \"locked\"\n"
                              "on_lost_dispute = \"locked\"\non_subscription_ended = \"locked\"\n"
                              "min_amount = 10\n" +
                              valid_creator)
                           .access),
              describe(AccessConfig{}));
}

TEST(AccessConfig, ValuesMayComeFromTheEnvironment) {
    auto result =
        parse_config(with_sender("[access]\nafter_final_deadline = \"${LEVEL}\"\n" + valid_creator),
                     "t.toml", base, env_of({{"LEVEL", "limited"}}));
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(result.value().access.policy.after_final_deadline, AccessLevel::limited);
}

// ---------------------------------------------------------------------------------------------
// Creators override [access] key by key

TEST(AccessConfig, CreatorOverridesKeyByKey) {
    // Every key set to something other than its default.
    const std::string global = R"([access]
min_amount = 50
reminder = "grace"
formal_reminder = "grace"
final_notice = "limited"
after_final_deadline = "limited"
on_lost_dispute = "limited"
on_subscription_ended = "limited"

)";
    const Config base_config = parsed(global + creator("acme"));
    const AccessConfig globals = base_config.access;
    ASSERT_EQ(globals.policy.min_amount_minor, 5000);
    ASSERT_EQ(globals.policy.after_final_deadline, AccessLevel::limited);
    EXPECT_EQ(describe(base_config.creators[0].access), describe(globals)); // all inherited

    const std::vector<std::pair<std::string, std::function<void(AccessPolicy&)>>> overrides = {
        {"min_amount = 0", [](AccessPolicy& p) { p.min_amount_minor = 0; }},
        {"reminder = \"granted\"",
         [](AccessPolicy& p) { p.during_stage["reminder"] = AccessLevel::granted; }},
        {"final_notice = \"grace\"",
         [](AccessPolicy& p) { p.during_stage["final_notice"] = AccessLevel::grace; }},
        {"after_final_deadline = \"locked\"",
         [](AccessPolicy& p) { p.after_final_deadline = AccessLevel::locked; }},
        {"on_lost_dispute = \"locked\"",
         [](AccessPolicy& p) { p.on_lost_dispute = AccessLevel::locked; }},
        {"on_subscription_ended = \"locked\"",
         [](AccessPolicy& p) { p.on_subscription_ended = AccessLevel::locked; }},
        {"formal_reminder = \"granted\"\nreminder = \"granted\"",
         [](AccessPolicy& p) {
             p.during_stage["reminder"] = AccessLevel::granted;
             p.during_stage["formal_reminder"] = AccessLevel::granted;
         }},
    };
    for (const auto& [line, apply] : overrides) {
        SCOPED_TRACE(line);
        // The overriding creator comes first, so the second one shows nothing leaks over.
        const Config config = parsed(global + creator("acme", "[creators.access]\n" + line + "\n") +
                                     "\n" + creator("beta"));
        AccessConfig expected = globals;
        apply(expected.policy);
        EXPECT_NE(describe(expected), describe(globals));
        ASSERT_EQ(config.creators.size(), 2u);
        EXPECT_EQ(describe(config.creators[0].access), describe(expected));
        EXPECT_EQ(describe(config.creators[1].access), describe(globals));
        EXPECT_EQ(describe(config.access), describe(globals));
    }
}

TEST(AccessConfig, CreatorWithoutGlobalTableStartsFromTheDefaults) {
    const Config config = parsed(creator("acme", "[creators.access]\nmin_amount = 99.5\n"));
    AccessConfig expected;
    expected.policy.min_amount_minor = 9950;
    EXPECT_EQ(describe(config.creators[0].access), describe(expected));
    EXPECT_EQ(describe(config.access), describe(AccessConfig{}));
}

// ---------------------------------------------------------------------------------------------
// Every invalid value, with its exact message and line

// One bad value: `body` follows the table's header line (line 1); `line` is where the problem is
// reported, counted from that header.
struct Rule {
    std::string body;
    int line;
    std::string key;
    std::string problem;
};

const std::string stage_levels = R"(must be "granted" or "grace")";
const std::string announced_first =
    stage_levels + ": access is limited or locked only after the final notice has announced it";
const std::string final_levels = R"(must be "granted", "grace" or "limited")";
const std::string full_lock_waits =
    final_levels +
    ": a full lock waits until the final notice's deadline has passed (after_final_deadline)";
const std::string blocking_levels = R"(must be "limited" or "locked")";
const std::string amount_type =
    "must be a number: the amount in the invoice currency's major unit, e.g. 10 or 12.50";
const std::string amount_range = "must be between 0 and 100000";
const std::string tightens = ": access only tightens from one dunning email to the next";

std::vector<Rule> access_rules() {
    return {
        {"min_amount = -1\n", 2, "min_amount", amount_range},
        {"min_amount = -0.01\n", 2, "min_amount", amount_range},
        {"min_amount = 100000.01\n", 2, "min_amount", amount_range},
        {"min_amount = inf\n", 2, "min_amount", amount_range},
        {"min_amount = nan\n", 2, "min_amount", amount_type},
        {"min_amount = \"10\"\n", 2, "min_amount", amount_type},
        {"min_amount = true\n", 2, "min_amount", amount_type},
        {"reminder = \"limited\"\n", 2, "reminder", announced_first},
        {"reminder = \"locked\"\n", 2, "reminder", announced_first},
        {"reminder = \"open\"\n", 2, "reminder", stage_levels},
        {"reminder = \"Granted\"\n", 2, "reminder", stage_levels},
        {"reminder = \"\"\n", 2, "reminder", stage_levels},
        {"reminder = 1\n", 2, "reminder", "must be a string"},
        {"formal_reminder = \"limited\"\n", 2, "formal_reminder", announced_first},
        {"formal_reminder = \"locked\"\n", 2, "formal_reminder", announced_first},
        {"formal_reminder = \"blocked\"\n", 2, "formal_reminder", stage_levels},
        {"formal_reminder = [\"grace\"]\n", 2, "formal_reminder", "must be a string"},
        {"final_notice = \"locked\"\n", 2, "final_notice", full_lock_waits},
        {"final_notice = \"lock\"\n", 2, "final_notice", final_levels},
        {"final_notice = false\n", 2, "final_notice", "must be a string"},
        {"after_final_deadline = \"granted\"\n", 2, "after_final_deadline", blocking_levels},
        {"after_final_deadline = \"grace\"\n", 2, "after_final_deadline", blocking_levels},
        {"after_final_deadline = \"partial\"\n", 2, "after_final_deadline", blocking_levels},
        {"after_final_deadline = 3\n", 2, "after_final_deadline", "must be a string"},
        {"on_lost_dispute = \"granted\"\n", 2, "on_lost_dispute", blocking_levels},
        {"on_lost_dispute = \"grace\"\n", 2, "on_lost_dispute", blocking_levels},
        {"on_lost_dispute = \"LOCKED\"\n", 2, "on_lost_dispute", blocking_levels},
        {"on_lost_dispute = {}\n", 2, "on_lost_dispute", "must be a string"},
        {"on_subscription_ended = \"granted\"\n", 2, "on_subscription_ended", blocking_levels},
        {"on_subscription_ended = \"grace\"\n", 2, "on_subscription_ended", blocking_levels},
        {"on_subscription_ended = \"cancel\"\n", 2, "on_subscription_ended", blocking_levels},
        // Escalating tone: never looser than the email before.
        {"reminder = \"grace\"\n", 2, "reminder",
         R"(must not be more restrictive than formal_reminder ("granted"))" + tightens},
        {"reminder = \"grace\"\nformal_reminder = \"granted\"\n", 3, "formal_reminder",
         R"(must be at least as restrictive as reminder ("grace"))" + tightens},
        {"formal_reminder = \"grace\"\nreminder = \"grace\"\nfinal_notice = \"granted\"\n", 4,
         "final_notice",
         R"(must be at least as restrictive as formal_reminder ("grace"))" + tightens},
        // Both set here: at the later one.
        {"final_notice = \"granted\"\nformal_reminder = \"grace\"\n", 2, "final_notice",
         R"(must be at least as restrictive as formal_reminder ("grace"))" + tightens},
        // Unknown keys, with a hint when one is close.
        {"min_ammount = 5\n", 2, "min_ammount", R"(unknown key, did you mean "min_amount"?)"},
        {"on_dispute_lost = \"locked\"\n", 2, "on_dispute_lost", "unknown key"},
        {"final_notic = \"grace\"\n", 2, "final_notic",
         R"(unknown key, did you mean "final_notice"?)"},
        {"during_stage = {}\n", 2, "during_stage", "unknown table"},
    };
}

TEST(AccessConfig, EachRuleInAccess) {
    for (const auto& rule : access_rules()) {
        SCOPED_TRACE(rule.body);
        EXPECT_EQ(problems_of("[access]\n" + rule.body + valid_creator),
                  Problems{"t.toml:" + std::to_string(rule.line) + ": access." + rule.key + ": " +
                           rule.problem});
    }
}

TEST(AccessConfig, EachRuleInCreatorsAccess) {
    for (const auto& rule : access_rules()) {
        SCOPED_TRACE(rule.body);
        // [creators.access] is on line 6.
        EXPECT_EQ(problems_of(creator("acme", "[creators.access]\n" + rule.body)),
                  Problems{"t.toml:" + std::to_string(rule.line + 5) + ": creators[0].access." +
                           rule.key + ": " + rule.problem});
    }
}

TEST(AccessConfig, ExactMessages) {
    // The rules above, spelled out once.
    EXPECT_EQ(problems_of("[access]\nreminder = \"locked\"\n" + valid_creator),
              Problems{R"(t.toml:2: access.reminder: must be "granted" or "grace": access is )"
                       "limited or locked only after the final notice has announced it"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.access]\nfinal_notice = \"locked\"\n")),
              Problems{R"(t.toml:7: creators[0].access.final_notice: must be "granted", "grace" )"
                       R"(or "limited": a full lock waits until the final notice's deadline has )"
                       "passed (after_final_deadline)"});
    EXPECT_EQ(problems_of("[access]\non_lost_dispute = \"grace\"\n" + valid_creator),
              Problems{R"(t.toml:2: access.on_lost_dispute: must be "limited" or "locked")"});
    EXPECT_EQ(problems_of("[access]\nmin_amount = 250000\n" + valid_creator),
              Problems{"t.toml:2: access.min_amount: must be between 0 and 100000"});
    EXPECT_EQ(problems_of("[access]\nreminder = \"grace\"\nformal_reminder = \"granted\"\n" +
                          valid_creator),
              Problems{R"(t.toml:3: access.formal_reminder: must be at least as restrictive as )"
                       R"(reminder ("grace"): access only tightens from one dunning email to )"
                       "the next"});
    EXPECT_EQ(problems_of("access = 1\n" + valid_creator),
              Problems{"t.toml:1: access: must be a table ([access])"});
    EXPECT_EQ(problems_of(creator("acme", "access = \"open\"\n")),
              Problems{"t.toml:6: creators[0].access: must be a table ([creators.access])"});
    EXPECT_EQ(problems_of("[acess]\n" + valid_creator),
              Problems{R"(t.toml:1: acess: unknown table, did you mean "access"?)"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.accesss]\n")),
              Problems{R"(t.toml:6: creators[0].accesss: unknown table, did you mean "access"?)"});
}

TEST(AccessConfig, ReportsEveryProblemInLineOrder) {
    const std::string text = "[access]\n"
                             "on_subscription_ended = \"granted\"\n"
                             "min_amount = -5\n"
                             "reminder = \"locked\"\n"
                             "final_notice = \"locked\"\n"
                             "colour = \"red\"\n" +
                             valid_creator;
    EXPECT_EQ(problems_of(text), (Problems{
                                     "t.toml:2: access.on_subscription_ended: " + blocking_levels,
                                     "t.toml:3: access.min_amount: " + amount_range,
                                     "t.toml:4: access.reminder: " + announced_first,
                                     "t.toml:5: access.final_notice: " + full_lock_waits,
                                     "t.toml:6: access.colour: unknown key",
                                 }));
}

TEST(AccessConfig, ABadLevelIsNotAlsoReportedAsOutOfOrder) {
    // formal_reminder = "locked" is refused, and not compared with final_notice besides.
    EXPECT_EQ(problems_of("[access]\nformal_reminder = \"locked\"\nfinal_notice = \"granted\"\n" +
                          valid_creator),
              Problems{"t.toml:2: access.formal_reminder: " + announced_first});
    EXPECT_EQ(problems_of("[access]\nreminder = \"grace\"\nformal_reminder = 1\n" + valid_creator),
              Problems{"t.toml:3: access.formal_reminder: must be a string"});
}

// ---------------------------------------------------------------------------------------------
// The order of the stages holds for the merged levels

TEST(AccessConfig, OrderIsCheckedOnTheMergedLevels) {
    const std::string global =
        "[access]\nreminder = \"grace\"\nformal_reminder = \"grace\"\nfinal_notice = \"grace\"\n\n";
    // The creator loosens the final notice below the inherited formal reminder: at its key.
    EXPECT_EQ(problems_of(global + creator("acme", "[creators.access]\nfinal_notice = "
                                                   "\"granted\"\n")),
              Problems{R"(t.toml:12: creators[0].access.final_notice: must be at least as )"
                       R"(restrictive as formal_reminder ("grace"))" +
                       tightens});
    // The creator tightens the reminder above the global formal reminder: at its key.
    EXPECT_EQ(problems_of("[access]\nformal_reminder = \"granted\"\n\n" +
                          creator("acme", "[creators.access]\nreminder = \"grace\"\n")),
              Problems{R"(t.toml:10: creators[0].access.reminder: must not be more restrictive )"
                       R"(than formal_reminder ("granted"))" +
                       tightens});
    EXPECT_EQ(problems_of("[access]\nfinal_notice = \"granted\"\n\n" +
                          creator("acme", "[creators.access]\nformal_reminder = \"grace\"\n")),
              Problems{R"(t.toml:10: creators[0].access.formal_reminder: must not be more )"
                       R"(restrictive than final_notice ("granted"))" +
                       tightens});
    // Loosening the whole ladder together is fine; so is a global ladder a creator leaves alone.
    const Config config =
        parsed(global +
               creator("acme", "[creators.access]\nfinal_notice = \"granted\"\n"
                               "formal_reminder = \"granted\"\nreminder = \"granted\"\n") +
               "\n" + creator("beta", "[creators.access]\nmin_amount = 1\n"));
    ASSERT_EQ(config.creators.size(), 2u);
    EXPECT_EQ(describe(config.creators[0].access), [] {
        AccessConfig expected;
        expected.policy.during_stage["final_notice"] = AccessLevel::granted;
        return describe(expected);
    }());
    EXPECT_EQ(config.creators[1].access.policy.during_stage.at("reminder"), AccessLevel::grace);
    EXPECT_EQ(config.creators[1].access.policy.min_amount_minor, 100);
}

TEST(AccessConfig, AGlobalProblemIsReportedOnceNotPerCreator) {
    EXPECT_EQ(problems_of("[access]\nreminder = \"grace\"\n\n" + creator("acme") + "\n" +
                          creator("beta", "[creators.access]\nmin_amount = 5\n")),
              Problems{R"(t.toml:2: access.reminder: must not be more restrictive than )"
                       R"(formal_reminder ("granted"))" +
                       tightens});
    EXPECT_EQ(problems_of("[access]\nfinal_notice = \"locked\"\n\n" + creator("acme") + "\n" +
                          creator("beta", "[creators.access]\nreminder = \"grace\"\n"
                                          "formal_reminder = \"grace\"\n")),
              Problems{"t.toml:2: access.final_notice: " + full_lock_waits});
}

// ---------------------------------------------------------------------------------------------
// config/example.toml

TEST(ExampleConfig, LoadsWithTheAccessDefaults) {
    auto result = load_config(example, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(describe(result.value().access), describe(AccessConfig{}));
    ASSERT_EQ(result.value().creators.size(), 1u);
    EXPECT_EQ(describe(result.value().creators[0].access), describe(AccessConfig{}));
}

TEST(ExampleConfig, ItsAccessKeysAreEveryKeyWithItsDefault) {
    std::string text = read_example();
    EXPECT_EQ(uncomment_from(text, "[access]"),
              (std::set<std::string>{"min_amount", "reminder", "formal_reminder", "final_notice",
                                     "after_final_deadline", "on_lost_dispute",
                                     "on_subscription_ended", "on_objection"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(describe(result.value().access), describe(AccessConfig{}));
}

TEST(ExampleConfig, ItsCreatorAccessExampleLoads) {
    std::string text = read_example();
    const auto keys = uncomment_from(text, "# [creators.access]");
    EXPECT_EQ(keys, (std::set<std::string>{"min_amount", "final_notice", "after_final_deadline"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    const Config& config = result.value();
    ASSERT_EQ(config.creators.size(), 1u);
    AccessConfig expected;
    expected.policy.min_amount_minor = 2500;
    expected.policy.during_stage["final_notice"] = AccessLevel::limited;
    expected.policy.after_final_deadline = AccessLevel::limited;
    EXPECT_EQ(describe(config.creators[0].access), describe(expected));
    EXPECT_EQ(describe(config.access), describe(AccessConfig{}));
}

} // namespace
} // namespace dunning::config
