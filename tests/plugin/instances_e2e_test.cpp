// Three `dunning serve` on one PostgreSQL database (tests/support/postgres.hpp) with webhooks
// spread over them, one of them killed with kill -9 mid-run, its deliveries then sent again to
// the others as Stripe would: every acknowledged event stored once and processed once, no email
// twice (but the one that may have been in flight at the kill), and the platform's notifications
// complete and in order per member.
#include "support/child_service.hpp"
#include "support/host_receiver.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/service.hpp"
#include "support/smtp_server.hpp"
#include "support/store_queries.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

const auto* const postgres_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

const std::string host_secret = "whsec_instances_host";

// One instance: its own folder, log and port; the database, mailbox and platform shared.
class Instance {
  public:
    Instance(const std::filesystem::path& dir, const std::string& postgres_url, int smtp_port,
             const std::string& host_url)
        : dir_(dir), log_((dir / "service.log").string()) {
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "dunning.toml")
            << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 4\n"
            << "[storage]\npostgres_url = \"" << postgres_url << "\"\nclaim_lease_seconds = 2\n"
            << "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:" << smtp_port
            << "\"\nsmtp_allow_plaintext = true\nfrom = \"Alpha Academy <billing@alpha.example>\"\n"
            << "message_id_domain = \"instances.example\"\n"
            << "[host]\nwebhook_url = \"" << host_url << "\"\nwebhook_secret = \"" << host_secret
            << "\"\n"
            << "[stripe]\nconnect_webhook_secrets = [\"" << platform_secret << "\"]\n"
            << "[platform]\nadmin_token = \"" << admin_token << "\"\n"
            << "[[creators]]\nid = \"alpha\"\nname = \"Alpha Academy\"\nlocale = \"en\"\n"
            << "webhook_secrets = [\"" << alpha_secret << "\"]\napi_token = \"" << alpha_token
            << "\"\n[[creators.products]]\nstripe_product = \"prod_course\"\n"
            << "courses = [\"course-1\"]\n";
    }
    bool start() {
        process_ = std::make_unique<ChildProcess>(
            std::vector<std::string>{DUNNING_BINARY, "serve", "--config",
                                     (dir_ / "dunning.toml").string(), "--no-backfill"},
            log_);
        port_ = listening_port(log_);
        return wait_healthy(port_);
    }
    void kill_nine() {
        ::kill(process_->pid(), SIGKILL);
        process_->kill_hard(); // reaps it
        port_ = 0;
    }
    int stop() { return port_ ? process_->terminate() : 0; }
    int port() const { return port_; }
    std::string log() const { return read_file(log_); }

  private:
    std::filesystem::path dir_;
    std::string log_;
    std::unique_ptr<ChildProcess> process_;
    int port_ = 0;
};

// An invoice event of member `member`'s invoice (its own customer, email and payment).
json invoice_event(const std::string& type, int member) {
    auto e = fixture(type);
    const auto m = std::to_string(member);
    e["created"] = to_unix(plugin::SystemClock().now());
    auto& o = e["data"]["object"];
    o["id"] = "in_inst_" + m;
    o["customer"] = "cus_inst_" + m;
    o["customer_email"] = "member" + m + "@example.com";
    o["payment_intent"] = "pi_inst_" + m;
    o["charge"] = "ch_inst_" + m;
    for (auto& line : o["lines"]["data"])
        if (line.contains("price") && line["price"].is_object())
            line["price"]["product"] = "prod_course";
    return e;
}

std::string header(const std::string& mime, const std::string& name) {
    const auto at = mime.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const auto from = at + name.size() + 4;
    return mime.substr(from, mime.find("\r\n", from) - from);
}

std::int64_t count(store::Connection& db, const std::string& sql) {
    return query_int(db, sql);
}

} // namespace

TEST(Instances, ThreeOnOneDatabaseOneKilledNothingLostNothingTwice) {
    ScratchDatabase database(postgres_cluster());
    TempDir dir;
    SmtpServer smtp(dir.path() / "mailbox");
    HostReceiver host;
    std::vector<std::unique_ptr<Instance>> instances;
    for (int i = 0; i < 3; ++i) {
        instances.push_back(std::make_unique<Instance>(
            dir.path() / ("instance" + std::to_string(i)), postgres_cluster().uri(database.name()),
            smtp.port(), host.url()));
        ASSERT_TRUE(instances.back()->start()) << instances.back()->log();
    }

    // Each member's payment needs the member's authentication (an email at once, the case
    // opened), later the invoice is paid (a thank-you email, the case resolved). The deliveries
    // go round the instances, and one an instance did not acknowledge goes to the next (Stripe
    // delivers again). The second instance is killed a third into the first round, with work in
    // hand and jobs claimed.
    constexpr int members = 30;
    std::set<std::string> acknowledged;
    std::vector<int> acks_by(3, 0);
    std::size_t next = 0;
    const auto deliver = [&](const json& event) {
        const auto body = event.dump();
        for (int attempt = 0; attempt < 6; ++attempt) {
            const auto which = next++ % 3;
            auto& instance = *instances[which];
            if (instance.port() == 0) continue;
            httplib::Client cli("127.0.0.1", instance.port());
            cli.set_read_timeout(30, 0);
            const auto r = post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret);
            if (r && r->status == 200) {
                acknowledged.insert(event["id"].get<std::string>());
                ++acks_by[which];
                return;
            }
        }
    };

    // The two left finish everything: the inbox, the emails and notifications due now (the
    // killed instance's claims are taken over once their 2 s lease has run out).
    store::StoreOptions options;
    options.postgres_url = database.url();
    const auto db = store::connect_store(options);
    auto& c = *db;
    const auto busy = [&] {
        const auto now = std::to_string(to_unix(plugin::SystemClock().now()) + 1);
        return count(c, "SELECT count(*) FROM inbox WHERE state = 'pending'") +
               count(c, "SELECT count(*) FROM jobs WHERE state = 'pending' AND kind IN "
                        "('email', 'platform_notification') AND (due_at IS NULL OR due_at <= " +
                            now + ")");
    };
    const auto settle = [&] {
        for (int i = 0; i < 1200 && busy() > 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return busy();
    };

    for (int m = 1; m <= members; ++m) {
        if (m == members / 3 + 1) instances[1]->kill_nine();
        deliver(invoice_event("invoice.payment_action_required", m));
    }
    ASSERT_EQ(settle(), 0) << instances[0]->log();
    for (int m = 1; m <= members; ++m)
        deliver(invoice_event("invoice.paid", m));
    ASSERT_EQ(settle(), 0) << instances[0]->log();
    const auto events = static_cast<std::size_t>(2 * members);
    ASSERT_EQ(acknowledged.size(), events);
    for (std::size_t i = 0; i < acks_by.size(); ++i)
        EXPECT_GT(acks_by[i], 0) << "instance " << i << " took no delivery";

    // Every acknowledged event stored once, processed (done), tied to its case once.
    EXPECT_EQ(count(c, "SELECT count(*) FROM inbox"), static_cast<std::int64_t>(events));
    EXPECT_EQ(count(c, "SELECT count(*) FROM inbox WHERE state <> 'done'"), 0);
    EXPECT_EQ(count(c, "SELECT count(*) FROM case_events"), static_cast<std::int64_t>(events));
    EXPECT_EQ(count(c, "SELECT count(*) FROM cases"), members);
    EXPECT_EQ(count(c, "SELECT count(*) FROM jobs WHERE state = 'failed'"), 0);

    // No email twice, but at most the one the killed instance may have had in flight.
    std::map<std::string, int> sent;
    for (const auto& mime : smtp.messages())
        ++sent[header(mime, "Message-ID")];
    int repeats = 0;
    for (const auto& [id, n] : sent)
        repeats += n - 1;
    EXPECT_LE(repeats, 1);
    EXPECT_EQ(sent.size(), static_cast<std::size_t>(2 * members))
        << "each member: the request to authenticate, and the thanks";

    // Per member: opened, then resolved; a repeat only of the newest one (the one in flight at
    // the kill), never an older one after a newer.
    std::map<std::string, std::vector<std::string>> ids, types;
    for (const auto& n : host.notifications()) {
        auto& order = ids[n.value("member", "")];
        const auto id = n.value("id", "");
        const auto at = std::find(order.begin(), order.end(), id);
        if (at == order.end()) {
            order.push_back(id);
            types[n.value("member", "")].push_back(n.value("type", ""));
        } else {
            EXPECT_EQ(at + 1, order.end()) << "an older notification after a newer: " << id;
        }
    }
    ASSERT_EQ(types.size(), static_cast<std::size_t>(members));
    for (const auto& [member, seen] : types)
        EXPECT_EQ(seen, (std::vector<std::string>{"case.opened", "case.resolved"})) << member;

    for (auto& instance : instances)
        EXPECT_EQ(instance->stop(), 0) << instance->log();
}

// A creator made through one instance's admin API is served by the others within a few seconds
// (they compare the store's creators every second): its webhooks and its API token.
TEST(Instances, ACreatorMadeThroughOneIsKnownToTheOthers) {
    ScratchDatabase database(postgres_cluster());
    TempDir dir;
    SmtpServer smtp(dir.path() / "mailbox");
    HostReceiver host;
    Instance maker(dir.path() / "maker", postgres_cluster().uri(database.name()), smtp.port(),
                   host.url());
    Instance other(dir.path() / "other", postgres_cluster().uri(database.name()), smtp.port(),
                   host.url());
    ASSERT_TRUE(maker.start()) << maker.log();
    ASSERT_TRUE(other.start()) << other.log();

    auto event = invoice_event("invoice.payment_failed", 1);
    event["account"] = "acct_gamma";
    const auto deliver = [&] {
        httplib::Client cli("127.0.0.1", other.port());
        const auto r = post_signed(cli, "/webhooks/stripe", event.dump(), platform_secret);
        return r ? r->status : -1;
    };
    EXPECT_EQ(deliver(), 404) << "no creator has acct_gamma yet";

    httplib::Client admin("127.0.0.1", maker.port());
    const httplib::Headers bearer{{"Authorization", "Bearer " + admin_token}};
    const auto made = admin.Post(
        "/v1/creators", bearer,
        R"({"id": "gamma", "name": "Gamma Courses", "locale": "en", "stripe_account": "acct_gamma",
            "products": [{"stripe_product": "prod_course", "courses": ["course-1"]}]})",
        "application/json");
    ASSERT_TRUE(made && made->status == 201) << (made ? made->body : "no answer");
    const auto token = json::parse(made->body).at("api_token").get<std::string>();

    int status = deliver();
    for (int i = 0; i < 200 && status == 404; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = deliver();
    }
    EXPECT_EQ(status, 200) << other.log();
    httplib::Client cli("127.0.0.1", other.port());
    const auto read = get_with_token(cli, "/v1/creators/gamma", token);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->status, 200) << read->body;
    EXPECT_EQ(maker.stop(), 0) << maker.log();
    EXPECT_EQ(other.stop(), 0) << other.log();
}
