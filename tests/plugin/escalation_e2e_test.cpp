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
                         std::int64_t amount_minor, const std::string& currency = "eur",
                         const std::string& name = "Mia Member") {
        fakes::FakeInvoice inv;
        inv.customer_name = name;
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

    json get(const std::string& path, int expect = 200, const std::string& token = alpha_token) {
        auto cli = service->client();
        auto r = get_with_token(cli, path, token);
        EXPECT_TRUE(r) << path;
        if (!r) return {};
        EXPECT_EQ(r->status, expect) << path << ": " << r->body;
        return json::parse(r->body, nullptr, false);
    }
    std::string get_text(const std::string& path) {
        auto cli = service->client();
        auto r = get_with_token(cli, path, alpha_token);
        EXPECT_TRUE(r && r->status == 200) << path;
        if (r) {
            EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv; charset=utf-8");
        }
        return r ? r->body : "";
    }
    // The cases of the open-items list at `query`, in its order.
    std::vector<std::int64_t> listed(const std::string& query) {
        std::vector<std::int64_t> out;
        const auto list = get("/v1/creators/alpha/open-items?" + query);
        for (const auto& row : list["data"])
            out.push_back(row["case"]);
        return out;
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

TEST_F(EscalationE2E, OpenItemsListEachClaimWithItsTotalsFiltersAndCsv) {
    cfg.creators[0].dunning.stages[1].fee_minor = 250; // formal reminder
    cfg.creators[0].dunning.stages[2].fee_minor = 250; // final notice
    start_service();
    const std::string hostile = "=Evil \"Quote\"; Name";
    failing_invoice("in_a", "cus_a", 9900, "eur", hostile); // 2027-01-15
    advance_to(start + std::chrono::days{30});
    failing_invoice("in_b", "cus_b", 3000, "jpy"); // 2027-02-14
    failing_invoice("in_paid", "cus_paid", 7000);
    stripe->pay_out_of_band("in_paid");
    advance_to(start + std::chrono::days{35}); // 2027-02-19: a escalated, b at its reminder
    const auto a = case_of("in_a")["id"].get<std::int64_t>();
    const auto b = case_of("in_b")["id"].get<std::int64_t>();

    const auto list = get("/v1/creators/alpha/open-items");
    EXPECT_EQ(list["object"], "list");
    EXPECT_EQ(list["total_count"], 2) << list.dump(2); // the paid one is no open item
    EXPECT_EQ(list["has_more"], false);
    EXPECT_EQ(list["as_of"], "2027-02-19");
    ASSERT_EQ(list["data"].size(), 2u);
    const json expected_a = {
        {"case", a},
        {"status", "escalated"},
        {"stage", 3},
        {"member", {{"id", "cus_a"}, {"name", hostile}, {"email", "cus_a@example.org"}}},
        {"invoice", {{"id", "in_a"}, {"number", "FAKE-0001"}}},
        {"products", {"prod_fake"}},
        {"payment_method", "card"},
        {"currency", "eur"},
        {"principal", 9900},
        {"fees", 500},
        {"interest", 0},
        {"total", 10400},
        {"arose_on", "2027-01-15"},
        {"age_days", 35},
        {"age_bucket", "31-60"},
        {"limitation_date", "2030-12-31"},
        {"days_to_limitation", 1411},
        {"plan", nullptr}};
    EXPECT_EQ(list["data"][0], expected_a) << list["data"][0].dump(2);
    const auto& row_b = list["data"][1];
    EXPECT_EQ(row_b["case"], b);
    EXPECT_EQ(row_b["status"], "open");
    EXPECT_EQ(row_b["stage"], 1);
    EXPECT_EQ(row_b["member"]["name"], "Mia Member");
    EXPECT_EQ(row_b["currency"], "jpy");
    EXPECT_EQ(row_b["principal"], 3000);
    EXPECT_EQ(row_b["fees"], 0); // the reminder carries no fee
    EXPECT_EQ(row_b["total"], 3000);
    EXPECT_EQ(row_b["arose_on"], "2027-02-14");
    EXPECT_EQ(row_b["age_days"], 5);
    EXPECT_EQ(row_b["age_bucket"], "0-30");
    EXPECT_EQ(row_b["limitation_date"], "2030-12-31");
    EXPECT_EQ(list["totals"],
              (json{{"eur", {{"count", 1}, {"principal", 9900}, {"fees", 500}, {"interest", 0}}},
                    {"jpy", {{"count", 1}, {"principal", 3000}, {"fees", 0}, {"interest", 0}}}}));

    using V = std::vector<std::int64_t>;
    EXPECT_EQ(listed("status=escalated"), V{a});
    EXPECT_EQ(listed("status=open,paused"), V{b});
    EXPECT_EQ(listed("stage=3"), V{a});
    EXPECT_EQ(listed("age=0-30"), V{b});
    EXPECT_EQ(listed("age=31-60"), V{a});
    EXPECT_EQ(listed("age=90%2B"), V{});
    EXPECT_EQ(listed("amount_gte=5000"), V{a});
    EXPECT_EQ(listed("amount_lte=3000"), V{b});
    EXPECT_EQ(listed("payment_method=card"), (V{a, b}));
    EXPECT_EQ(listed("payment_method=sepa_debit"), V{});
    EXPECT_EQ(listed("product=prod_fake"), (V{a, b}));
    EXPECT_EQ(listed("member=cus_b"), V{b});
    EXPECT_EQ(listed("expiring_within_days=1411"), (V{a, b}));
    EXPECT_EQ(listed("expiring_within_days=1410"), V{});
    EXPECT_EQ(listed("sort=-arose_on"), (V{b, a}));
    EXPECT_EQ(listed("sort=amount"), (V{b, a}));
    const auto page = get("/v1/creators/alpha/open-items?sort=-stage&limit=1");
    EXPECT_EQ(page["has_more"], true);
    EXPECT_EQ(page["total_count"], 2);
    EXPECT_EQ(page["data"][0]["case"], a);
    EXPECT_EQ(page["totals"]["jpy"]["count"], 1); // totals are the whole list's
    EXPECT_EQ(listed("sort=-stage&limit=1&offset=1"), V{b});
    EXPECT_EQ(get("/v1/creators/alpha/open-items?age=45", 400)["error"],
              "age must be 0-30, 31-60, 61-90 or 90+");
    EXPECT_EQ(get("/v1/creators/alpha/open-items?sort=name", 400)["error"],
              "sort must be id, arose_on, amount, limitation_date or stage, with a leading - for "
              "descending");
    get("/v1/creators/alpha/open-items", 403, beta_token);
    get("/v1/creators/alpha/open-items", 401, "wrong-token-0123456789");

    const auto csv = get_text("/v1/creators/alpha/open-items?format=csv&delimiter=%3B");
    const std::string header =
        "case;status;stage;member;member_name;member_email;invoice;invoice_number;products;"
        "payment_method;currency;principal;fees;interest;total;arose_on;age_days;age_bucket;"
        "limitation_date;days_to_limitation;plan_subscription;plan_instalments;plan_paid;"
        "plan_open;plan_open_amount\r\n";
    const std::string line_a =
        std::to_string(a) + ";escalated;3;cus_a;\"'=Evil \"\"Quote\"\"; Name\";cus_a@example.org;"
                            "in_a;FAKE-0001;prod_fake;card;eur;99.00;5.00;0.00;104.00;2027-01-15;"
                            "35;31-60;2030-12-31;1411;;;;;\r\n";
    const std::string line_b = std::to_string(b) +
                               ";open;1;cus_b;Mia Member;cus_b@example.org;in_b;FAKE-0002;"
                               "prod_fake;card;jpy;3000;0;0;3000;2027-02-14;5;0-30;2030-12-31;"
                               "1411;;;;;\r\n";
    EXPECT_EQ(csv, header + line_a + line_b);
    const auto comma = get_text("/v1/creators/alpha/open-items?format=csv&member=cus_a");
    EXPECT_NE(comma.find(",\"'=Evil \"\"Quote\"\"; Name\",cus_a@example.org,"), std::string::npos)
        << comma;
}

TEST_F(EscalationE2E, ThePlatformIsWarnedOnceNinetyAndOnceThirtyDaysBeforeLimitation) {
    start_service();
    failing_invoice("in_large", "cus_large", 9900); // arose 2027-01-15: barred after 2030-12-31
    advance_to(after_dunning);
    ASSERT_EQ(case_of("in_large")["status"], "escalated");
    auto warnings = [&] {
        std::vector<json> out;
        for (const auto& n : notifications_for("cus_large"))
            if (n["type"] == "claim.limitation_approaching") out.push_back(n);
        return out;
    };
    const Timestamp warn90 = from_unix(1'917'129'600); // 2030-10-02T00:00:00Z
    const Timestamp warn30 = from_unix(1'922'313'600); // 2030-12-01T00:00:00Z

    advance(warn90 - 1s - now()); // years pass in one step, as after a long stop
    EXPECT_TRUE(warnings().empty());
    advance(1s);
    advance(std::chrono::days{1});
    ASSERT_EQ(warnings().size(), 1u);
    const auto first = warnings()[0];
    EXPECT_EQ(
        first["data"]["limitation"],
        (json{{"arose_on", "2027-01-15"}, {"limitation_date", "2030-12-31"}, {"days_before", 90}}));
    EXPECT_EQ(first["data"]["case"]["status"], "escalated");
    EXPECT_EQ(first["data"]["case"]["invoice"], "in_large");

    advance_to(warn30 - 1s, std::chrono::days{7});
    EXPECT_EQ(warnings().size(), 1u);
    advance_to(warn30 + std::chrono::days{10}, 12h);
    ASSERT_EQ(warnings().size(), 2u);
    EXPECT_EQ(warnings()[1]["data"]["limitation"]["days_before"], 30);
    advance(std::chrono::days{400}); // past the limitation date: nothing more
    EXPECT_EQ(warnings().size(), 2u);
    EXPECT_EQ(listed("expiring_within_days=0"),
              std::vector<std::int64_t>{case_of("in_large")["id"]});
}

// A course paid in four instalments of 150.00: two paid, the third fails. The open-items list
// shows the claim with its plan (JSON and CSV), and the final notice weighs the instalment
// together with the plan's earlier unpaid one.
TEST_F(EscalationE2E, AnInstalmentPlanWithOneFailedInstalmentAppearsAsOnePlan) {
    start_service();
    auto instalment = [&](const std::string& id) {
        fakes::FakeInvoice inv;
        inv.id = id;
        inv.customer = "cus_plan";
        inv.customer_name = "Paul Plan";
        inv.customer_email = "paul@example.org";
        inv.subscription = "sub_course_plan";
        inv.amount_due = 15000;
        inv.subscription_metadata = {{"installments", "4"}};
        stripe->add_invoice(inv);
    };
    instalment("in_plan_1");
    stripe->pay_out_of_band("in_plan_1");
    advance(std::chrono::days{30});
    instalment("in_plan_2");
    stripe->pay_out_of_band("in_plan_2");
    advance(std::chrono::days{30});
    instalment("in_plan_3");
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    stripe->fail_invoice("in_plan_3", e);
    advance(0s);

    const auto list = get("/v1/creators/alpha/open-items?member=cus_plan");
    ASSERT_EQ(list["data"].size(), 1u) << list.dump(2);
    const auto& row = list["data"][0];
    EXPECT_EQ(row["invoice"]["id"], "in_plan_3");
    EXPECT_EQ(row["principal"], 15000);
    EXPECT_EQ(row["plan"], (json{{"subscription", "sub_course_plan"},
                                 {"instalments", 4},
                                 {"paid", 2},
                                 {"open", 1},
                                 {"billed", 3},
                                 {"instalment_amount", 15000},
                                 {"open_amount", 15000},
                                 {"unbilled_amount", 15000},
                                 {"open_cases", {row["case"]}}}));
    const auto csv = get_text("/v1/creators/alpha/open-items?member=cus_plan&format=csv");
    EXPECT_NE(csv.find(",plan_subscription,plan_instalments,plan_paid,plan_open,plan_open_amount"),
              std::string::npos)
        << csv;
    EXPECT_NE(csv.find(",sub_course_plan,4,2,1,150.00\r\n"), std::string::npos) << csv;

    // An ordinary invoice of the same member is no plan.
    failing_invoice("in_single", "cus_plan", 9900);
    const auto both = get("/v1/creators/alpha/open-items?member=cus_plan&sort=id");
    ASSERT_EQ(both["data"].size(), 2u);
    EXPECT_TRUE(both["data"][1]["plan"].is_null());
}

} // namespace
