#pragma once
// Every secret the tests configure, in one place: the configurations take them from here, and
// the SecretsInLogs check (tests/plugin/secrets_in_logs_test.cpp) looks for each of them in the
// logs the services wrote (test_log_path) and fails naming the file and line.
#include <filesystem>
#include <string>
#include <vector>

namespace dunning::testing {

inline const std::string alpha_secret = "whsec_alpha_test_secret";
inline const std::string alpha_old_secret = "whsec_alpha_old_secret";
inline const std::string beta_secret = "whsec_beta_test_secret";
inline const std::string platform_secret = "whsec_platform_test_secret";
inline const std::string alpha_token = "alpha-token-0123456789";
inline const std::string beta_token = "beta-token-0123456789";
inline const std::string alpha_stripe_key = "sk_test_alpha_0123456789secret";
inline const std::string beta_stripe_key = "sk_test_beta_0123456789secret";
inline const std::string platform_stripe_key = "sk_test_platform_0123456789secret";
inline const std::string smtp_password = "smtp-password-0123456789";
inline const std::string host_signing_secret = "whsec_host_platform_signing_secret";
// The keys creators' secrets are sealed with ([storage] secrets_key, and the one a rotation
// moves to), and values stored sealed: none may show in a log or in the database file.
inline const std::string secrets_key = "MqQNVnoR+wsvoiguajRdziW1/Bqx9SMPrgnq4RYLZQo=";
inline const std::string new_secrets_key = "u25TfDWmBRE6F7JgAduQqviKxmq/pYFSIJ3EeoqnWAE=";
// The password in the PostgreSQL URLs the tests build ([storage] postgres_url); the test server
// trusts its socket, so it is never checked, only kept out of every message and log.
inline const std::string postgres_password = "pg-pw-Zq81xK-secret";
inline const std::string alpha_oauth_access_token = "oauth-access-alpha-0123456789";
inline const std::string alpha_oauth_refresh_token = "oauth-refresh-alpha-0123456789";

inline const std::string admin_token = "admin-token-0123456789abcdef";

inline const std::vector<std::string>& configured_secrets() {
    static const std::vector<std::string> all = {alpha_secret,
                                                 alpha_old_secret,
                                                 beta_secret,
                                                 platform_secret,
                                                 alpha_token,
                                                 beta_token,
                                                 alpha_stripe_key,
                                                 beta_stripe_key,
                                                 platform_stripe_key,
                                                 smtp_password,
                                                 host_signing_secret,
                                                 secrets_key,
                                                 new_secrets_key,
                                                 postgres_password,
                                                 alpha_oauth_access_token,
                                                 alpha_oauth_refresh_token,
                                                 admin_token};
    return all;
}

#ifdef DUNNING_TEST_LOG_DIR
// Where a test's service writes its log: under the build folder, kept after the test, so the
// SecretsInLogs check can read it. The file is emptied first. A suite's twin on PostgreSQL
// (DUNNING_TEST_POSTGRES) may run beside it: its logs have names of their own.
inline std::string test_log_path(const std::string& name) {
    const std::filesystem::path dir = DUNNING_TEST_LOG_DIR;
    std::filesystem::create_directories(dir);
#ifdef DUNNING_TEST_POSTGRES
    const auto path = dir / (name + "_postgres.log");
#else
    const auto path = dir / (name + ".log");
#endif
    std::filesystem::remove(path);
    return path.string();
}
#endif

} // namespace dunning::testing
