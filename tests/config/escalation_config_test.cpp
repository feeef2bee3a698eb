// [escalation] and [creators.escalation]: the write-off threshold in the invoice currency's
// major unit and automatic handover, global and per creator, with exact messages.
#include "config/config.hpp"
#include "tests/config/support.hpp"

#include <gtest/gtest.h>

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

std::pair<std::int64_t, bool> policy_of(const EscalationConfig& e) {
    return {e.policy.write_off_below_milli, e.policy.auto_handover};
}

TEST(EscalationConfig, DefaultsAreFiftyAndNoHandover) {
    const auto c = parsed(valid_creator);
    EXPECT_EQ(policy_of(c.escalation), std::make_pair(std::int64_t{50'000}, false));
    ASSERT_EQ(c.creators.size(), 1u);
    EXPECT_EQ(policy_of(c.creators[0].escalation), std::make_pair(std::int64_t{50'000}, false));
}

TEST(EscalationConfig, AmountsInTheMajorUnit) {
    const std::pair<const char*, std::int64_t> rows[] = {
        {"0", 0},     {"50", 50'000},      {"49.99", 49'990},          {"12.5", 12'500},
        {"0.001", 1}, {"8000", 8'000'000}, {"1000000", 1'000'000'000}, {"50.125", 50'125},
    };
    for (const auto& [text, milli] : rows) {
        SCOPED_TRACE(text);
        const auto c =
            parsed("[escalation]\nwrite_off_below = " + std::string(text) + "\n" + valid_creator);
        EXPECT_EQ(c.escalation.policy.write_off_below_milli, milli);
        ASSERT_EQ(c.creators.size(), 1u);
        EXPECT_EQ(c.creators[0].escalation.policy.write_off_below_milli, milli);
    }
}

TEST(EscalationConfig, ACreatorOverridesKeyByKey) {
    const auto c = parsed("[escalation]\nwrite_off_below = 20\nauto_handover = true\n\n" +
                          creator("acme", "[creators.escalation]\nwrite_off_below = 8000\n") +
                          "\n" + creator("beta", "[creators.escalation]\nauto_handover = false\n"));
    EXPECT_EQ(policy_of(c.escalation), std::make_pair(std::int64_t{20'000}, true));
    ASSERT_EQ(c.creators.size(), 2u);
    EXPECT_EQ(policy_of(c.creators[0].escalation), std::make_pair(std::int64_t{8'000'000}, true));
    EXPECT_EQ(policy_of(c.creators[1].escalation), std::make_pair(std::int64_t{20'000}, false));
}

TEST(EscalationConfig, ExactMessages) {
    EXPECT_EQ(problems_of("[escalation]\nwrite_off_below = \"50\"\n" + valid_creator),
              Problems{"t.toml:2: escalation.write_off_below: must be a number: the amount in the "
                       "invoice currency's major unit (euros, not cents; yen for JPY), e.g. 50 or "
                       "49.99"});
    EXPECT_EQ(problems_of("[escalation]\nwrite_off_below = -1\n" + valid_creator),
              Problems{"t.toml:2: escalation.write_off_below: must be between 0 (never write "
                       "off) and 1000000"});
    EXPECT_EQ(problems_of("[escalation]\nwrite_off_below = 1000000.5\n" + valid_creator),
              Problems{"t.toml:2: escalation.write_off_below: must be between 0 (never write "
                       "off) and 1000000"});
    EXPECT_EQ(problems_of("[escalation]\nwrite_off_below = nan\n" + valid_creator),
              Problems{"t.toml:2: escalation.write_off_below: must be a number: the amount in the "
                       "invoice currency's major unit (euros, not cents; yen for JPY), e.g. 50 or "
                       "49.99"});
    EXPECT_EQ(problems_of("[escalation]\nwrite_off_below = 49.9999\n" + valid_creator),
              Problems{"t.toml:2: escalation.write_off_below: must have at most three decimals"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.escalation]\nauto_handover = \"yes\"\n")),
              Problems{"t.toml:7: creators[0].escalation.auto_handover: must be true or false"});
    EXPECT_EQ(problems_of("[escalation]\nwrite_of_below = 10\n" + valid_creator),
              Problems{R"(t.toml:2: escalation.write_of_below: unknown key, did you mean )"
                       R"("write_off_below"?)"});
    EXPECT_EQ(problems_of("escalation = 1\n" + valid_creator),
              Problems{"t.toml:1: escalation: must be a table ([escalation])"});
}

TEST(EscalationConfig, PromiseMaxDaysGlobalAndPerCreator) {
    auto c = parsed("[escalation]\npromise_max_days = 30\n" + valid_creator);
    EXPECT_EQ(c.escalation.policy.promise_max_days, 30);
    EXPECT_EQ(c.creators[0].escalation.policy.promise_max_days, 30);
    c = parsed(creator("acme", "[creators.escalation]\npromise_max_days = 7\n"));
    EXPECT_EQ(c.escalation.policy.promise_max_days, 14);
    EXPECT_EQ(c.creators[0].escalation.policy.promise_max_days, 7);
    EXPECT_EQ(problems_of("[escalation]\npromise_max_days = 0\n" + valid_creator),
              Problems{"t.toml:2: escalation.promise_max_days: must be between 1 and 90"});
}

TEST(EscalationConfig, CourtClaimTypePerCreatorAndPerProduct) {
    const auto c = parsed("[escalation]\ncourt_claim_type = 43\n\n" +
                          creator("acme", "legal_name = \"Acme GmbH\"\naddress = \"Weg 1\"\n"
                                          "[[creators.products]]\nstripe_product = \"prod_a\"\n"
                                          "courses = [\"c1\"]\ncourt_claim_type = 28\n"
                                          "[creators.escalation]\ncourt_claim_type = 16\n") +
                          "\n" + creator("beta"));
    EXPECT_EQ(c.escalation.court_claim_type, 43);
    ASSERT_EQ(c.creators.size(), 2u);
    EXPECT_EQ(c.creators[0].escalation.court_claim_type, 16);
    EXPECT_EQ(c.creators[0].products.at(0).court_claim_type, 28);
    EXPECT_EQ(c.creators[0].legal_name, "Acme GmbH");
    EXPECT_EQ(c.creators[0].address, "Weg 1");
    EXPECT_EQ(c.creators[1].escalation.court_claim_type, 43);
    EXPECT_EQ(parsed(valid_creator).creators[0].escalation.court_claim_type, 16);
    EXPECT_EQ(problems_of("[escalation]\ncourt_claim_type = 0\n" + valid_creator),
              Problems{"t.toml:2: escalation.court_claim_type: must be between 1 and 99"});
    EXPECT_EQ(problems_of(creator("acme", "[[creators.products]]\nstripe_product = \"prod_a\"\n"
                                          "courses = [\"c1\"]\ncourt_claim_type = \"16\"\n")),
              Problems{"t.toml:9: creators[0].products[0].court_claim_type: must be an integer"});
}

TEST(ExampleConfig, ItsEscalationKeysAreEveryKeyWithItsDefault) {
    std::string text = read_example();
    EXPECT_EQ(uncomment_from(text, "[escalation]"),
              (std::set<std::string>{"write_off_below", "auto_handover", "promise_max_days",
                                     "court_claim_type"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(policy_of(result.value().escalation), policy_of(EscalationConfig{}));
    EXPECT_EQ(result.value().escalation.court_claim_type, EscalationConfig{}.court_claim_type);
}

TEST(ExampleConfig, ItsCreatorEscalationExampleLoads) {
    std::string text = read_example();
    EXPECT_EQ(uncomment_from(text, "# [creators.escalation]"),
              (std::set<std::string>{"write_off_below", "auto_handover", "court_claim_type"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    ASSERT_EQ(result.value().creators.size(), 1u);
    EXPECT_EQ(policy_of(result.value().creators[0].escalation),
              std::make_pair(std::int64_t{8'000'000}, true));
}

} // namespace
} // namespace dunning::config
