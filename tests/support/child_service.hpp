#pragma once
// Test support: the real `dunning serve` as a child process, configured with every kind of
// secret (tests/support/secrets.hpp), its log under the build folder (test_log_path); its store on
// PostgreSQL (the database of its folder) when compiled with DUNNING_TEST_POSTGRES.
#include "tests/support/process.hpp"
#include "tests/support/secrets.hpp"

#ifdef DUNNING_TEST_POSTGRES
#include "tests/support/postgres.hpp"
#endif

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace dunning::testing {

struct ChildServiceOptions {
    std::string log_name;          // the log file's name under the build folder's test-logs/
    bool test_clock = false;       // serve --test-clock
    std::string stripe_api_base;   // [stripe] api_base; empty: the default
    std::string host_webhook_url;  // [host] webhook_url; empty: none
    std::string extra_toml;        // appended to [storage]
    LogVia log_via = LogVia::file; // LogVia::pipe when the test limits the child's file sizes
    bool backfill = false;         // fetch missed events from Stripe at start (off: --no-backfill)
};

// The [storage] table of a configuration file in `dir`: dunning.db beside it, or on PostgreSQL
// (DUNNING_TEST_POSTGRES) the database of that folder.
inline std::string storage_toml(const std::filesystem::path& dir) {
#ifdef DUNNING_TEST_POSTGRES
    return "[storage]\npostgres_url = \"" + postgres_cluster().uri(folder_database(dir)) + "\"\n";
#else
    (void)dir;
    return "[storage]\nsqlite_path = \"dunning.db\"\nsynchronous = \"normal\"\n";
#endif
}

// alpha (own endpoint, connected as acct_alpha) and beta, as in test_config.
inline std::string write_child_config(const std::filesystem::path& dir,
                                      const ChildServiceOptions& o) {
    const auto path = dir / "dunning.toml";
    std::ofstream out(path);
    out << "[server]\nlisten = \"127.0.0.1:0\"\n"
        << storage_toml(dir) << o.extra_toml << "\n"
        << "[stripe]\nplatform_secret_key = \"" << platform_stripe_key << "\"\n"
        << "connect_webhook_secrets = [\"" << platform_secret << "\"]\n";
    if (!o.stripe_api_base.empty()) out << "api_base = \"" << o.stripe_api_base << "\"\n";
    out << "[mail]\noutbox_dir = \"outbox\"\nfrom = \"Alpha Academy <billing@alpha.example>\"\n"
        << "smtp_username = \"billing\"\nsmtp_password = \"" << smtp_password << "\"\n";
    if (!o.host_webhook_url.empty())
        out << "[host]\nwebhook_url = \"" << o.host_webhook_url << "\"\nwebhook_secret = \""
            << host_signing_secret << "\"\n";
    out << "[[creators]]\nid = \"alpha\"\nname = \"Alpha Academy\"\nlocale = \"en\"\n"
        << "stripe_account = \"acct_alpha\"\n"
        << "webhook_secrets = [\"" << alpha_old_secret << "\", \"" << alpha_secret << "\"]\n"
        << "stripe_secret_key = \"" << alpha_stripe_key << "\"\n"
        << "api_token = \"" << alpha_token << "\"\n"
        << "[[creators.products]]\nstripe_product = \"prod_course\"\ncourses = [\"course-1\"]\n"
        << "[[creators]]\nid = \"beta\"\nname = \"Beta School\"\nlocale = \"en\"\n"
        << "webhook_secrets = [\"" << beta_secret << "\"]\n"
        << "stripe_secret_key = \"" << beta_stripe_key << "\"\n"
        << "api_token = \"" << beta_token << "\"\n"
        << "[[creators.products]]\nstripe_product = \"prod_course\"\ncourses = [\"course-1\"]\n";
    return path.string();
}

inline bool wait_healthy(int port) {
    if (port <= 0) return false;
    httplib::Client cli("127.0.0.1", port);
    for (int i = 0; i < 3000; ++i) {
        if (auto r = cli.Get("/healthz"); r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

class ChildService {
  public:
    ChildService(const std::filesystem::path& dir, const ChildServiceOptions& o)
        : config_(write_child_config(dir, o)), log_(test_log_path(o.log_name)) {
        std::vector<std::string> args{DUNNING_BINARY, "serve", "--config", config_};
        if (o.test_clock) args.push_back("--test-clock");
        if (!o.backfill) args.push_back("--no-backfill");
        process_ = std::make_unique<ChildProcess>(args, log_, o.log_via);
        port_ = listening_port(log_);
        if (!wait_healthy(port_))
            throw std::runtime_error("the service did not start: " + read_log());
    }
    int port() const { return port_; }
    pid_t pid() const { return process_->pid(); }
    bool alive() { return process_->alive(); }
    int terminate() { return process_->terminate(); }
    const std::string& log_path() const { return log_; }
    const std::string& config_path() const { return config_; }
    std::string read_log() const {
        std::ifstream in(log_, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    httplib::Client client(int read_timeout_s = 30) const {
        httplib::Client cli("127.0.0.1", port_);
        cli.set_read_timeout(read_timeout_s, 0);
        return cli;
    }

  private:
    std::string config_;
    std::string log_;
    std::unique_ptr<ChildProcess> process_;
    int port_ = 0;
};

} // namespace dunning::testing
