// A whole dunning run against a real SMTP server on loopback, under the test clock: the
// emails arrive once each, in order, readable, with umlauts intact, and stop at payment.
#include "fakes/fake_stripe.hpp"
#include "support/service.hpp"
#include "support/smtp_server.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class Mail : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = from_unix(1'800'000'000);
    std::unique_ptr<SmtpServer> smtp;
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<fakes::FakeStripe> beta_stripe; // beta's own account, when a test has one
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override {
        stripe.reset();
        beta_stripe.reset();
    }
    config::Config cfg;

    void boot(int smtp_port, const std::string& email = "juergen@example.org",
              const std::function<void(config::Config&)>& adjust = {}) {
        start(smtp_port, email, adjust);
        PaymentError e;
        e.code = "card_declined";
        e.decline_code = "insufficient_funds";
        stripe->fail_invoice("in_1", e);
        advance(0s);
    }
    // The service and in_1, not yet failed.
    void start(int smtp_port, const std::string& email = "juergen@example.org",
               const std::function<void(config::Config&)>& adjust = {}) {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha",
            fakes::WebhookTarget{"", alpha_secret, [this] {
                                     return service ? service->module().clock().now() : clock_now;
                                 }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.mail.transport = "smtp";
        cfg.mail.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp_port);
        cfg.mail.smtp_allow_plaintext = true;
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.creators[0].locale = "de";
        cfg.creators[0].reply_to = "support@alpha.example";
        if (adjust) adjust(cfg);
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
        fakes::FakeInvoice inv;
        inv.id = "in_1";
        inv.customer_name = "Jürgen Müßig";
        inv.customer_email = email;
        stripe->add_invoice(inv);
    }
    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get(), beta_stripe.get()});
    }
    void advance_days(int days) {
        for (int i = 0; i < days * 2; ++i)
            advance(12h);
    }
    std::vector<std::string> subjects() const {
        std::vector<std::string> out;
        for (const auto& m : smtp->messages())
            out.push_back(subject_of(m));
        return out;
    }
    json case_actions() {
        auto cli = service->client();
        auto r = get_with_token(cli, "/v1/creators/alpha/cases/1", alpha_token);
        return json::parse(r->body)["actions"];
    }
};

TEST_F(Mail, AFullRunDeliversEachStageOnceInOrderAndReadable) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp");
    boot(smtp->port());
    advance_days(40);
    const auto got = subjects();
    ASSERT_EQ(got.size(), 3u) << ::testing::PrintToString(got);
    EXPECT_NE(got[0].find("Zahlungserinnerung"), std::string::npos) << got[0];
    EXPECT_NE(got[1].find("Mahnung"), std::string::npos) << got[1];
    EXPECT_NE(got[2].find("Letzte Mahnung"), std::string::npos) << got[2];
    const auto messages = smtp->messages();
    for (const auto& m : messages) {
        const auto text = text_of(m);
        EXPECT_NE(text.find("Müßig"), std::string::npos) << text;
        EXPECT_NE(text.find("49,00\u00a0€"), std::string::npos) << text;
        EXPECT_NE(text.find("https://invoice.stripe.com/"), std::string::npos) << text;
        EXPECT_NE(m.find("Reply-To: support@alpha.example"), std::string::npos);
    }
    EXPECT_NE(messages[0].find("Message-ID: <case-1-reminder-1@alpha.example>"), std::string::npos)
        << messages[0].substr(0, 600);
    for (const auto& a : case_actions()) {
        if (a["kind"] == "email") {
            EXPECT_EQ(a["state"], "done") << a.dump();
        }
    }
}

// Stripe sends charge.failed before invoice.payment_failed, and only the invoice names the
// member's address: a hard decline's "update your payment method" email, decided as soon as the
// charge's decline code is known, waits for the address instead of being dropped.
TEST_F(Mail, TheUpdatePaymentMethodEmailWaitsForTheMembersAddress) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp");
    start(smtp->port());
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "expired_card";
    stripe->fail_invoice("in_1", e);
    const auto bodies = stripe->take_queued();
    ASSERT_EQ(bodies.size(), 3u);
    auto cli = service->client();
    const auto post = [&](const std::string& body) {
        auto r = post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret);
        ASSERT_TRUE(r && r->status == 200);
    };
    post(bodies[0]); // charge.failed: the case opens, the email is decided, no address yet
    advance(0s);
    EXPECT_TRUE(subjects().empty());
    post(bodies[1]);
    post(bodies[2]); // invoice.payment_failed: the address
    // Decided before the clock moves: the test clock is set before its drain waits for a round
    // the webhooks may have started, which would then see the held email due but not the address.
    advance(0s);
    advance(10min);
    const auto messages = smtp->messages();
    ASSERT_EQ(messages.size(), 1u) << case_actions().dump(2);
    EXPECT_NE(messages[0].find("Message-ID: <case-1-update_payment_method-expired_card#0@"),
              std::string::npos)
        << messages[0].substr(0, 600);
    EXPECT_NE(messages[0].find("juergen@example.org"), std::string::npos);
}

TEST_F(Mail, NothingIsSentAfterThePaymentButTheThankYou) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp");
    boot(smtp->port());
    advance_days(4);
    ASSERT_EQ(subjects().size(), 1u);
    stripe->pay_out_of_band("in_1");
    advance_days(40);
    const auto got = subjects();
    ASSERT_EQ(got.size(), 2u) << ::testing::PrintToString(got);
    EXPECT_EQ(text_of(smtp->messages()[1]).find("Letzte Mahnung"), std::string::npos);
}

// Two creators with interest on, each with its own base-rate table: the emails sent show each
// creator's own rate (a consumer pays the base rate + 5 points).
TEST_F(Mail, EachCreatorChargesInterestAtItsOwnBaseRate) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp");
    const auto zero = dir.path() / "zero.toml";
    const auto twenty = dir.path() / "twenty.toml";
    std::ofstream(zero) << "[[base_rate]]\nvalid_from = 2020-01-01\npercent = 0.0\n";
    std::ofstream(twenty) << "[[base_rate]]\nvalid_from = 2020-01-01\npercent = 20.0\n";
    boot(smtp->port(), "juergen@example.org", [&](config::Config& c) {
        for (auto& creator : c.creators) {
            creator.locale = "en";
            creator.dunning.interest = true;
        }
        c.creators[0].dunning.base_rates_file = zero.string();
        c.creators[1].dunning.base_rates_file = twenty.string();
    });
    beta_stripe = std::make_unique<fakes::FakeStripe>(
        "sk_test_beta",
        fakes::WebhookTarget{"", beta_secret, [this] { return service->module().clock().now(); }});
    beta_stripe->set_webhook_url(service->url("/webhooks/stripe/beta"));
    fakes::FakeInvoice inv;
    inv.id = "in_beta";
    inv.customer = "cus_beta";
    inv.customer_email = "bea@example.org";
    beta_stripe->add_invoice(inv);
    beta_stripe->fail_invoice("in_beta", {"card_declined", "insufficient_funds", "", "", ""});
    advance(0s);
    advance_days(
        11); // the formal reminder (day 10) states interest from the day after the reminder

    std::map<std::string, std::string> formal; // recipient → text of the formal reminder
    for (const auto& m : smtp->messages())
        if (text_of(m).find("Default interest") != std::string::npos)
            formal[m.find("bea@example.org") != std::string::npos ? "beta" : "alpha"] = text_of(m);
    ASSERT_EQ(formal.size(), 2u) << ::testing::PrintToString(subjects());
    EXPECT_NE(formal["alpha"].find("Default interest 5.00 % p.a."), std::string::npos)
        << formal["alpha"];
    EXPECT_NE(formal["beta"].find("Default interest 25.00 % p.a."), std::string::npos)
        << formal["beta"];
}

TEST_F(Mail, AnSmtpOutageDelaysMailAndLosesNone) {
    // The server holds its port but refuses connections until it is brought up.
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp", std::vector<std::string>{"--down"});
    boot(smtp->port());
    advance_days(4);
    bool delayed = false;
    for (const auto& a : case_actions())
        if (a["kind"] == "email") delayed |= a["state"] == "pending" && a["tries"].get<int>() > 0;
    EXPECT_TRUE(delayed) << case_actions().dump(2);
    ASSERT_TRUE(smtp->messages().empty());
    smtp->bring_up();
    advance(2h);
    ASSERT_EQ(subjects().size(), 1u);
    EXPECT_NE(subjects()[0].find("Zahlungserinnerung"), std::string::npos);
}

TEST_F(Mail, ATemporaryRefusalIsRetried) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp",
                                        std::vector<std::string>{"--tempfail-data", "2"});
    boot(smtp->port());
    advance_days(3);
    advance(1h);
    advance(2h);
    EXPECT_EQ(subjects().size(), 1u);
}

TEST_F(Mail, AFiveHundredAnswerIsRetriedTwiceBeforeTheEmailFails) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp",
                                        std::vector<std::string>{"--permfail-data", "2"});
    boot(smtp->port());
    advance_days(3);
    advance(1h);
    advance(2h);
    EXPECT_EQ(subjects().size(), 1u) << case_actions().dump(2);
}

TEST_F(Mail, ARefusedRecipientFailsWithoutBlockingOthers) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp");
    boot(smtp->port(), "reject-me@example.org");
    fakes::FakeInvoice other;
    other.id = "in_2";
    other.customer = "cus_other";
    other.customer_email = "anna@example.org";
    other.customer_name = "Anna";
    stripe->add_invoice(other);
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    stripe->fail_invoice("in_2", e);
    advance(0s);
    advance_days(4);
    advance(1h);
    advance(2h);
    ASSERT_EQ(subjects().size(), 1u);
    EXPECT_NE(smtp->messages()[0].find("anna@example.org"), std::string::npos);
    bool failed = false;
    for (const auto& a : case_actions())
        if (a["kind"] == "email")
            failed |= a["state"] == "failed" &&
                      a["result"].get<std::string>().find("550") != std::string::npos;
    EXPECT_TRUE(failed) << case_actions().dump(2);
}

} // namespace
