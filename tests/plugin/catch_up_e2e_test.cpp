// After downtime, end to end: the service under the test clock against the fake Stripe, with
// the .eml outbox and the platform stand-in. Missed retry slots become one charge and the rest
// keep their spacing; "payment received" and the stage reported follow the emails that went
// out; half-written emails of a killed writer are gone after a start.
#include "core/calendar.hpp"
#include "fakes/fake_stripe.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using fakes::ScriptedPay;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const Timestamp start = from_unix(1'800'000'000); // Friday 2027-01-15 08:00 UTC
const std::string host_secret = "host-secret-for-catch-up-tests";

class CatchUpE2E : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = start;
    HostReceiver host; // declared before the service: outlives it
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    config::Config cfg;

    void boot(const std::function<void(config::Config&)>& adjust = {}) {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha", fakes::WebhookTarget{"", alpha_secret, [this] { return now(); }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.creators[0].stripe_secret_key = "sk_test_alpha";
        cfg.creators[0].retry.mode = config::RetryMode::plugin;
        cfg.creators[0].products = {{"prod_fake", {"course-101"}}};
        cfg.host.webhook_url = host.url();
        cfg.host.webhook_secret = host_secret;
        if (adjust) adjust(cfg);
        start_service();
    }
    void start_service() {
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    // The service is down for `gap`; it starts again with its clock that much later.
    void down_for(std::chrono::seconds gap) {
        service.reset();
        clock_now += gap;
        start_service();
        advance(0s);
    }
    Timestamp now() const { return service ? service->module().clock().now() : clock_now; }

    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get()}, &clock_now);
    }
    // Advances in 6-hour steps for `days`; returns when each new charge was seen.
    std::vector<Timestamp> charges_while_advancing(int days) {
        std::vector<Timestamp> seen;
        for (int i = 0; i < days * 4; ++i) {
            const auto before = pays().size();
            advance(6h);
            for (auto n = before; n < pays().size(); ++n)
                seen.push_back(now());
        }
        return seen;
    }
    std::vector<fakes::RecordedRequest> pays() const {
        return stripe->requests_to("/v1/invoices/in_1/pay");
    }

    void open_case(PaymentError why, PaymentMethodKind method = PaymentMethodKind::card) {
        fakes::FakeInvoice inv;
        inv.id = "in_1";
        inv.method = method;
        inv.customer_email = "member@example.org";
        if (method == PaymentMethodKind::sepa_debit) inv.default_payment_method = "pm_sepa";
        stripe->add_invoice(inv);
        stripe->fail_invoice("in_1", std::move(why));
        advance(0s);
    }
    json the_case() {
        auto cli = service->client();
        return json::parse(get_with_token(cli, "/v1/creators/alpha/cases/1", alpha_token)->body);
    }
    // The .eml files in the outbox whose Message-ID names `message`.
    std::vector<fs::path> emails(const std::string& message) const {
        std::vector<fs::path> out;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir.path() / "outbox", ec))
            if (e.path().filename().string().find("-" + message + "-") != std::string::npos)
                out.push_back(e.path());
        return out;
    }
    std::optional<json> resolved_case() const {
        std::optional<json> found;
        for (const auto& n : host.notifications())
            if (n["type"] == "case.resolved") found = n["data"]["case"];
        return found;
    }
};

PaymentError card_decline(std::string code) {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = std::move(code);
    return e;
}

std::vector<ScriptedPay> declines(int n, const std::string& code = "insufficient_funds") {
    return std::vector<ScriptedPay>(static_cast<std::size_t>(n), ScriptedPay::declined(code));
}

TEST_F(CatchUpE2E, CardThirteenDaysDownAfterTheFirstRetryChargesOnceThenKeepsTheSpacing) {
    boot();
    open_case(card_decline("insufficient_funds"));
    stripe->script_pay("in_1", declines(6));
    advance(24h);
    ASSERT_EQ(pays().size(), 1u);
    down_for(13 * 24h);
    const Timestamp back = now();
    ASSERT_EQ(pays().size(), 2u) << "one catch-up for the slots of days 3, 5, 7, 10 and 14";
    EXPECT_EQ(pays()[1].headers.at("Idempotency-Key"), "dunning-pay-in_1-2");
    advance(0s);
    EXPECT_EQ(pays().size(), 2u);
    const auto later = charges_while_advancing(14);
    const std::vector<Timestamp> expected = {back + 48h, back + 96h, back + 24h * 7,
                                             back + 24h * 11};
    EXPECT_EQ(later, expected) << "the gaps of days 3-5, 5-7, 7-10 and 10-14";
    ASSERT_EQ(pays().size(), 6u);
    EXPECT_EQ(pays()[5].headers.at("Idempotency-Key"), "dunning-pay-in_1-6");
}

TEST_F(CatchUpE2E, SepaThirteenDaysLaterChargesOnceThenOnBusinessDaysAfterTheGap) {
    boot([](config::Config& c) { c.creators[0].retry.policy.sepa_max_retries = 3; });
    PaymentError e;
    e.code = "insufficient_funds";
    open_case(e, PaymentMethodKind::sepa_debit);
    stripe->script_pay("in_1", declines(3));
    const auto first = charges_while_advancing(7); // Tue 19 Jan; its failure is reported 22 Jan
    ASSERT_EQ(first.size(), 1u);
    // Next slot: Mon 1 Feb 06:00 (after the payday of 29 Jan). The clock jumps 13 days past it.
    advance(13 * 24h);
    const Timestamp back = now();
    ASSERT_EQ(pays().size(), 2u) << "one catch-up";
    EXPECT_TRUE(is_target2_business_day(Date{std::chrono::floor<std::chrono::days>(back)}));
    const auto later = charges_while_advancing(30);
    ASSERT_EQ(later.size(), 1u) << "the third retry, not in the same round";
    EXPECT_GE(later[0] - back, 24h * 6) << "three days to the failure, three more as the gap";
    EXPECT_TRUE(is_target2_business_day(Date{std::chrono::floor<std::chrono::days>(later[0])}));
    EXPECT_EQ(pays().size(), 3u);
}

TEST_F(CatchUpE2E, ARetryThatSucceedsBeforeTheFirstReminderThanksNobodyAndReportsStageZero) {
    boot();
    open_case(card_decline("insufficient_funds"));
    stripe->script_pay("in_1",
                       {ScriptedPay::declined("insufficient_funds"), ScriptedPay::success()});
    charges_while_advancing(3); // day 1 declined; day 3 paid in the round the reminder is due
    ASSERT_EQ(pays().size(), 2u);
    charges_while_advancing(10);
    EXPECT_EQ(the_case()["status"], "paid");
    EXPECT_TRUE(emails("reminder").empty());
    EXPECT_TRUE(emails("payment_received").empty())
        << "no \"Zahlung erhalten\" for an unseen reminder";
    EXPECT_EQ(the_case()["stage"], 0);
    const auto resolved = resolved_case();
    ASSERT_TRUE(resolved);
    EXPECT_EQ((*resolved)["stage"], 0) << resolved->dump(2);
}

TEST_F(CatchUpE2E, ACaseThatGotAReminderAndThenPaysGetsTheConfirmation) {
    boot();
    open_case(card_decline("insufficient_funds"));
    stripe->script_pay("in_1",
                       {ScriptedPay::declined("insufficient_funds"),
                        ScriptedPay::declined("insufficient_funds"), ScriptedPay::success()});
    charges_while_advancing(6); // days 1 and 3 declined, the reminder sent on day 3; paid on day 5
    ASSERT_EQ(pays().size(), 3u);
    EXPECT_EQ(the_case()["status"], "paid");
    EXPECT_EQ(emails("reminder").size(), 1u);
    const auto thanks = emails("payment_received");
    ASSERT_EQ(thanks.size(), 1u);
    EXPECT_NE(read_file(thanks[0]).find("Zahlung erhalten"), std::string::npos);
    EXPECT_EQ(the_case()["stage"], 1);
    const auto resolved = resolved_case();
    ASSERT_TRUE(resolved);
    EXPECT_EQ((*resolved)["stage"], 1) << resolved->dump(2);
}

// A writer killed with SIGKILL while an email was half written: a child process creates a temp
// file under the transport's own name pattern (".<name>.eml.tmp-<its pid>-<n>"), writes half an
// email and is killed. The service then starts on that folder.
TEST_F(CatchUpE2E, NoHalfWrittenEmailIsLeftInTheOutboxAfterAStart) {
    const fs::path outbox = dir.path() / "outbox";
    fs::create_directories(outbox);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const std::string name = outbox.string() +
                                 "/.20270115T080000Z-case-1-reminder-1@alpha.example.eml.tmp-" +
                                 std::to_string(::getpid()) + "-0";
        const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
        const char half[] = "From: Alpha Academy <billing@alpha.example>\r\nTo: member@exa";
        if (fd >= 0 && ::write(fd, half, sizeof half - 1) > 0) ::kill(::getpid(), SIGKILL);
        ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer was not killed";
    ASSERT_EQ(std::distance(fs::directory_iterator(outbox), fs::directory_iterator{}), 1);

    boot();
    for (const auto& e : fs::directory_iterator(outbox))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    open_case(card_decline("do_not_honor"));
    stripe->script_pay("in_1", declines(6));
    advance(3 * 24h);
    ASSERT_EQ(emails("reminder").size(), 1u) << "the outbox still writes";
    for (const auto& e : fs::directory_iterator(outbox))
        EXPECT_EQ(e.path().extension(), ".eml") << e.path();
}

} // namespace
