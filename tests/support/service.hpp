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
    c.storage.postgres_url = postgres_cluster().url(folder_database(dir));
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

// Everything the store of `c` holds, as text to search for what must never be stored in the
// clear: the SQLite file and its write-ahead log byte for byte, or on PostgreSQL every row of
// every table (bytes columns in the escape form, which keeps printable ASCII as it is).
inline std::string stored_text(const config::Config& c) {
    std::string out;
#ifdef DUNNING_TEST_POSTGRES
    if (!c.storage.postgres_url.empty()) {
        pqxx::connection conn(c.storage.postgres_url);
        pqxx::read_transaction tx(conn);
        std::map<std::string, std::string> columns; // table -> the select list
        for (const auto& row : tx.exec("SELECT table_name, column_name, data_type FROM "
                                       "information_schema.columns WHERE table_schema = "
                                       "current_schema() ORDER BY table_name, ordinal_position")) {
            const auto name = tx.quote_name(row[1].as<std::string>());
            auto& list = columns[row[0].as<std::string>()];
            list += (list.empty() ? "" : ", ") + (row[2].as<std::string>() == "bytea"
                                                      ? "encode(" + name + ", 'escape')"
                                                      : name + "::text");
        }
        for (const auto& [table, list] : columns)
            for (const auto& row :
                 tx.exec("SELECT concat_ws(' ', " + list + ") FROM " + tx.quote_name(table)))
                out += row[0].c_str() + std::string("\n");
        return out;
    }
#endif
    for (const auto& path : {std::filesystem::path(c.storage.sqlite_path),
                             std::filesystem::path(c.storage.sqlite_path + "-wal")})
        if (std::filesystem::exists(path)) out += read_file(path);
    return out;
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
