// [storage] secrets_key and previous_secrets_keys: 32 bytes in standard base64, from the
// environment; every problem at its line, never the value.
#include "core/base64.hpp"
#include "tests/config/support.hpp"

namespace dunning::config {
namespace {

using namespace testing;

const std::string key_a = "MqQNVnoR+wsvoiguajRdziW1/Bqx9SMPrgnq4RYLZQo=";
const std::string key_b = "u25TfDWmBRE6F7JgAduQqviKxmq/pYFSIJ3EeoqnWAE=";

Problems problems_of(const std::string& text, const EnvLookup& env = no_env) {
    return problems_in(text + creator("alpha"), "/etc/dunning", env);
}

TEST(SecretsKeyConfig, WithoutAKeyNothingIsSealedAndTheServiceStillLoads) {
    const auto c = parsed_in(creator("alpha"), "/etc/dunning", no_env);
    EXPECT_TRUE(c.storage.secrets_key.empty());
    EXPECT_TRUE(c.storage.previous_secrets_keys.empty());
}

TEST(SecretsKeyConfig, ReadsTheKeysFromTheEnvironmentAsRawBytes) {
    const auto env = env_of({{"DUNNING_SECRETS_KEY", key_a}, {"OLD_KEY", key_b}});
    const auto c = parsed_in("[storage]\nsecrets_key = \"${DUNNING_SECRETS_KEY}\"\n"
                             "previous_secrets_keys = [\"${OLD_KEY}\"]\n" +
                                 creator("alpha"),
                             "/etc/dunning", env);
    EXPECT_EQ(c.storage.secrets_key, base64_decode(key_a).value());
    EXPECT_EQ(c.storage.secrets_key.size(), 32u);
    ASSERT_EQ(c.storage.previous_secrets_keys.size(), 1u);
    EXPECT_EQ(c.storage.previous_secrets_keys[0], base64_decode(key_b).value());
}

TEST(SecretsKeyConfig, EachProblemAtItsLine) {
    const std::string base64_problem =
        "must be standard base64 (A-Z a-z 0-9 + / and = padding) of 32 bytes, e.g. from "
        "`openssl rand -base64 32`";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[storage]\nsecrets_key = \"" + base64_encode(std::string(16, 'k')) + "\"\n",
         "t.toml:2: storage.secrets_key: must be 32 bytes (44 base64 characters); this one is 16 "
         "bytes"},
        {"[storage]\nsecrets_key = \"" + base64_encode(std::string(33, 'k')) + "\"\n",
         "t.toml:2: storage.secrets_key: must be 32 bytes (44 base64 characters); this one is 33 "
         "bytes"},
        {"[storage]\nsecrets_key = \"\"\n",
         "t.toml:2: storage.secrets_key: must be 32 bytes (44 base64 characters); this one is 0 "
         "bytes"},
        {"[storage]\nsecrets_key = \"" + key_a.substr(0, 43) + "\"\n",
         "t.toml:2: storage.secrets_key: " + base64_problem},
        {"[storage]\nsecrets_key = \"MqQNVnoR-wsvoiguajRdziW1_Bqx9SMPrgnq4RYLZQo=\"\n",
         "t.toml:2: storage.secrets_key: " + base64_problem},
        {"[storage]\nsecrets_key = \"" + key_a + "\\n\"\n",
         "t.toml:2: storage.secrets_key: " + base64_problem},
        {"[storage]\nsecrets_key = 32\n", "t.toml:2: storage.secrets_key: must be a string"},
        {"[storage]\nsecrets_key = \"" + key_a + "\"\nprevious_secrets_keys = [\n  \"" + key_b +
             "\",\n  \"short\"\n]\n",
         "t.toml:5: storage.previous_secrets_keys: " + base64_problem},
        {"[storage]\nprevious_secrets_keys = [\"" + key_b + "\"]\n",
         "t.toml:2: storage.previous_secrets_keys: needs secrets_key: the key new values are "
         "sealed with"},
        {"[storage]\nsecrets_key = \"${NOT_SET}\"\n",
         "t.toml:2: storage.secrets_key: environment variable NOT_SET is not set"},
    };
    for (const auto& [text, message] : cases)
        EXPECT_EQ(problems_of(text), Problems{message}) << text;
}

TEST(SecretsKeyConfig, TheKeyNeverAppearsInAMessage) {
    const auto short_key = base64_encode("SECRETSECRETSECRET");
    const auto env = env_of({{"K", short_key}});
    for (const auto& text : {"[storage]\nsecrets_key = \"${K}\"\n",
                             "[storage]\nsecrets_key = \"SECRET-not-base64\"\n"}) {
        const auto problems = problems_of(text, env);
        ASSERT_EQ(problems.size(), 1u) << joined(problems);
        EXPECT_EQ(problems[0].find("SECRET"), std::string::npos) << problems[0];
        EXPECT_EQ(problems[0].find(short_key), std::string::npos) << problems[0];
    }
}

} // namespace
} // namespace dunning::config
