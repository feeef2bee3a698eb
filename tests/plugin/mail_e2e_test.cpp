// A whole dunning run against a real SMTP server on loopback, under the test clock: the
// emails arrive once each, in order, readable, with umlauts intact, and stop at payment.
#include "fakes/fake_stripe.hpp"
#include "support/service.hpp"
#include "support/smtp_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class Mail : public ::testing::Test {
  protected:
    TempDir dir;
    int port = free_port();
    Timestamp clock_now = from_unix(1'800'000'000);
    std::unique_ptr<SmtpServer> smtp;
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    config::Config cfg;

    void boot(int smtp_port, const std::string& email = "juergen@example.org") {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha",
            fakes::WebhookTarget{"http://127.0.0.1:" + std::to_string(port) + "/webhooks/stripe/alpha",
                                 alpha_secret, [this] { return service ? service->module().clock().now() : clock_now; }});
        cfg = test_config(dir.path());
        cfg.server.port = port;
        cfg.stripe.api_base = stripe->base_url();
        cfg.mail.transport = "smtp";
        cfg.mail.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp_port);
        cfg.mail.smtp_allow_plaintext = true;
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.creators[0].locale = "de";
        cfg.creators[0].reply_to = "support@alpha.example";
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        fakes::FakeInvoice inv;
        inv.id = "in_1";
        inv.customer_name = "Jürgen Müßig";
        inv.customer_email = email;
        stripe->add_invoice(inv);
        PaymentError e;
        e.code = "card_declined";
        e.decline_code = "insufficient_funds";
        stripe->fail_invoice("in_1", e);
        advance(0s);
    }
    void advance(std::chrono::seconds by) {
        stripe->deliver();
        auto cli = service->client();
        auto r = cli.Post("/v1/test-clock/advance", json{{"seconds", by.count()}}.dump(), "application/json");
        ASSERT_EQ(r->status, 200) << r->body;
        stripe->deliver();
        cli.Post("/v1/test-clock/advance", R"({"seconds":0})", "application/json");
    }
    void advance_days(int days) {
        for (int i = 0; i < days * 2; ++i) advance(12h);
    }
    std::vector<std::string> subjects() const {
        std::vector<std::string> out;
        for (const auto& m : smtp->messages()) out.push_back(subject_of(m));
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
    EXPECT_NE(messages[0].find("Message-ID: <case-1-reminder-1@alpha.example>"), std::string::npos) << messages[0].substr(0, 600);
    for (const auto& a : case_actions()) {
        if (a["kind"] == "email") {
            EXPECT_EQ(a["state"], "done") << a.dump();
        }
    }
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

// A socket bound but not listening: connections are refused, and no other test can be handed
// the port until the SMTP server takes it over.
struct ReservedPort {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    ReservedPort() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    void release() { close(fd); }
};

TEST_F(Mail, AnSmtpOutageDelaysMailAndLosesNone) {
    ReservedPort down;
    boot(down.port);
    advance_days(4);
    bool delayed = false;
    for (const auto& a : case_actions())
        if (a["kind"] == "email") delayed |= a["state"] == "pending" && a["tries"].get<int>() > 0;
    EXPECT_TRUE(delayed) << case_actions().dump(2);
    down.release();
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp", std::vector<std::string>{"--port", std::to_string(down.port)});
    advance(2h);
    ASSERT_EQ(subjects().size(), 1u);
    EXPECT_NE(subjects()[0].find("Zahlungserinnerung"), std::string::npos);
}

TEST_F(Mail, ATemporaryRefusalIsRetried) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp", std::vector<std::string>{"--tempfail-data", "2"});
    boot(smtp->port());
    advance_days(3);
    advance(1h);
    advance(2h);
    EXPECT_EQ(subjects().size(), 1u);
}

TEST_F(Mail, AFiveHundredAnswerIsRetriedTwiceBeforeTheEmailFails) {
    smtp = std::make_unique<SmtpServer>(dir.path() / "smtp", std::vector<std::string>{"--permfail-data", "2"});
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
        if (a["kind"] == "email") failed |= a["state"] == "failed" && a["result"].get<std::string>().find("550") != std::string::npos;
    EXPECT_TRUE(failed) << case_actions().dump(2);
}

} // namespace
