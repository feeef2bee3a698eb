// `dunning secrets rotate-key` on the real binary over a real SQLite file: every row re-sealed
// under the new key, progress and next steps shown, a rerun changes nothing, and its output
// (kept under test-logs/ for the SecretsInLogs check) holds no key and no secret.
#include "core/base64.hpp"
#include "store/database.hpp"
#include "store/secrets.hpp"
#include "support/process.hpp"
#include "support/secrets.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace dunning;
using namespace dunning::testing;

namespace {

const std::string binary = DUNNING_BINARY;

store::SecretKey decoded(const std::string& base64) {
    return *store::secret_key_from_bytes(*base64_decode(base64));
}

const std::vector<std::pair<std::string, std::string>> stored = {
    {"stripe_secret_key", alpha_stripe_key},
    {"webhook_secret", alpha_secret},
    {"oauth_access_token", alpha_oauth_access_token},
    {"oauth_refresh_token", alpha_oauth_refresh_token},
};

class RotateKey : public ::testing::Test {
  protected:
    TempDir dir;
    std::string db_path = (dir.path() / "dunning.db").string();
    std::string config_path = (dir.path() / "dunning.toml").string();
    std::string log =
        test_log_path(std::string("secrets_rotate_key_") +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());

    void SetUp() override {
        ::setenv("DUNNING_TEST_SECRETS_KEY", secrets_key.c_str(), 1);
        ::setenv("DUNNING_TEST_NEW_SECRETS_KEY", new_secrets_key.c_str(), 1);
        write_config("secrets_key = \"${DUNNING_TEST_SECRETS_KEY}\"\n");
        auto db = store::open_store({db_path, "normal"});
        const store::SecretBox box(decoded(secrets_key));
        for (const auto& [name, value] : stored)
            ASSERT_TRUE(store::put_secret(*db, box, "alpha", name, value, from_unix(1)));
    }
    void write_config(const std::string& keys) {
        std::ofstream(config_path) << "[storage]\nsqlite_path = \"dunning.db\"\n"
                                   << keys << "[mail]\nfrom = \"A <billing@alpha.example>\"\n"
                                   << "[[creators]]\nid = \"alpha\"\nname = \"Alpha\"\n"
                                   << "webhook_secrets = [\"" << alpha_secret << "\"]\n"
                                   << "api_token = \"" << alpha_token << "\"\n";
    }
    CommandResult rotate(const std::string& key_option) {
        auto r =
            run_command(binary + " secrets rotate-key --config " + config_path + " " + key_option);
        std::ofstream(log, std::ios::app) << r.output;
        return r;
    }
    std::string opened_with(const std::string& key, const std::string& name) {
        auto db = store::connect_store({db_path, "normal"});
        auto got = store::get_secret(*db, store::SecretBox(decoded(key)), "alpha", name);
        return got ? got.value().value_or("(absent)") : "(does not open)";
    }
};

TEST_F(RotateKey, ResealsEveryRowThenARerunSkipsThemAll) {
    const auto r = rotate("--new-key-env DUNNING_TEST_NEW_SECRETS_KEY");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto new_kid = store::key_id(decoded(new_secrets_key));
    EXPECT_NE(r.output.find("under key " + new_kid), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("  4/4\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("4 secret(s): 4 re-sealed under key " + new_kid + ", 0 already"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("Set [storage] secrets_key to the new key"), std::string::npos)
        << r.output;
    for (const auto& [name, value] : stored) {
        EXPECT_EQ(opened_with(new_secrets_key, name), value);
        EXPECT_EQ(opened_with(secrets_key, name), "(does not open)");
    }
    // The operator's next step: the new key is secrets_key, the old one kept for a while.
    write_config("secrets_key = \"${DUNNING_TEST_NEW_SECRETS_KEY}\"\n"
                 "previous_secrets_keys = [\"${DUNNING_TEST_SECRETS_KEY}\"]\n");
    const auto again = rotate("--new-key-env DUNNING_TEST_NEW_SECRETS_KEY");
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("4 secret(s): 0 re-sealed under key " + new_kid + ", 4 already"),
              std::string::npos)
        << again.output;
    EXPECT_NE(again.output.find("secrets_key already is this key"), std::string::npos)
        << again.output;
    EXPECT_EQ(opened_with(new_secrets_key, "webhook_secret"), alpha_secret);
}

TEST_F(RotateKey, ReadsTheNewKeyFromAFile) {
    const auto key_file = dir.path() / "new.key";
    std::ofstream(key_file) << new_secrets_key << "\n";
    const auto r = rotate("--new-key-file " + key_file.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(opened_with(new_secrets_key, "oauth_refresh_token"), alpha_oauth_refresh_token);
}

TEST_F(RotateKey, ABadOrMissingNewKeyChangesNothing) {
    ::setenv("DUNNING_TEST_BAD_KEY", "SECRET-not-a-key", 1);
    auto r = rotate("--new-key-env DUNNING_TEST_BAD_KEY");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("must be 32 bytes in standard base64"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("SECRET"), std::string::npos) << r.output;
    r = rotate("--new-key-env DUNNING_TEST_UNSET_KEY_NAME");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("DUNNING_TEST_UNSET_KEY_NAME is not set"), std::string::npos);
    r = rotate("");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("exactly one of --new-key-env"), std::string::npos) << r.output;
    EXPECT_NE(rotate("--new-key-env A --new-key-file " + config_path).exit_code, 0);
    EXPECT_EQ(opened_with(secrets_key, "stripe_secret_key"), alpha_stripe_key);
}

TEST_F(RotateKey, AValueNoConfiguredKeyOpensStopsTheWholeRotation) {
    write_config("secrets_key = \"" + base64_encode(std::string(32, 'x')) + "\"\n");
    const auto r = rotate("--new-key-env DUNNING_TEST_NEW_SECRETS_KEY");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("alpha/webhook_secret: sealed under key "), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("nothing was changed"), std::string::npos) << r.output;
    EXPECT_EQ(opened_with(secrets_key, "webhook_secret"), alpha_secret);
}

TEST(RotateKeyHelp, SaysWhereTheKeyComesFromAndThatARerunIsSafe) {
    const auto r = run_command(binary + " secrets rotate-key --help");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    for (const char* text :
         {"--config", "--new-key-env", "--new-key-file", "never the command line",
          "safe to run again", "previous_secrets_keys"})
        EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
    EXPECT_NE(run_command(binary + " --help").output.find("secrets"), std::string::npos);
}

} // namespace
