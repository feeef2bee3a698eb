// The end of dunning end to end, under the test clock: the service on loopback, a fake Stripe
// that sends its webhooks signed, the .eml outbox and a real HTTP server standing in for the
// platform. A small claim is written off when the final notice's deadline passes, a large one
// escalates (or, with auto_handover, is marked for handover, which its final notice announced).
#include "fakes/fake_stripe.hpp"
#include "support/files.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const Timestamp start = from_unix(1'800'000'000);                    // Friday 2027-01-15 08:00 UTC
const Timestamp after_dunning = start + std::chrono::days{34} + 12h; // final notice day 20 + 14

class EscalationE2E : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = start;
    HostReceiver host;
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    config::Config cfg;

    void SetUp() override {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha", fakes::WebhookTarget{"", alpha_secret, [this] { return now(); }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.creators[0].stripe_secret_key = "sk_test_alpha";
        cfg.creators[0].products = {{"prod_fake", {"course-101"}}};
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.host.webhook_url = host.url();
        cfg.host.webhook_secret = "whsec_host_test";
    }
    void start_service() {
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    Timestamp now() const { return service ? service->module().clock().now() : clock_now; }
    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get()}, &clock_now);
    }
    void advance_to(Timestamp t, std::chrono::seconds step = 6h) {
        while (now() < t) {
            advance(std::min<std::chrono::seconds>(step, t - now()));
            if (::testing::Test::HasFatalFailure()) return;
        }
    }

    // An invoice of `amount_minor` whose first payment fails now.
    void failing_invoice(const std::string& id, const std::string& customer,
                         std::int64_t amount_minor, const std::string& currency = "eur") {
        fakes::FakeInvoice inv;
        inv.id = id;
        inv.customer = customer;
        inv.subscription = "sub_" + customer;
        inv.customer_email = customer + "@example.org";
        inv.amount_due = amount_minor;
        inv.currency = currency;
        stripe->add_invoice(inv);
        PaymentError e;
        e.code = "card_declined";
        e.decline_code = "insufficient_funds";
        stripe->fail_invoice(id, e);
        advance(0s);
    }

    json get(const std::string& path) {
        auto cli = service->client();
        auto r = get_with_token(cli, path, alpha_token);
        EXPECT_TRUE(r) << path;
        if (!r) return {};
        EXPECT_EQ(r->status, 200) << path << ": " << r->body;
        return json::parse(r->body, nullptr, false);
    }
    json case_of(const std::string& invoice) {
        const auto list = get("/v1/creators/alpha/cases?status=all");
        for (const auto& c : list["data"])
            if (c["invoice"]["id"] == invoice)
                return get("/v1/creators/alpha/cases/" +
                           std::to_string(c["id"].get<std::int64_t>()));
        ADD_FAILURE() << "no case for " << invoice << ": " << list.dump(2);
        return {};
    }
    std::vector<json> notifications_for(const std::string& member) const {
        std::vector<json> out;
        for (const auto& n : host.notifications())
            if (n["member"] == member) out.push_back(n);
        return out;
    }
    // The final notice sent to `customer`, its quoted-printable soft breaks undone.
    std::string final_notice_to(const std::string& customer) const {
        const auto outbox = std::filesystem::path(cfg.mail.outbox_dir);
        if (!std::filesystem::exists(outbox)) return "";
        for (const auto& f : std::filesystem::directory_iterator(outbox)) {
            if (f.path().extension() != ".eml") continue;
            auto text = read_file(f.path());
            if (text.find("final_notice-3@") == std::string::npos ||
                text.find(customer + "@example.org") == std::string::npos)
                continue;
            for (const std::string soft : {"=\r\n", "=\n"})
                for (auto at = text.find(soft); at != std::string::npos; at = text.find(soft))
                    text.erase(at, soft.size());
            return text;
        }
        return "";
    }
};

std::vector<std::string> types_of(const std::vector<json>& notifications) {
    std::vector<std::string> out;
    for (const auto& n : notifications)
        out.push_back(n["type"]);
    return out;
}

TEST_F(EscalationE2E, ASmallClaimIsWrittenOffALargeOneEscalates) {
    start_service();
    failing_invoice("in_small", "cus_small", 4999); // 49.99 EUR: below the default 50.00
    failing_invoice("in_large", "cus_large", 5000); // 50.00 EUR: at it, so not below
    advance_to(after_dunning);

    const auto small = case_of("in_small");
    EXPECT_EQ(small["status"], "written_off") << small.dump(2);
    EXPECT_EQ(small["resolution"], "written_off");
    EXPECT_EQ(small["resolution_reason"], "below_write_off_threshold");
    EXPECT_EQ(small["escalated_at"], nullptr);
    const auto& last_step = small["timeline"].back();
    EXPECT_EQ(last_step["what"], "written_off") << small["timeline"].dump(2);
    EXPECT_EQ(last_step["detail"]["reason"], "below_write_off_threshold");
    EXPECT_EQ(last_step["at"], small["resolved_at"]);

    const auto large = case_of("in_large");
    EXPECT_EQ(large["status"], "escalated") << large.dump(2);
    EXPECT_EQ(large["resolution"], "none");
    EXPECT_EQ(large["resolution_reason"], nullptr);
    EXPECT_EQ(large["handover_pending_at"], nullptr);
    EXPECT_EQ(large["timeline"].back()["what"], "escalated");

    // The platform hears the write-off as the case's resolution, with its reason. Written off as
    // too small to pursue, the claim is still owed: the deadline's lock holds until it is paid.
    const auto to_small = notifications_for("cus_small");
    EXPECT_EQ(types_of(to_small),
              (std::vector<std::string>{"case.opened", "case.resolved", "access.locked"}));
    if (to_small.size() >= 2) {
        const auto& c = to_small[1]["data"]["case"];
        EXPECT_EQ(c["status"], "written_off");
        EXPECT_EQ(c["resolution"], "written_off");
        EXPECT_EQ(c["resolution_reason"], "below_write_off_threshold");
        EXPECT_EQ(c["amount_due"], 4999);
    }
    EXPECT_EQ(types_of(notifications_for("cus_large")),
              (std::vector<std::string>{"case.opened", "case.escalated", "access.locked"}));

    // Without auto_handover no final notice announces a handover; both announce the lock.
    for (const std::string member : {"cus_small", "cus_large"}) {
        const auto notice = final_notice_to(member);
        ASSERT_FALSE(notice.empty()) << member;
        EXPECT_EQ(notice.find("Inkasso"), std::string::npos) << member;
        EXPECT_NE(notice.find("sperren Ihren Zugang"), std::string::npos) << member;
    }
}

TEST_F(EscalationE2E, AutoHandoverMarksTheLargeClaimAndItsFinalNoticeSaysSo) {
    cfg.creators[0].escalation.policy.auto_handover = true;
    cfg.creators[0].escalation.policy.write_off_below_milli = 8'000'000; // 8000 yen
    start_service();
    failing_invoice("in_small", "cus_small", 7999, "jpy");
    failing_invoice("in_large", "cus_large", 8000, "jpy");
    advance_to(after_dunning);

    EXPECT_EQ(case_of("in_small")["status"], "written_off");
    const auto large = case_of("in_large");
    EXPECT_EQ(large["status"], "handover_pending") << large.dump(2);
    EXPECT_EQ(large["handover_pending_at"], large["escalated_at"]);
    EXPECT_EQ(large["timeline"].back()["what"], "handover_pending");
    const auto to_large = notifications_for("cus_large");
    ASSERT_GE(to_large.size(), 2u);
    EXPECT_EQ(to_large[1]["type"], "case.escalated");
    EXPECT_EQ(to_large[1]["data"]["case"]["status"], "handover_pending");

    EXPECT_NE(final_notice_to("cus_large").find("Inkassounternehmen"), std::string::npos);
    const auto small_notice = final_notice_to("cus_small");
    ASSERT_FALSE(small_notice.empty());
    EXPECT_EQ(small_notice.find("Inkasso"), std::string::npos); // it will be written off
}

} // namespace
