// Promise to pay and objection end to end, under the test clock: the service on loopback, a
// fake Stripe sending signed webhooks, the .eml outbox and a platform receiver. The reminder
// carries the signed link; the page takes one date; dunning waits until then and resumes with
// exactly the next email. An objection stops everything until the creator withdraws it.
#include "fakes/fake_stripe.hpp"
#include "support/files.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const Timestamp start = from_unix(1'800'000'000); // Friday 2027-01-15 08:00 UTC
constexpr auto day = std::chrono::days{1};

class PromiseE2E : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = start;
    HostReceiver host;
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    config::Config cfg;

    void SetUp() override {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha", fakes::WebhookTarget{"", alpha_secret, [this] { return now(); }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.creators[0].stripe_secret_key = "sk_test_alpha";
        cfg.creators[0].products = {{"prod_fake", {"course-101"}}};
        cfg.creators[0].escalation.policy.write_off_below_milli = 0;
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.host.webhook_url = host.url();
        cfg.host.webhook_secret = "whsec_host_test";
        cfg.server.public_url = "https://pay.alpha.example";
        cfg.server.link_secret = "promise-link-secret-0123456789abcdef";
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    Timestamp now() const { return service ? service->module().clock().now() : clock_now; }
    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get()}, &clock_now);
    }
    void advance_to(Timestamp t) {
        while (now() < t) {
            advance(std::min<std::chrono::seconds>(6h, t - now()));
            if (::testing::Test::HasFatalFailure()) return;
        }
    }
    void failing_invoice() {
        fakes::FakeInvoice inv;
        inv.customer_name = "Mia Member";
        inv.id = "in_1";
        inv.customer = "cus_1";
        inv.subscription = "sub_1";
        inv.customer_email = "cus_1@example.org";
        inv.amount_due = 9900;
        inv.currency = "eur";
        stripe->add_invoice(inv);
        PaymentError e;
        e.code = "card_declined";
        e.decline_code = "insufficient_funds";
        stripe->fail_invoice("in_1", e);
        advance(0s);
    }
    json case_json() {
        auto cli = service->client();
        const auto list = json::parse(
            get_with_token(cli, "/v1/creators/alpha/cases?status=all", alpha_token)->body);
        const auto id = list["data"].at(0)["id"].get<std::int64_t>();
        return json::parse(
            get_with_token(cli, "/v1/creators/alpha/cases/" + std::to_string(id), alpha_token)
                ->body);
    }
    httplib::Result command(const std::string& action, const std::string& body = "") {
        auto cli = service->client();
        const auto id = case_json()["id"].get<std::int64_t>();
        return cli.Post(("/v1/creators/alpha/cases/" + std::to_string(id) + "/" + action).c_str(),
                        httplib::Headers{{"Authorization", "Bearer " + alpha_token}}, body,
                        "application/json");
    }
    // The ladder emails in the outbox, by stage, soft line breaks undone.
    std::map<std::string, std::string> ladder_emails() const {
        std::map<std::string, std::string> out;
        const auto outbox = std::filesystem::path(cfg.mail.outbox_dir);
        if (!std::filesystem::exists(outbox)) return out;
        for (const auto& f : std::filesystem::directory_iterator(outbox)) {
            if (f.path().extension() != ".eml") continue;
            auto text = read_file(f.path());
            for (const std::string soft : {"=\r\n", "=\n"})
                for (auto at = text.find(soft); at != std::string::npos; at = text.find(soft))
                    text.erase(at, soft.size());
            for (const std::string stage :
                 {"-reminder-1@", "formal_reminder-2@", "final_notice-3@"})
                if (text.find(stage) != std::string::npos) out[stage] = text;
        }
        return out;
    }
    std::vector<std::string> host_types() const {
        std::vector<std::string> out;
        for (const auto& n : host.notifications())
            if (n["type"].get<std::string>().starts_with("case.")) out.push_back(n["type"]);
        return out;
    }
};

std::string link_path(const std::string& email) {
    std::smatch m;
    const std::regex link(R"(https://pay\.alpha\.example(/promise/[a-z0-9_.-]+))");
    return std::regex_search(email, m, link) ? m[1].str() : "";
}

httplib::Result post_date(httplib::Client& cli, const std::string& path, const std::string& date) {
    return cli.Post(path.c_str(), "date=" + date, "application/x-www-form-urlencoded");
}

TEST_F(PromiseE2E, ThePromiseLinkPausesDunningUntilItsDateThenExactlyTheNextEmail) {
    failing_invoice();
    advance_to(start + 3 * day + 12h); // the reminder went out on day 3: 2027-01-18 20:00
    const auto emails = ladder_emails();
    ASSERT_EQ(emails.size(), 1u);
    const auto path = link_path(emails.begin()->second);
    ASSERT_FALSE(path.empty()) << emails.begin()->second;

    auto cli = service->client();
    auto page = cli.Get(path.c_str());
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page->body.find("<html lang=\"de\""), std::string::npos);
    EXPECT_NE(page->body.find("99,00"), std::string::npos) << page->body;
    EXPECT_NE(page->body.find("max=\"2027-02-01\""), std::string::npos) << "today + 14 days";

    // A tampered link is refused and changes nothing.
    auto tampered = path;
    tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
    EXPECT_EQ(cli.Get(tampered.c_str())->status, 400);
    EXPECT_EQ(post_date(cli, tampered, "2027-01-28")->status, 400);
    // A date beyond promise_max_days, or not a date, is refused.
    EXPECT_EQ(post_date(cli, path, "2027-02-02")->status, 400);
    EXPECT_EQ(post_date(cli, path, "2027-01-18")->status, 400);
    EXPECT_EQ(post_date(cli, path, "28.01.2027")->status, 400);
    EXPECT_EQ(case_json()["promise_to_pay"], nullptr);

    auto made = post_date(cli, path, "2027-01-28");
    ASSERT_TRUE(made);
    EXPECT_EQ(made->status, 200) << made->body;
    advance(0s); // the platform's notifications are delivered
    auto c = case_json();
    EXPECT_EQ(c["status"], "paused");
    EXPECT_EQ(c["promise_to_pay"]["until"], "2027-01-29T00:00:00Z");
    EXPECT_EQ(c["promise_to_pay"]["made_at"], "2027-01-18T20:00:00Z");
    EXPECT_EQ(host_types(), (std::vector<std::string>{"case.opened", "case.promise_to_pay"}));
    auto again = post_date(cli, path, "2027-01-20");
    EXPECT_EQ(again->status, 409);
    EXPECT_EQ(cli.Get(path.c_str())->status, 409);
    EXPECT_EQ(case_json()["promise_to_pay"]["until"], "2027-01-29T00:00:00Z");

    // Day 10 (the formal reminder) passes while promised: nothing goes out.
    const auto until = from_unix(1'801'180'800); // 2027-01-29 00:00 UTC
    advance_to(until - 1h);
    EXPECT_EQ(ladder_emails().size(), 1u);
    // The formal reminder was 6 days 12 hours ahead when the promise was made.
    advance_to(until + 6 * day + 11h);
    EXPECT_EQ(case_json()["status"], "open");
    EXPECT_EQ(ladder_emails().size(), 1u) << "no burst when the promise ends";
    advance_to(until + 6 * day + 13h);
    const auto after = ladder_emails();
    EXPECT_EQ(after.size(), 2u);
    EXPECT_TRUE(after.contains("formal_reminder-2@"));
}

TEST_F(PromiseE2E, AnObjectionStopsEverythingUntilTheCreatorWithdrawsIt) {
    failing_invoice();
    advance_to(start + 4 * day);
    ASSERT_EQ(ladder_emails().size(), 1u);
    const auto path = link_path(ladder_emails().begin()->second);

    EXPECT_EQ(command("objection", "{}")->status, 400) << "a note is required";
    auto r = command("objection", R"({"note":"member says she cancelled","actor":"anna"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    auto c = case_json();
    EXPECT_EQ(c["status"], "objected");
    EXPECT_EQ(c["objection"]["note"], "member says she cancelled");
    EXPECT_EQ(c["timeline"].back()["what"], "objected");
    EXPECT_EQ(c["timeline"].back()["detail"]["actor"], "anna");
    auto cli = service->client();
    EXPECT_EQ(cli.Get(path.c_str())->status, 410) << "no promise while objected";

    advance_to(start + 40 * day); // past every stage and the final notice's deadline
    c = case_json();
    EXPECT_EQ(c["status"], "objected");
    EXPECT_EQ(c["escalated_at"], nullptr);
    EXPECT_EQ(ladder_emails().size(), 1u);

    r = command("withdraw-objection");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    advance(0s);
    EXPECT_EQ(case_json()["status"], "open");
    EXPECT_EQ(host_types(), (std::vector<std::string>{"case.opened", "case.objected",
                                                      "case.objection_withdrawn"}));
    // The formal reminder was 6 days ahead when the objection came.
    advance_to(start + 46 * day - 1h);
    EXPECT_EQ(ladder_emails().size(), 1u) << "no burst on withdrawal";
    advance_to(start + 46 * day + 1h);
    EXPECT_EQ(ladder_emails().size(), 2u);
    EXPECT_TRUE(ladder_emails().contains("formal_reminder-2@"));
}

} // namespace
