#pragma once
// Test support: a temporary directory, Stripe fixtures with fresh ids, signed deliveries, and a
// running Module on a loopback port with a real SQLite file (a real PostgreSQL database when
// compiled with DUNNING_TEST_POSTGRES).
#include "config/config.hpp"
#include "plugin/module.hpp"
#include "tests/support/files.hpp"
#include "tests/support/secrets.hpp"
#include "webhook/signature.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#ifdef DUNNING_TEST_POSTGRES
#include "tests/support/postgres.hpp"
#endif

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace dunning::testing {

#ifdef DUNNING_TEST_POSTGRES
// A suite compiled again with DUNNING_TEST_POSTGRES (CMake: dunning_postgres_twin) runs on
// PostgreSQL: the binary starts one server (tests/support/postgres.hpp), and every store a test
// makes (test_config, TestStore) is a database of its own on it.
inline const auto* const test_store_postgres_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
#endif

class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("dunning-test-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline std::filesystem::path fixtures_dir() {
    return DUNNING_FIXTURES_DIR;
}

// A fixture as JSON with a fresh event id (Stripe's fixtures all share one). Thread-safe: the
// load tests build events on several client threads.
inline nlohmann::json fixture(const std::string& name, const std::string& api = "api-2020-08-27") {
    static std::atomic<int> counter{0};
    auto j = nlohmann::json::parse(read_file(fixtures_dir() / api / (name + ".json")));
    j["id"] =
        "evt_test_" + std::to_string(++counter) + "_" + std::to_string(std::random_device{}());
    return j;
}

// Two creators: alpha (own endpoint, also connected as acct_alpha) and beta (own endpoint).
inline config::Config test_config(const std::filesystem::path& dir) {
    config::Config c;
    c.path = (dir / "test.toml").string();
    c.server.listen = "127.0.0.1:0";
    c.server.host = "127.0.0.1";
    c.server.port = 0;
    c.server.threads = 8;
    c.storage.sqlite_path = (dir / "dunning.db").string();
    c.storage.synchronous = "normal";
#ifdef DUNNING_TEST_POSTGRES
    // A database of the binary's server per folder, as the SQLite file is (a test that starts
    // the service again on the same folder finds its store); the server's folder goes with them.
    static std::map<std::filesystem::path, std::string> databases;
    static std::mutex databases_mutex;
    std::lock_guard lock(databases_mutex);
    auto& name = databases[dir];
    if (name.empty()) name = postgres_cluster().create_database("e2e");
    c.storage.postgres_url = postgres_cluster().url(name);
#endif
    c.mail.outbox_dir = (dir / "outbox").string(); // emails stay in the test's directory
    c.stripe.connect_webhook_secrets = {platform_secret};
    config::CreatorConfig alpha;
    alpha.id = "alpha";
    alpha.name = "Alpha Academy";
    alpha.stripe_account = "acct_alpha";
    alpha.webhook_secrets = {alpha_old_secret, alpha_secret};
    alpha.api_token = alpha_token;
    config::CreatorConfig beta;
    beta.id = "beta";
    beta.name = "Beta School";
    beta.locale = "en";
    beta.webhook_secrets = {beta_secret};
    beta.api_token = beta_token;
    c.creators = {alpha, beta};
    return c;
}

// The Module serving from a thread of its own on the loopback port the kernel gave it
// (`listen = "127.0.0.1:0"`).
class Service {
  public:
    explicit Service(config::Config c, plugin::ModuleOptions o = {})
        : module_(std::make_unique<plugin::Module>(std::move(c), o)),
          thread_([this] { module_->serve(); }) {
        module_->wait_until_listening(std::chrono::seconds(5));
        while (module_->port() == 0)
            std::this_thread::yield();
    }
    ~Service() {
        module_->stop();
        thread_.join();
    }
    plugin::Module& module() { return *module_; }
    int port() const { return module_->port(); }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }
    httplib::Client client() const {
        httplib::Client cli("127.0.0.1", module_->port());
        cli.set_read_timeout(10, 0);
        return cli;
    }
    void drain() { module_->work().drain(); }

  private:
    std::unique_ptr<plugin::Module> module_;
    std::thread thread_;
};

inline httplib::Result post_signed(httplib::Client& cli, const std::string& path,
                                   const std::string& body, const std::string& secret,
                                   Timestamp at = plugin::SystemClock().now()) {
    httplib::Headers h{{"Stripe-Signature", webhook::sign_payload(body, secret, at)}};
    return cli.Post(path.c_str(), h, body, "application/json");
}

inline httplib::Result get_with_token(httplib::Client& cli, const std::string& path,
                                      const std::string& token) {
    return cli.Get(path.c_str(), httplib::Headers{{"Authorization", "Bearer " + token}});
}

} // namespace dunning::testing
