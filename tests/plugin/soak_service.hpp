#pragma once
// Test support for the crash soak: the real `dunning serve --test-clock` binary as a child
// process, in plugin mode, against two fake Stripe accounts, a real SMTP server and a real
// platform receiver; restarted on the test clock's time after each kill -9. A background client
// keeps posting signed webhooks meanwhile. Compiled with DUNNING_TEST_POSTGRES, its store is the
// folder's database on the binary's PostgreSQL server.
#include "fakes/fake_stripe.hpp"
#include "support/child_service.hpp"
#include "support/host_receiver.hpp"
#include "support/process.hpp"
#include "support/service.hpp"
#include "support/smtp_server.hpp"
#include "support/store_queries.hpp"

#include <atomic>
#include <mutex>
#include <optional>

namespace dunning::testing {

inline const std::string soak_platform_key = "sk_test_platform";
inline const std::string soak_host_secret = "whsec_soak_host";

// "dunning serve" on port 0 with its test clock, restartable at a given clock time.
class SoakService {
  public:
    // The creators alpha (de) and beta (en) are Connect accounts of one platform: one fake
    // Stripe at `stripe_api` serves both, its webhooks going to the platform endpoint.
    SoakService(const std::filesystem::path& dir, const std::string& stripe_api, int smtp_port,
                const std::string& host_url)
        : dir_(dir), log_((dir / "service.log").string()),
          config_((dir / "dunning.toml").string()) {
        std::ofstream(config_)
            << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 8\n"
            // On PostgreSQL the folder's database, with the default lease (five minutes): the
            // instance started after a kill gives back the claims of the killed process at its
            // start.
            << storage_toml(dir)
            << "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:" << smtp_port
            << "\"\nsmtp_allow_plaintext = true\nfrom = \"Billing <billing@soak.example>\"\n"
            << "message_id_domain = \"soak.example\"\n"
            << "[retry]\nmode = \"plugin\"\n"
            << "[stripe]\napi_base = \"" << stripe_api << "\"\nplatform_secret_key = \""
            << soak_platform_key << "\"\nconnect_webhook_secrets = [\"" << platform_secret
            << "\"]\n"
            << "[host]\nwebhook_url = \"" << host_url << "\"\nwebhook_secret = \""
            << soak_host_secret << "\"\n"
            << creator("alpha", "Alpha Academy", "de", alpha_secret, alpha_token, "course-a")
            << creator("beta", "Beta School", "en", beta_secret, beta_token, "course-b");
    }

    // Starts (or restarts) the binary with its test clock at `clock`; false if it does not
    // become healthy.
    bool start(Timestamp clock) {
        const auto from = file_size(log_);
        process_ = std::make_unique<ChildProcess>(
            std::vector<std::string>{DUNNING_BINARY, "serve", "--config", config_, "--test-clock",
                                     "--test-clock-start", std::to_string(to_unix(clock))},
            log_);
        const int p = listening_port(log_, from);
        if (p <= 0) return false;
        httplib::Client cli("127.0.0.1", p);
        for (int i = 0; i < 3000; ++i) {
            if (auto r = cli.Get("/healthz"); r && r->status == 200) {
                port_.store(p);
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    // Reaps a process killed by SIGKILL (sent from another thread or now).
    void reap_killed() {
        port_.store(0);
        if (process_) process_->kill_hard();
    }
    int stop() {
        port_.store(0);
        return process_ ? process_->terminate() : -1;
    }
    int port() const { return port_.load(); }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }
    const std::filesystem::path& dir() const { return dir_; }
    std::string log() const { return read_file(log_); }

    // Another connection to the service's store.
    std::unique_ptr<store::Connection> store() const {
#ifdef DUNNING_TEST_POSTGRES
        store::StoreOptions options;
        options.postgres_url = postgres_cluster().url(folder_database(dir_));
        return store::connect_store(options);
#else
        return connect_to_store((dir_ / "dunning.db").string());
#endif
    }

  private:
    // A Connect creator acct_<id> with one product prod_<id> unlocking one course.
    static std::string creator(const std::string& id, const std::string& name,
                               const std::string& locale, const std::string& secret,
                               const std::string& token, const std::string& course) {
        return "[[creators]]\nid = \"" + id + "\"\nname = \"" + name + "\"\nlocale = \"" + locale +
               "\"\nstripe_account = \"acct_" + id + "\"\nwebhook_secrets = [\"" + secret +
               "\"]\napi_token = \"" + token +
               "\"\n[[creators.products]]\nstripe_product = \"prod_" + id + "\"\ncourses = [\"" +
               course + "\"]\n";
    }

    std::filesystem::path dir_;
    std::string log_;
    std::string config_;
    std::unique_ptr<ChildProcess> process_;
    std::atomic<int> port_{0};
};

} // namespace dunning::testing
