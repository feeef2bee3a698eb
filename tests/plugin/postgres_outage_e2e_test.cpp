// The real `dunning serve` on PostgreSQL when the server goes away under it and comes back: the
// test's own PostgreSQL server (tests/support/postgres.hpp; not a binary-wide one, since this test
// stops it) is stopped with a fast shutdown, then started again on the same data directory and
// socket. While it is down, webhooks are answered 503 (Stripe delivers them again) and /healthz
// is not 200; once it is back, the same process, never restarted, answers 200 again, and every
// event it acknowledged is processed exactly once.
#include "support/child_service.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/secrets.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

// A failed payment of its own invoice: each opens a case of its own.
std::string failed_invoice(const std::string& invoice) {
    auto e = fixture("invoice.payment_failed");
    e["data"]["object"]["id"] = invoice;
    return e.dump();
}

std::string event_id(const std::string& body) {
    return json::parse(body)["id"].get<std::string>();
}

// The configuration of one creator, alpha, on the database at `postgres_url`; its emails go to
// the folder's outbox, and it has no Stripe key (nothing here reaches Stripe).
std::string write_config(const std::filesystem::path& dir, const std::string& postgres_url) {
    const auto path = dir / "dunning.toml";
    std::ofstream(path) << "[server]\nlisten = \"127.0.0.1:0\"\n"
                        << "[storage]\npostgres_url = \"" << postgres_url << "\"\n"
                        << "[mail]\noutbox_dir = \"" << (dir / "outbox").string() << "\"\n"
                        << "from = \"Alpha Academy <billing@alpha.example>\"\n"
                        << "[[creators]]\nid = \"alpha\"\nname = \"Alpha Academy\"\n"
                        << "locale = \"en\"\nwebhook_secrets = [\"" << alpha_secret << "\"]\n"
                        << "api_token = \"" << alpha_token << "\"\n"
                        << "[[creators.products]]\nstripe_product = \"prod_course\"\n"
                        << "courses = [\"course-1\"]\n";
    return path.string();
}

// The service as a child process, its log under the build folder (checked for secrets).
class Serve {
  public:
    Serve(const std::string& config, const std::string& log_name)
        : log_(test_log_path(log_name)),
          process_({DUNNING_BINARY, "serve", "--config", config, "--no-backfill"}, log_),
          port_(listening_port(log_)) {}
    bool healthy() const { return wait_healthy(port_); }
    bool alive() { return process_.alive(); }
    int terminate() { return process_.terminate(); }
    std::string log() const {
        std::ifstream in(log_, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    // The status of a signed delivery to alpha's endpoint, -1 without an answer.
    int post(const std::string& body) const {
        httplib::Client cli("127.0.0.1", port_);
        cli.set_read_timeout(60, 0);
        const auto r = post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret);
        return r ? r->status : -1;
    }
    int health() const {
        httplib::Client cli("127.0.0.1", port_);
        cli.set_read_timeout(30, 0);
        const auto r = cli.Get("/healthz");
        return r ? r->status : -1;
    }

  private:
    std::string log_;
    ChildProcess process_;
    int port_;
};

// One number from the database, over a connection of its own (none is kept across the outage).
long long count(const PostgresCluster& cluster, const std::string& database,
                const std::string& sql) {
    pqxx::connection c(cluster.url(database));
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<long long>();
}

std::chrono::steady_clock::time_point minute_from_now() {
    return std::chrono::steady_clock::now() + std::chrono::minutes(1);
}

// Polls (the work loop runs in the background) until `events` events are stored and none is
// pending; false if that does not happen within a minute.
bool all_processed(const PostgresCluster& cluster, const std::string& database, long long events) {
    for (const auto deadline = minute_from_now(); std::chrono::steady_clock::now() < deadline;) {
        if (count(cluster, database, "SELECT count(*) FROM inbox") == events &&
            count(cluster, database, "SELECT count(*) FROM inbox WHERE state = 'pending'") == 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// Polls /healthz until it answers `status`; false if it does not within a minute.
bool wait_for_health(const Serve& s, int status) {
    for (const auto deadline = minute_from_now(); std::chrono::steady_clock::now() < deadline;) {
        if (s.health() == status) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

// Polls the log until it holds `text` `times` times; false if it does not within a minute.
bool wait_for_log(const Serve& s, const std::string& text, std::size_t times = 1) {
    for (const auto deadline = minute_from_now(); std::chrono::steady_clock::now() < deadline;) {
        if (occurrences(s.log(), text) >= times) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// The background loops whose rounds failed: the names their error entries begin with
// ("error work loop: …; retrying every second"), one entry a line.
std::set<std::string> failed_loops(const std::string& log) {
    static const std::regex failed(R"(error ([a-z ]+): [^\n]*?; retrying every )");
    std::set<std::string> names;
    for (std::sregex_iterator it(log.begin(), log.end(), failed), end; it != end; ++it)
        names.insert((*it)[1].str());
    return names;
}

} // namespace

TEST(PostgresOutage, WebhooksAnswered503WhileDownThenProcessedOnceWhenBack) {
    PostgresCluster cluster;
    const auto database = cluster.create_database("outage");
    TempDir dir;
    // With a password (the test server trusts its socket and never asks for it): no error the
    // outage causes may show it.
    Serve s(write_config(dir.path(), cluster.uri(database) + "&password=" + postgres_password),
            "postgres_outage");
    ASSERT_TRUE(s.healthy()) << s.log();

    std::set<std::string> acknowledged; // the events answered 2xx, by id
    const auto deliver = [&](const std::string& body) {
        const int status = s.post(body);
        if (status >= 200 && status < 300) acknowledged.insert(event_id(body));
        return status;
    };

    // Before: taken and processed.
    for (int i = 0; i < 10; ++i)
        ASSERT_EQ(deliver(failed_invoice("in_before_" + std::to_string(i))), 200) << s.log();
    ASSERT_TRUE(all_processed(cluster, database, 10)) << s.log();

    // During: every delivery refused with 503, the service unhealthy but running. The outage
    // lasts until the work loop has failed two rounds: its session lost, then, a round later, a
    // new one refused (an error of its own, so logged as well). It has tried to reconnect while
    // the server was down, and comes back by itself below.
    cluster.stop_keeping_data();
    std::vector<std::string> refused;
    for (int i = 0; i < 5; ++i) {
        refused.push_back(failed_invoice("in_during_" + std::to_string(i)));
        EXPECT_EQ(deliver(refused.back()), 503) << s.log();
    }
    EXPECT_NE(s.health(), 200) << s.log();
    ASSERT_TRUE(wait_for_log(s, "error work loop: ", 2))
        << "the work loop did not fail a second round while PostgreSQL was down:\n"
        << s.log();
    EXPECT_EQ(deliver(refused[0]), 503) << s.log();
    EXPECT_NE(s.health(), 200) << s.log();
    EXPECT_TRUE(s.alive()) << s.log();

    // After: the same server, the same data, on the same socket; the same process recovers by
    // itself (no restart), and the refused deliveries, sent again as Stripe would, are taken.
    cluster.start_again();
    ASSERT_TRUE(wait_for_health(s, 200))
        << "/healthz did not return to 200 after PostgreSQL came back:\n"
        << s.log();
    for (const auto& body : refused)
        EXPECT_EQ(deliver(body), 200) << s.log();
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(deliver(failed_invoice("in_after_" + std::to_string(i))), 200) << s.log();
    ASSERT_TRUE(all_processed(cluster, database, 25)) << s.log();
    EXPECT_TRUE(s.alive()) << s.log();

    // Every acknowledged event stored once, processed (done), tied to its case once; one case
    // per failed invoice.
    ASSERT_EQ(acknowledged.size(), 25u);
    std::set<std::string> stored;
    {
        pqxx::connection c(cluster.url(database));
        pqxx::nontransaction tx(c);
        for (const auto& row : tx.exec("SELECT event_id FROM inbox"))
            stored.insert(row[0].as<std::string>());
    }
    EXPECT_EQ(stored, acknowledged);
    EXPECT_EQ(count(cluster, database, "SELECT count(*) FROM inbox WHERE state = 'done'"), 25);
    EXPECT_EQ(count(cluster, database, "SELECT count(*) FROM case_events"), 25);
    EXPECT_EQ(count(cluster, database, "SELECT count(DISTINCT inbox_id) FROM case_events"), 25);
    EXPECT_EQ(count(cluster, database, "SELECT count(*) FROM cases"), 25);
    EXPECT_EQ(count(cluster, database, "SELECT count(DISTINCT invoice_id) FROM cases"), 25);

    // Every background loop that failed in the outage works again (none died with it).
    const auto loops = failed_loops(s.log());
    EXPECT_TRUE(loops.contains("work loop")) << s.log();
    for (const auto& loop : loops)
        EXPECT_TRUE(wait_for_log(s, "info " + loop + ": working again after "))
            << loop << " did not recover:\n"
            << s.log();

    // The outage said once each way; the password in no line.
    const auto log = s.log();
    EXPECT_EQ(occurrences(log, "the inbox cannot commit"), 1u) << log;
    EXPECT_EQ(occurrences(log, "the inbox takes events again"), 1u) << log;
    EXPECT_EQ(log.find(postgres_password), std::string::npos) << log;
    EXPECT_EQ(s.terminate(), 0) << log;
}
