// Nothing missed: events Stripe sent while the service was down come back through the Events
// API, at `serve` start and through `dunning backfill`, and are processed once.
#include "fakes/fake_stripe.hpp"
#include "store/inbox.hpp"
#include "support/child_service.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

PaymentError insufficient_funds() {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    return e;
}

class Backfill : public ::testing::Test {
  protected:
    Backfill()
        : stripe_(alpha_stripe_key, fakes::WebhookTarget{"", alpha_secret, [] {
                                                             return plugin::SystemClock().now();
                                                         }}) {
        options_.stripe_api_base = stripe_.base_url();
    }

    std::unique_ptr<ChildService> start(const std::string& log_name, bool backfill) {
        options_.log_name = log_name;
        options_.backfill = backfill;
        auto s = std::make_unique<ChildService>(dir_.path(), options_);
        stripe_.set_webhook_url("http://127.0.0.1:" + std::to_string(s->port()) +
                                "/webhooks/stripe/alpha");
        return s;
    }

    void fail(const std::string& invoice) {
        fakes::FakeInvoice inv;
        inv.id = invoice;
        stripe_.add_invoice(inv);
        stripe_.fail_invoice(invoice, insufficient_funds());
    }

    // The case of this invoice as the creator API shows it (with its events), or null.
    static json case_of(const ChildService& s, const std::string& invoice) {
        auto cli = s.client();
        const auto list = json::parse(
            get_with_token(cli, "/v1/creators/alpha/cases?status=all", alpha_token)->body);
        for (const auto& c : list["data"])
            if (c["invoice"]["id"] == invoice)
                return json::parse(get_with_token(cli,
                                                  "/v1/creators/alpha/cases/" +
                                                      std::to_string(c["id"].get<long long>()),
                                                  alpha_token)
                                       ->body);
        return nullptr;
    }

    // Polls while the worker takes the rows (no schedule involved) until the case shows at least
    // `events` of them.
    static json wait_for_case(const ChildService& s, const std::string& invoice,
                              std::size_t events = 1) {
        for (int i = 0; i < 3000; ++i) {
            if (auto c = case_of(s, invoice); !c.is_null() && c["events"].size() >= events)
                return c;
            std::this_thread::sleep_for(10ms);
        }
        return nullptr;
    }

    static std::set<std::string> event_ids(const json& the_case) {
        std::set<std::string> ids;
        for (const auto& e : the_case["events"])
            ids.insert(e["id"].get<std::string>());
        return ids;
    }

    std::string cli(const std::string& args) const {
        return std::string(DUNNING_BINARY) + " backfill --config " +
               (dir_.path() / "dunning.toml").string() + " --creator alpha " + args;
    }

    TempDir dir_;
    fakes::FakeStripe stripe_;
    ChildServiceOptions options_;
};

TEST_F(Backfill, EventsSentWhileTheServiceWasDownAreFetchedAtStartAndProcessedOnce) {
    {
        auto s = start("backfill_first", true);
        fail("in_before");
        ASSERT_EQ(stripe_.deliver(), 3u);
        ASSERT_FALSE(wait_for_case(*s, "in_before").is_null()) << s->read_log();
        EXPECT_EQ(s->terminate(), 0);
    }
    fail("in_missed"); // Stripe tries to deliver, the service is down
    EXPECT_EQ(stripe_.deliver(), 0u);
    EXPECT_EQ(stripe_.queued_types().size(), 3u);

    auto s = start("backfill_restart", true);
    // All three fetched events processed, before Stripe's own retries arrive.
    const json missed = wait_for_case(*s, "in_missed", 3);
    ASSERT_FALSE(missed.is_null()) << s->read_log();
    EXPECT_EQ(missed["status"], "open");
    const auto asked = stripe_.requests_to("/v1/events");
    ASSERT_FALSE(asked.empty());
    EXPECT_EQ(asked.back().headers.count("Stripe-Account"), 0u); // alpha's own key
    EXPECT_NE(s->read_log().find("backfill alpha:"), std::string::npos) << s->read_log();

    // Stripe's own retry of the deliveries reaches the service now: duplicates, nothing new.
    const auto before = event_ids(missed);
    EXPECT_EQ(stripe_.deliver(), 3u);
    const json after = case_of(*s, "in_missed");
    EXPECT_EQ(event_ids(after), before);
    EXPECT_EQ(after["events"].size(), before.size());
    EXPECT_EQ(after["invoice"]["attempt_count"], missed["invoice"]["attempt_count"]);
    EXPECT_EQ(s->terminate(), 0) << s->read_log();
}

TEST_F(Backfill, StartSkipsACreatorThatNeverReceivedAnEvent) {
    auto s = start("backfill_new", true);
    fail("in_quiet");
    EXPECT_EQ(s->terminate(), 0);
    EXPECT_TRUE(stripe_.requests_to("/v1/events").empty());
}

TEST_F(Backfill, CommandWithSinceStoresOnceAndARerunAddsNothing) {
    {
        auto s = start("backfill_cli", false);
        EXPECT_EQ(s->terminate(), 0);
    }
    fail("in_cli");
    EXPECT_EQ(stripe_.deliver(), 0u);
    const std::chrono::year_month_day yesterday(
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) -
        std::chrono::days{1});
    char since[16];
    std::snprintf(since, sizeof since, "%04d-%02u-%02u", static_cast<int>(yesterday.year()),
                  static_cast<unsigned>(yesterday.month()), static_cast<unsigned>(yesterday.day()));

    const auto first = run_command(cli(std::string("--since ") + since));
    ASSERT_EQ(first.exit_code, 0) << first.output;
    EXPECT_NE(first.output.find("page 1: 3 event(s) fetched"), std::string::npos) << first.output;
    EXPECT_NE(first.output.find("3 new, 0 already stored"), std::string::npos) << first.output;
    EXPECT_NE(first.output.find("0 poison"), std::string::npos) << first.output;
    const auto asked = stripe_.requests_to("/v1/events");
    ASSERT_EQ(asked.size(), 1u);

    const auto rerun = run_command(cli(std::string("--since ") + since + " --no-progress"));
    ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
    EXPECT_NE(rerun.output.find("0 new, 3 already stored"), std::string::npos) << rerun.output;
    EXPECT_EQ(rerun.output.find("page 1"), std::string::npos) << rerun.output;

    auto s = start("backfill_cli_after", false);
    const json c = case_of(*s, "in_cli");
    ASSERT_FALSE(c.is_null());
    EXPECT_EQ(c["status"], "open");
    EXPECT_EQ(s->terminate(), 0);
}

TEST_F(Backfill, CommandReportsStripesErrorAfterRetriesAndStoresNothing) {
    {
        auto s = start("backfill_cli_error", false);
        EXPECT_EQ(s->terminate(), 0);
    }
    fail("in_outage");
    stripe_.answer_all_with(429);
    const auto r = run_command(cli("--since 2020-01-01"));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("Stripe answered 429"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("nothing was stored"), std::string::npos) << r.output;
    EXPECT_EQ(stripe_.outage_answers(), 5);
    stripe_.answer_all_with(0);
    const auto again = run_command(cli("--since 2020-01-01 --no-progress"));
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("3 new"), std::string::npos) << again.output;

    const auto bad = run_command(cli("--since yesterday"));
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("YYYY-MM-DD"), std::string::npos) << bad.output;
}

// The first fresh delivery after an outage can be stored before the backfill at start reads
// where to start from: it must not hide the events missed before it.
TEST(BackfillAtStart, AFreshDeliveryStoredFirstDoesNotHideTheGap) {
    TempDir dir;
    Timestamp stripe_now = plugin::SystemClock().now() - 2h;
    fakes::FakeStripe stripe(
        alpha_stripe_key,
        fakes::WebhookTarget{"", alpha_secret, [&stripe_now] { return stripe_now; }});
    auto cfg = test_config(dir.path());
    cfg.stripe.api_base = stripe.base_url();
    cfg.creators[0].stripe_account.clear();
    cfg.creators[0].stripe_secret_key = alpha_stripe_key;
    const auto fail = [&stripe](const std::string& invoice) {
        fakes::FakeInvoice inv;
        inv.id = invoice;
        stripe.add_invoice(inv);
        stripe.fail_invoice(invoice, insufficient_funds());
    };
    {
        Service first(cfg);
        stripe.set_webhook_url(first.url("/webhooks/stripe/alpha"));
        fail("in_before");
        ASSERT_EQ(stripe.deliver(), 3u);
    }
    stripe_now += 100s;
    fail("in_missed");
    stripe.take_queued(); // sent while the service was down

    plugin::Module module(cfg, {false, {}, true});
    stripe_now += 1h;
    fail("in_fresh"); // delivered as the service comes up, before the backfill looks
    {
        auto db = store::open_store(module.store_options());
        for (const auto& body : stripe.take_queued()) {
            const auto e = json::parse(body);
            store::insert_inbox_row(*db, {"alpha", e["id"], e["type"], "", "direct", body,
                                          e["created"], plugin::wall_clock_ms()});
        }
    }
    std::thread serving([&module] { module.serve(); });
    EXPECT_TRUE(module.wait_until_listening(5s));
    httplib::Client cli("127.0.0.1", module.port());
    std::string cases;
    for (int i = 0; i < 2000 && cases.find("in_missed") == std::string::npos; ++i) {
        std::this_thread::sleep_for(10ms);
        cases = get_with_token(cli, "/v1/creators/alpha/cases?status=all", alpha_token)->body;
    }
    module.stop();
    serving.join();
    EXPECT_NE(cases.find("in_missed"), std::string::npos) << cases;
    EXPECT_NE(cases.find("in_fresh"), std::string::npos) << cases;
    const auto asked = stripe.requests_to("/v1/events");
    ASSERT_FALSE(asked.empty());
}

} // namespace
