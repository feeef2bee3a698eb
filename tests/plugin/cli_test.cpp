// The real `dunning` binary: configuration errors, replay, and kill -9 under load.
#include "crypto/crypto.hpp"
#include "store/creators.hpp"
#include "support/process.hpp"
#include "support/service.hpp"
#include "support/store_queries.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

std::string write_config(const std::filesystem::path& dir, int port,
                         const std::string& synchronous = "full",
                         const std::string& host = "127.0.0.1") {
    const auto path = dir / "dunning.toml";
    std::ofstream(path) << "[server]\nlisten = \"" << host << ":" << port << "\"\n"
                        << "[storage]\nsqlite_path = \"dunning.db\"\nsynchronous = \""
                        << synchronous << "\"\n"
                        << "[mail]\nfrom = \"Alpha Academy <billing@alpha.example>\"\n"
                        << "[[creators]]\nid = \"alpha\"\nname = \"Alpha Academy\"\n"
                        << "webhook_secrets = [\"" << alpha_secret << "\"]\n"
                        << "api_token = \"" << alpha_token << "\"\n";
    return path.string();
}

const std::string binary = DUNNING_BINARY;

TEST(Cli, CheckConfigAcceptsAGoodFile) {
    TempDir dir;
    const auto r = run_command(binary + " check-config --config " + write_config(dir.path(), 8080));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("OK"), std::string::npos) << r.output;
}

TEST(Cli, CheckConfigSaysWhatBecomesOfUnpaidClaims) {
    TempDir dir;
    const auto path = write_config(dir.path(), 8080);
    auto r = run_command(binary + " check-config --config " + path);
    EXPECT_NE(r.output.find("alpha: unpaid after dunning: written off below 50.00 (invoice "
                            "currency), the rest escalated for the creator's decision; "),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("; court dunning claim type 16\n"), std::string::npos) << r.output;
    std::ofstream(path, std::ios::app) << "[creators.escalation]\nwrite_off_below = 12.5\n"
                                       << "auto_handover = true\n";
    r = run_command(binary + " check-config --config " + path);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("alpha: unpaid after dunning: written off below 12.50 (invoice "
                            "currency), the rest marked for handover (handover_pending)"),
              std::string::npos)
        << r.output;
}

TEST(Cli, CheckConfigPointsAtTheLine) {
    TempDir dir;
    const auto path = dir.path() / "bad.toml";
    std::ofstream(path) << "[server]\nlisten = \"127.0.0.1:8080\"\n\n[[creators]]\nid = \"alpha\"\n"
                        << "name = \"A\"\nwebhook_secrets = [\"not-a-secret\"]\napi_token = \""
                        << alpha_token << "\"\n";
    const auto r = run_command(binary + " check-config --config " + path.string());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(path.string() + ":7: creators[0].webhook_secrets"), std::string::npos)
        << r.output;
}

TEST(Cli, HelpDescribesEveryCommand) {
    const auto r = run_command(binary + " --help");
    EXPECT_EQ(r.exit_code, 0);
    for (const char* word : {"serve", "check-config", "replay"})
        EXPECT_NE(r.output.find(word), std::string::npos);
    EXPECT_NE(run_command(binary + " serve --help").output.find("--test-clock"), std::string::npos);
    EXPECT_NE(run_command(binary + " nonsense").exit_code, 0);
}

TEST(Cli, ReplayFeedsExportedEventsThroughTheSameProcessing) {
    TempDir dir;
    const auto config = write_config(dir.path(), 8080);
    const auto events = dir.path() / "events.jsonl";
    {
        std::ofstream out(events);
        out << fixture("invoice.payment_failed").dump() << '\n';
        out << json{{"object", "list"},
                    {"data", json::array({fixture("payment_intent.payment_failed"),
                                          fixture("customer.updated")})}}
                   .dump()
            << '\n';
        out << "\n";
    }
    auto r =
        run_command(binary + " replay --config " + config + " --creator alpha " + events.string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("replayed 3 event(s) from 3 line(s): 3 new, 0 already stored, 0 "
                            "rejected; 2 processed, 1 ignored, 0 poison"),
              std::string::npos)
        << r.output;
    r = run_command(binary + " replay --config " + config + " --creator alpha --no-progress " +
                    events.string());
    EXPECT_NE(r.output.find("0 new, 3 already stored"), std::string::npos) << r.output;
    auto db = connect_to_store((dir.path() / "dunning.db").string());
    EXPECT_EQ(query_int(*db, "SELECT count(*) FROM cases WHERE status = 'open'"), 1);

    std::ofstream(events) << "{not json\n" << fixture("invoice.paid").dump() << '\n';
    r = run_command(binary + " replay --config " + config + " --no-progress " + events.string());
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(events.string() + ":1: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(events.string() + ":2: event has no account; pass --creator"),
              std::string::npos)
        << r.output;
}

// The preview reads each creator's interest from the same per-creator tables the service uses.
TEST(Cli, PreviewShowsEachCreatorsOwnBaseRate) {
    TempDir dir;
    std::ofstream(dir.path() / "zero.toml")
        << "[[base_rate]]\nvalid_from = 2020-01-01\npercent = 0.0\n";
    std::ofstream(dir.path() / "twenty.toml")
        << "[[base_rate]]\nvalid_from = 2020-01-01\npercent = 20.0\n";
    const auto path = dir.path() / "dunning.toml";
    std::ofstream(path) << "[mail]\nfrom = \"Billing <billing@example.org>\"\n";
    for (const std::string id : {"alpha", "beta"})
        std::ofstream(path, std::ios::app)
            << "[[creators]]\nid = \"" << id << "\"\nname = \"" << id << "\"\nlocale = \"en\"\n"
            << "webhook_secrets = [\"" << alpha_secret << "\"]\napi_token = \"" << id
            << "-token-0123456789\"\n"
            << "[creators.dunning]\ninterest = true\nbase_rates_file = \""
            << (id == "alpha" ? "zero" : "twenty") << ".toml\"\n";
    const auto preview = [&](const std::string& creator) {
        return run_command(binary + " preview --config " + path.string() + " --creator " + creator +
                           " --stage 2");
    };
    const auto alpha = preview("alpha");
    ASSERT_EQ(alpha.exit_code, 0) << alpha.output;
    EXPECT_NE(alpha.output.find("Default interest 5.00 % p.a."), std::string::npos) << alpha.output;
    const auto beta = preview("beta");
    ASSERT_EQ(beta.exit_code, 0) << beta.output;
    EXPECT_NE(beta.output.find("Default interest 25.00 % p.a."), std::string::npos) << beta.output;
}

TEST(Cli, PreviewKnowsTheCreatorsOfTheAdminApi) {
    TempDir dir;
    const auto path = dir.path() / "dunning.toml";
    std::ofstream(path) << "[storage]\nsqlite_path = \"dunning.db\"\n"
                        << "[mail]\nfrom = \"Billing <billing@example.org>\"\n"
                        << "[[creators]]\nid = \"alpha\"\nname = \"Alpha\"\n"
                        << "webhook_secrets = [\"" << alpha_secret << "\"]\napi_token = \""
                        << alpha_token << "\"\n";
    const auto preview = [&](const std::string& creator) {
        return run_command(binary + " preview --config " + path.string() + " --creator " + creator +
                           " --stage 1");
    };
    EXPECT_EQ(preview("gamma").exit_code, 1); // no store yet
    {
        auto db = store::open_store({(dir.path() / "dunning.db").string(), "normal"});
        const json settings = {{"id", "gamma"},
                               {"name", "Gamma Courses"},
                               {"locale", "en"},
                               {"reply_to", "help@gamma.example"}};
        ASSERT_TRUE(store::insert_creator(*db, {"gamma", "api", settings.dump(), false,
                                                crypto::sha256_hex("gamma-token"), 1, 1}));
    }
    const auto gamma = preview("gamma");
    ASSERT_EQ(gamma.exit_code, 0) << gamma.output;
    EXPECT_NE(gamma.output.find("Reply-To: help@gamma.example"), std::string::npos) << gamma.output;
    EXPECT_NE(gamma.output.find("Gamma Courses"), std::string::npos) << gamma.output;
    const auto unknown = preview("delta");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.output.find("unknown creator \"delta\""), std::string::npos)
        << unknown.output;
}

bool wait_healthy(int port) {
    if (port <= 0) return false;
    httplib::Client cli("127.0.0.1", port);
    for (int i = 0; i < 3000; ++i) {
        if (auto r = cli.Get("/healthz"); r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// Several clients post fresh events; the service is killed with SIGKILL in mid-stream. After a
// restart every event that was answered 200 is stored and is processed.
TEST(Crash, NoAcknowledgedEventIsLostOnKill9) {
    TempDir dir;
    const auto config = write_config(dir.path(), 0);
    const auto log = (dir.path() / "service.log").string();
    auto service = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary, "serve", "--config", config}, log);
    const int port = listening_port(log);
    ASSERT_TRUE(wait_healthy(port)) << read_file(log);

    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            httplib::Client cli("127.0.0.1", port);
            for (int i = 0; i < 5000 && !stop; ++i) {
                auto e = fixture("invoice.payment_failed");
                e["data"]["object"]["id"] =
                    "in_crash_" + std::to_string(t) + "_" + std::to_string(i);
                auto r = post_signed(cli, "/webhooks/stripe/alpha", e.dump(), alpha_secret);
                ++sent;
                if (r && r->status == 200) {
                    std::lock_guard lock(mutex);
                    acknowledged.insert(e["id"].get<std::string>());
                }
            }
        });
    }
    while (sent < 200)
        std::this_thread::yield();
    service->kill_hard();
    stop = true;
    for (auto& c : clients)
        c.join();
    ASSERT_GT(acknowledged.size(), 100u);

    const auto logged = file_size(log);
    service = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary, "serve", "--config", config}, log);
    ASSERT_TRUE(wait_healthy(listening_port(log, logged))) << read_file(log);
    auto db = connect_to_store((dir.path() / "dunning.db").string());
    std::set<std::string> stored;
    for (const auto& row : query_rows(*db, "SELECT event_id FROM inbox"))
        stored.insert(row[0]);
    for (const auto& id : acknowledged)
        ASSERT_TRUE(stored.count(id)) << id << " was acknowledged but lost";

    // The restarted worker finishes what the killed one left. Up to two minutes: under
    // ThreadSanitizer rows take so long that the worker's 2 ms batches hold few rows each, and
    // every batch is a commit with an fsync.
    for (int i = 0;
         i < 12000 && query_int(*db, "SELECT count(*) FROM inbox WHERE state = 'pending'") > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(query_int(*db, "SELECT count(*) FROM inbox WHERE state = 'pending'"), 0);
    EXPECT_EQ(query_int(*db, "SELECT count(*) FROM cases WHERE status = 'open'"),
              static_cast<std::int64_t>(stored.size()));
    EXPECT_EQ(service->terminate(), 0) << read_file(log);
}

// A second service on a port that one already listens on fails at once and says why, instead of
// binding beside it and taking some of its connections. "localhost" names two addresses (::1 and
// 127.0.0.1, where the machine has IPv6): the second service must not take the one the first
// left free.
TEST(Cli, ASecondServiceOnAPortInUseFailsWithTheReason) {
    for (const std::string host : {"127.0.0.1", "localhost"}) {
        SCOPED_TRACE(host);
        TempDir first_dir;
        const auto first_log = (first_dir.path() / "service.log").string();
        ChildProcess first(
            {binary, "serve", "--config", write_config(first_dir.path(), 0, "full", host)},
            first_log);
        const int port = listening_port(first_log);
        ASSERT_GT(port, 0) << read_file(first_log);

        TempDir second_dir;
        const auto listen = host + ":" + std::to_string(port);
        const auto second = run_command("timeout 60 " + binary + " serve --config " +
                                        write_config(second_dir.path(), port, "full", host));
        EXPECT_EQ(second.exit_code, 1) << second.output;
        EXPECT_NE(second.output.find("cannot bind " + listen + ": Address already in use"),
                  std::string::npos)
            << second.output;
        EXPECT_NE(second.output.find("cannot listen on " + listen), std::string::npos)
            << second.output;
        EXPECT_EQ(first.terminate(), 0) << read_file(first_log);
    }
}

} // namespace

// The harness's own guard: a child that does not exit after its signal is not waited for forever.
// Its threads are printed (to stderr) and it is killed, so a hang in a service's shutdown fails
// the test that stopped it and shows where it hung.
TEST(Cli, StoppingAChildThatIgnoresItsSignalKillsItAfterTheDeadline) {
    TempDir dir;
    const auto log = (dir.path() / "child.log").string();
    ChildProcess child({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, log);
    for (int i = 0; i < 500 && file_size(log) == 0; ++i) // the trap is set once it printed
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GT(file_size(log), 0u) << "the child never started";
    const pid_t pid = child.pid();
    ::testing::internal::CaptureStderr();
    const int code = child.stop(SIGTERM, std::chrono::seconds(1));
    const auto report = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(code, -SIGKILL);
    EXPECT_EQ(::kill(pid, 0), -1) << "killed and reaped";
    EXPECT_NE(report.find("still running 1 s after signal 15"), std::string::npos) << report;
    EXPECT_NE(report.find("(sh) waits in "), std::string::npos) << report;
}
