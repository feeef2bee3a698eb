// Invoices already past due when a creator connects: listed from the fake Stripe, each opens its
// case once through the inbox, marked as imported.
#include "fakes/fake_stripe.hpp"
#include "jobs/import_past_due.hpp"
#include "jobs/inbox_processor.hpp"
#include "plugin/module.hpp"
#include "store/cases.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;

namespace {

PaymentError declined() {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    return e;
}

TEST(ImportPastDue, OpensACaseForEachPastDueInvoiceOnceMarkedAsImported) {
    TempDir dir;
    const Timestamp now = plugin::SystemClock().now();
    fakes::FakeStripe stripe("sk_test_platform_import",
                             fakes::WebhookTarget{"", alpha_secret, [now] { return now; }});
    auto config = test_config(dir.path());
    config.stripe.platform_secret_key = "sk_test_platform_import";
    config.stripe.api_base = stripe.base_url();
    const std::string account = stripe.connect_account();
    config.creators[0].stripe_account = account;

    auto add = [&](const std::string& id, auto&& change) {
        fakes::FakeInvoice in;
        in.id = id;
        in.account = account;
        change(in);
        stripe.add_invoice(in);
    };
    add("in_failed", [](fakes::FakeInvoice&) {});
    stripe.fail_invoice("in_failed", declined());  // attempt_count 1
    add("in_not_yet", [](fakes::FakeInvoice&) {}); // open, never attempted
    add("in_overdue", [&](fakes::FakeInvoice& in) {
        in.collection_method = "send_invoice";
        in.due_date = now - std::chrono::days{3};
    });
    add("in_due_later", [&](fakes::FakeInvoice& in) {
        in.collection_method = "send_invoice";
        in.due_date = now + std::chrono::days{3};
    });
    add("in_paid", [](fakes::FakeInvoice&) {});
    stripe.pay_out_of_band("in_paid");
    stripe.take_queued(); // their webhooks never reach the module

    auto db = store::open_store({config.storage.sqlite_path, "normal"});
    config::CreatorRegistry creators(config);
    retry::StripeClientOptions options;
    options.api_base = stripe.base_url();
    jobs::StripeGateway gateway(config, creators, options);
    const auto first = jobs::import_past_due(*db, gateway, "alpha", now);
    ASSERT_TRUE(first.ok()) << first.error;
    EXPECT_EQ(first.open, 4);
    EXPECT_EQ(first.past_due, 2);
    EXPECT_EQ(first.inserted, 2);
    ASSERT_FALSE(stripe.requests_to("/v1/invoices").empty());
    EXPECT_EQ(stripe.requests_to("/v1/invoices").back().headers.at("Stripe-Account"), account);

    const plugin::SystemClock clock;
    const jobs::Engine engine(config, creators, clock);
    for (const auto& row : jobs::pending_rows(*db, 100))
        EXPECT_EQ(jobs::process_row(*db, engine, row, 0), jobs::RowOutcome::done);
    const auto cases = store::list_cases(*db, {"alpha"});
    ASSERT_EQ(cases.size(), 2u);
    for (const auto& c : cases) {
        EXPECT_TRUE(c.state.invoice.invoice_id == "in_failed" ||
                    c.state.invoice.invoice_id == "in_overdue")
            << c.state.invoice.invoice_id;
        const auto events = store::case_events(*db, c.id);
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].source, "import");
        EXPECT_EQ(events[0].event_id, "evt_import_" + c.state.invoice.invoice_id);
    }

    const auto rerun = jobs::import_past_due(*db, gateway, "alpha", now);
    EXPECT_EQ(rerun.inserted, 0);
    EXPECT_EQ(rerun.already, 2);
    EXPECT_TRUE(jobs::pending_rows(*db, 100).empty());
    EXPECT_EQ(store::list_cases(*db, {"alpha"}).size(), 2u);
}

TEST(ImportPastDue, StripeErrorIsReportedAndNothingStored) {
    TempDir dir;
    fakes::FakeStripe stripe(
        alpha_stripe_key,
        fakes::WebhookTarget{"", alpha_secret, [] { return plugin::SystemClock().now(); }});
    auto config = test_config(dir.path());
    config.creators[0].stripe_secret_key = alpha_stripe_key;
    auto db = store::open_store({config.storage.sqlite_path, "normal"});
    config::CreatorRegistry creators(config);
    retry::StripeClientOptions options;
    options.api_base = stripe.base_url();
    options.sleep = [](std::chrono::milliseconds) {};
    jobs::StripeGateway gateway(config, creators, options);
    stripe.answer_all_with(503);
    const auto r = jobs::import_past_due(*db, gateway, "alpha", plugin::SystemClock().now());
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("503"), std::string::npos) << r.error;
    EXPECT_TRUE(jobs::pending_rows(*db, 100).empty());
}

TEST(ImportPastDue, CreatingACreatorWithAnAccountImportsUnlessTheRequestSaysNot) {
    TempDir dir;
    fakes::FakeStripe stripe(
        "sk_test_platform_import",
        fakes::WebhookTarget{"", alpha_secret, [] { return plugin::SystemClock().now(); }});
    auto config = test_config(dir.path());
    config.platform.admin_token = "admin-token-0123456789abcdef";
    config.mail.from = "Alpha Academy <billing@alpha.example>";
    config.stripe.platform_secret_key = "sk_test_platform_import";
    config.stripe.api_base = stripe.base_url();
    const std::string gamma = stripe.connect_account();
    const std::string delta = stripe.connect_account();
    for (const auto& [id, account] : {std::pair{"in_gamma", gamma}, std::pair{"in_delta", delta}}) {
        fakes::FakeInvoice in;
        in.id = id;
        in.account = account;
        stripe.add_invoice(in);
        stripe.fail_invoice(id, declined());
    }
    stripe.take_queued();
    Service s(config);
    auto cli = s.client();
    const httplib::Headers admin{{"Authorization", "Bearer admin-token-0123456789abcdef"}};
    const auto create = [&](const std::string& id, const std::string& account, bool import) {
        nlohmann::json body{
            {"id", id}, {"name", id}, {"locale", "en"}, {"stripe_account", account}};
        if (!import) body["import_open_invoices"] = false;
        auto r = cli.Post("/v1/creators", admin, body.dump(), "application/json");
        EXPECT_EQ(r->status, 201) << r->body;
        return nlohmann::json::parse(r->body).value("api_token", "");
    };
    create("delta", delta, false);
    const auto token = create("gamma", gamma, true);
    nlohmann::json cases;
    for (int i = 0; i < 3000; ++i) { // the import runs in the background
        cases = nlohmann::json::parse(
            get_with_token(cli, "/v1/creators/gamma/cases?status=all", token)->body);
        if (!cases["data"].empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(cases["data"].size(), 1u);
    EXPECT_EQ(cases["data"][0]["invoice"]["id"], "in_gamma");
    for (const auto& r : stripe.requests_to("/v1/invoices"))
        EXPECT_NE(r.headers.at("Stripe-Account"), delta) << "delta asked not to import";
}

} // namespace
