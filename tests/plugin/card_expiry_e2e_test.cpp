// The pre-expiry card reminder end to end, under the test clock, through the .eml outbox: a card
// expiring in two months gets exactly one "card_expiring" email once the 30 days before its
// last valid day begin, a card far from expiry gets none, and a restart keeps "reminded".
#include "fakes/fake_stripe.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class CardExpiry : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp start = from_unix(1'800'000'000); // 2027-01-15 08:00 UTC
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    config::Config cfg;

    std::filesystem::path outbox() const { return dir.path() / "mail"; }

    void boot(Timestamp at) {
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, at});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    void SetUp() override {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha",
            fakes::WebhookTarget{"", alpha_secret, [this] {
                                     return service ? service->module().clock().now() : start;
                                 }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.mail.transport = "outbox";
        cfg.mail.outbox_dir = outbox().string();
        cfg.mail.from = "Alpha Academy <billing@alpha.example>";
        cfg.creators[0].locale = "en";
        cfg.creators[0].reply_to = "support@alpha.example";
        boot(start);
    }
    // A member with a card, whose address only a later paid invoice tells.
    void member(const std::string& customer, const std::string& pm, int month, int year) {
        stripe->attach_payment_method(customer, pm, "visa", month, year);
        fakes::FakeInvoice inv;
        inv.id = "in_" + customer;
        inv.customer = customer;
        inv.customer_email = customer + "@example.org";
        inv.subscription = "sub_" + customer;
        inv.default_payment_method = pm;
        stripe->add_invoice(inv);
        stripe->pay_out_of_band(inv.id);
    }
    void advance(std::chrono::seconds by) { advance_test_clock(*service, by, {stripe.get()}); }
    std::vector<std::string> emails() const {
        std::vector<std::string> out;
        if (!std::filesystem::exists(outbox())) return out;
        for (const auto& f : std::filesystem::directory_iterator(outbox())) {
            if (f.path().extension() == ".eml") out.push_back(read_file(f.path()));
        }
        return out;
    }
};

TEST_F(CardExpiry, OneReminderInTheMonthBeforeTheCardExpiresAndNoneForOtherCards) {
    member("cus_soon", "pm_soon", 3, 2027); // valid through 31 March 2027
    member("cus_far", "pm_far", 12, 2030);
    advance(0s);
    // Day by day up to 28 February: nothing yet.
    const auto march_1 = from_unix(1'803'859'200); // 2027-03-01 00:00 UTC
    while (service->module().clock().now() + 24h < march_1) {
        advance(24h);
        ASSERT_TRUE(emails().empty()) << to_unix(service->module().clock().now());
    }
    advance(24h); // 1 March: the 30 days before 31 March have begun
    auto got = emails();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("03/2027"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("<cus_soon@example.org>"), std::string::npos) << got[0].substr(0, 800);
    EXPECT_NE(got[0].find("Reply-To: support@alpha.example"), std::string::npos);
    EXPECT_NE(got[0].find("Message-ID: <card-alpha-pm_soon-2027-03@alpha.example>"),
              std::string::npos)
        << got[0].substr(0, 800);
    for (int day = 0; day < 45; ++day)
        advance(24h);
    EXPECT_EQ(emails().size(), 1u);
}

TEST_F(CardExpiry, ARestartKeepsTheCardReminded) {
    member("cus_soon", "pm_soon", 3, 2027);
    advance(0s);
    advance(std::chrono::seconds(1'803'859'200 - 1'800'000'000) + 1h); // 1 March 2027
    ASSERT_EQ(emails().size(), 1u);
    const auto now = service->module().clock().now();
    service.reset();
    boot(now);
    for (int day = 0; day < 10; ++day)
        advance(24h);
    EXPECT_EQ(emails().size(), 1u);
}

} // namespace
