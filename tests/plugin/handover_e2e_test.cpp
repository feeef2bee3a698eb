// Handover to a collection agency end to end, under the test clock: the service on loopback, a
// fake Stripe sending signed webhooks, the .eml outbox and a real HTTP server standing in for
// the platform. A claim runs the ladder, escalates, is handed over in a batch, exported (JSON,
// CSV, court dunning data), paid to the agency in part and then in full: the case closes,
// access comes back and the platform hears of it. Returned claims go back to escalated; wrong
// cases are refused with nothing changed.
#include "fakes/fake_stripe.hpp"
#include "support/files.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const Timestamp start = from_unix(1'800'000'000);                    // Friday 2027-01-15 08:00 UTC
const Timestamp after_dunning = start + std::chrono::days{34} + 12h; // final notice day 20 + 14
const Timestamp export_day = from_unix(1'815'292'800);               // 2027-07-11 08:00 UTC
const std::string hostile = "=Evil \"Quote\"; Name";

class HandoverE2E : public ::testing::Test {
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
        auto& alpha = cfg.creators[0];
        alpha.stripe_secret_key = "sk_test_alpha";
        alpha.products = {{"prod_fake", {"course-101"}}};
        alpha.legal_name = "Alpha Academy GmbH";
        alpha.address = "Lernweg 2\n20095 Hamburg";
        alpha.dunning.stages[1].fee_minor = 250;
        alpha.dunning.stages[2].fee_minor = 250;
        alpha.dunning.interest = true;
        const auto rates = dir.path() / "rates.toml";
        std::ofstream(rates) << "[[base_rate]]\nvalid_from = 2027-01-01\npercent = 2.0\n"
                                "[[base_rate]]\nvalid_from = 2027-07-01\npercent = 1.5\n";
        alpha.dunning.base_rates_file = rates.string();
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
    std::int64_t failing_invoice(const std::string& id, const std::string& customer,
                                 std::int64_t amount_minor, const std::string& name) {
        fakes::FakeInvoice inv;
        inv.id = id;
        inv.customer = customer;
        inv.customer_name = name;
        inv.customer_email = customer + "@example.org";
        inv.customer_address = {"Hauptstr. 1", "Hinterhaus", "10115", "Berlin", "", "DE"};
        inv.subscription = "sub_" + customer;
        inv.amount_due = amount_minor;
        stripe->add_invoice(inv);
        PaymentError e;
        e.code = "card_declined";
        e.decline_code = "insufficient_funds";
        stripe->fail_invoice(id, e);
        advance(0s);
        const auto list = get("/v1/creators/alpha/cases?status=all");
        for (const auto& c : list["data"])
            if (c["invoice"]["id"] == id) return c["id"];
        ADD_FAILURE() << "no case for " << id;
        return 0;
    }

    httplib::Result request(const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& token = alpha_token) {
        auto cli = service->client();
        httplib::Headers h{{"Authorization", "Bearer " + token}};
        if (method == "GET") return cli.Get(path.c_str(), h);
        return cli.Post(path.c_str(), h, body, "application/json");
    }
    json get(const std::string& path, int expect = 200) {
        auto r = request("GET", path);
        EXPECT_TRUE(r) << path;
        if (!r) return {};
        EXPECT_EQ(r->status, expect) << path << ": " << r->body;
        return json::parse(r->body, nullptr, false);
    }
    std::string get_csv(const std::string& path) {
        auto r = request("GET", path);
        EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : "");
        if (r) {
            EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv; charset=utf-8");
        }
        return r ? r->body : "";
    }
    json post(const std::string& path, const json& body, int expect,
              const std::string& token = alpha_token) {
        auto r = request("POST", path, body.is_null() ? "" : body.dump(), token);
        EXPECT_TRUE(r) << path;
        if (!r) return {};
        EXPECT_EQ(r->status, expect) << path << ": " << r->body;
        return json::parse(r->body, nullptr, false);
    }
    json case_json(std::int64_t id) {
        return get("/v1/creators/alpha/cases/" + std::to_string(id));
    }
    std::string case_path(std::int64_t id) {
        return "/v1/creators/alpha/cases/" + std::to_string(id);
    }
    std::vector<std::string> notified(const std::string& member) const {
        std::vector<std::string> out;
        for (const auto& n : host.notifications())
            if (n["member"] == member) out.push_back(n["type"]);
        return out;
    }
    std::size_t emails_to(const std::string& customer) const {
        std::size_t n = 0;
        const auto outbox = std::filesystem::path(cfg.mail.outbox_dir);
        if (!std::filesystem::exists(outbox)) return 0;
        for (const auto& f : std::filesystem::directory_iterator(outbox))
            if (read_file(f.path()).find(customer + "@example.org") != std::string::npos) ++n;
        return n;
    }
};

TEST_F(HandoverE2E, AClaimIsHandedOverExportedPaidInPartThenInFullAndClosed) {
    start_service();
    const auto a = failing_invoice("in_a", "cus_a", 9900, hostile);
    advance_to(after_dunning);
    const auto b = failing_invoice("in_b", "cus_b", 3000, "Ben Open"); // still being dunned
    ASSERT_EQ(case_json(a)["status"], "escalated");
    ASSERT_EQ(notified("cus_a").back(), "access.locked");
    const auto sa = std::to_string(a), sb = std::to_string(b);

    // Refused, each with its reason, and nothing changes.
    EXPECT_EQ(post("/v1/creators/alpha/handovers", {{"cases", {a, b}}}, 409)["error"],
              "case " + sb +
                  " is open: only escalated or handover_pending cases can be handed over");
    EXPECT_EQ(post("/v1/creators/alpha/handovers", {{"cases", {a, 9999}}}, 404)["error"],
              "no such case: 9999");
    EXPECT_EQ(post("/v1/creators/beta/handovers", {{"cases", {a}}}, 404, beta_token)["error"],
              "no such case: " + sa); // another creator's case is none of beta's
    post("/v1/creators/alpha/handovers", {{"cases", {a}}}, 403, beta_token);
    EXPECT_EQ(post("/v1/creators/alpha/handovers", {{"cases", "all"}}, 400)["error"],
              "cases must be a list of at most 1000 case ids");
    EXPECT_EQ(case_json(a)["status"], "escalated");
    EXPECT_EQ(get("/v1/creators/alpha/handovers")["data"], json::array());

    // No list: every escalated case of the creator.
    const auto batch = post("/v1/creators/alpha/handovers", {{"agency", "Inkasso Nord"}}, 201);
    EXPECT_EQ(batch["object"], "handover_batch");
    EXPECT_EQ(batch["agency"], "Inkasso Nord");
    EXPECT_EQ(batch["cases"], json::array({a}));
    const auto id = std::to_string(batch["id"].get<std::int64_t>());
    auto handed = case_json(a);
    EXPECT_EQ(handed["status"], "handed_over");
    EXPECT_EQ(handed["collection"]["batch"], id);
    EXPECT_EQ(handed["timeline"].back()["what"], "collection.handed_over");
    EXPECT_EQ(get("/v1/creators/alpha/handovers")["data"], json::array({batch}));
    EXPECT_EQ(post("/v1/creators/alpha/handovers", json(nullptr), 409)["error"],
              "no escalated or handover_pending case to hand over");

    // Dunning stops: months pass without an email to the member.
    const auto emails = emails_to("cus_a");
    EXPECT_EQ(emails, 3u);
    advance_to(export_day, std::chrono::days{7});
    EXPECT_EQ(emails_to("cus_a"), emails);
    EXPECT_EQ(case_json(a)["status"], "handed_over");

    auto message_id = [&](const std::string& what) {
        return "<case-" + sa + "-" + what + "@alpha.example>";
    };
    const json expected = {{"case", a},
                           {"status", "handed_over"},
                           {"creditor",
                            {{"name", "Alpha Academy"},
                             {"legal_name", "Alpha Academy GmbH"},
                             {"address", "Lernweg 2\n20095 Hamburg"}}},
                           {"debtor",
                            {{"id", "cus_a"},
                             {"name", hostile},
                             {"email", "cus_a@example.org"},
                             {"address",
                              {{"line1", "Hauptstr. 1"},
                               {"line2", "Hinterhaus"},
                               {"postal_code", "10115"},
                               {"city", "Berlin"},
                               {"state", nullptr},
                               {"country", "DE"}}}}},
                           {"invoice",
                            {{"id", "in_a"},
                             {"number", "FAKE-0001"},
                             {"date", "2027-01-15"},
                             {"due_date", "2027-01-15"}}},
                           {"contract", {{"subject", "1 × Membership"}, {"date", "2026-12-16"}}},
                           {"currency", "EUR"},
                           {"principal", "99.00"},
                           {"fees", "5.00"},
                           // 2027-01-19..06-30 at 2.0 + 5 = 3.09; 07-01..07-11 at 1.5 + 5 = 0.19
                           {"interest", "3.28"},
                           {"interest_from", "2027-01-19"},
                           {"total", "107.28"},
                           {"collected", "0.00"},
                           {"reminders",
                            {{{"message", "reminder"},
                              {"sent_at", "2027-01-18T08:00:00Z"},
                              {"message_id", message_id("reminder-1")}},
                             {{"message", "formal_reminder"},
                              {"sent_at", "2027-01-25T08:00:00Z"},
                              {"message_id", message_id("formal_reminder-2")}},
                             {{"message", "final_notice"},
                              {"sent_at", "2027-02-04T08:00:00Z"},
                              {"message_id", message_id("final_notice-3")}}}},
                           {"agency_reference", nullptr}};
    const auto exported = get("/v1/creators/alpha/handovers/" + id);
    EXPECT_EQ(exported["as_of"], "2027-07-11");
    ASSERT_EQ(exported["claims"].size(), 1u) << exported.dump(2);
    const auto& row = exported["claims"][0];
    for (const auto& [key, value] : expected.items())
        EXPECT_EQ(row[key], value) << key << ": " << row[key].dump(2);

    const auto csv =
        get_csv("/v1/creators/alpha/handovers/" + id + "?format=csv&delimiter=semicolon");
    const auto line = csv.substr(csv.find("\r\n") + 2);
    EXPECT_EQ(line, sa +
                        ";handed_over;Alpha Academy;Alpha Academy GmbH;\"Lernweg 2\n20095 "
                        "Hamburg\";cus_a;\"'=Evil \"\"Quote\"\"; Name\";Hauptstr. 1;Hinterhaus;"
                        "10115;Berlin;;DE;cus_a@example.org;in_a;FAKE-0001;2027-01-15;"
                        "2027-01-15;EUR;99.00;5.00;3.28;2027-01-19;107.28;0.00;1 × Membership;"
                        "2026-12-16;2027-01-18T08:00:00Z " +
                        message_id("reminder-1") + " | 2027-01-25T08:00:00Z " +
                        message_id("formal_reminder-2") + " | 2027-02-04T08:00:00Z " +
                        message_id("final_notice-3") + ";\r\n");
    EXPECT_TRUE(csv.starts_with("case;status;creditor_name;")) << csv;
    const auto comma = get_csv("/v1/creators/alpha/handovers/" + id + "?format=csv");
    EXPECT_NE(comma.find(",\"'=Evil \"\"Quote\"\"; Name\",Hauptstr. 1,"), std::string::npos);
    get("/v1/creators/alpha/handovers/" + id + "?format=xml", 400);
    get("/v1/creators/alpha/handovers/999", 404);

    // Court dunning data: catalogue number 16, interest split where the base rate changed.
    const auto court = get(case_path(a) + "/court-dunning");
    EXPECT_EQ(court["filed"], false);
    EXPECT_EQ(court["claim_type"],
              (json{{"number", 16}, {"name", "Lehrgangs-/Unterrichtskosten"}}));
    EXPECT_EQ(court["creditor"], expected["creditor"]);
    EXPECT_EQ(court["debtor"], expected["debtor"]);
    EXPECT_EQ(court["principal"], "99.00");
    EXPECT_EQ(court["dunning_costs"], "5.00");
    EXPECT_EQ(court["contract"], expected["contract"]);
    EXPECT_EQ(court["interest"], (json{{"from", "2027-01-19"},
                                       {"rate", "base_rate_plus_points"},
                                       {"points_above_base_rate", 5},
                                       {"business_debtor", false},
                                       {"periods",
                                        {{{"from", "2027-01-19"},
                                          {"to", "2027-06-30"},
                                          {"days", 163},
                                          {"rate_percent", "7.00"},
                                          {"amount", "3.09"}},
                                         {{"from", "2027-07-01"},
                                          {"to", "2027-07-11"},
                                          {"days", 11},
                                          {"rate_percent", "6.50"},
                                          {"amount", "0.19"}}}},
                                       {"amount_to_date", "3.28"}}))
        << court["interest"].dump(2);
    const auto court_csv = get_csv(case_path(a) + "/court-dunning?format=csv");
    EXPECT_NE(court_csv.find(",16,Lehrgangs-/Unterrichtskosten,FAKE-0001,2027-01-15,"),
              std::string::npos)
        << court_csv;
    EXPECT_EQ(get(case_path(b) + "/court-dunning", 409)["error"], // 30.00: written off by now
              "case " + sb +
                  " is written_off: court dunning data only for escalated, handover_pending or "
                  "handed_over claims");

    // The agency collects 40.00 first: the claim is lower everywhere.
    EXPECT_EQ(post(case_path(a) + "/collection",
                   {{"result", "paid"}, {"amount", -1}, {"date", "July"}, {"colour", 1}},
                   400)["error"],
              "unknown field colour; amount must be a positive whole number of minor units, e.g. "
              "4900; date must be YYYY-MM-DD");
    const auto part = post(case_path(a) + "/collection",
                           {{"result", "paid"},
                            {"amount", 4000},
                            {"date", "2027-07-10"},
                            {"reference", "AG-77"},
                            {"note", "first rate"}},
                           200);
    EXPECT_EQ(part["status"], "handed_over");
    EXPECT_EQ(part["open_amount"], 5900);
    const auto items = get("/v1/creators/alpha/open-items?member=cus_a");
    EXPECT_EQ(items["data"][0]["principal"], 5900) << items.dump(2);
    EXPECT_EQ(items["data"][0]["status"], "handed_over");
    const auto lower = get("/v1/creators/alpha/handovers/" + id)["claims"][0];
    EXPECT_EQ(lower["principal"], "59.00");
    EXPECT_EQ(lower["collected"], "40.00");
    EXPECT_EQ(lower["agency_reference"], "AG-77");
    EXPECT_EQ(notified("cus_a").back(), "access.locked");

    // Then the rest: closed as if the member had paid.
    const auto paid = post(case_path(a) + "/collection", {{"result", "paid"}}, 200);
    EXPECT_EQ(paid["status"], "paid");
    EXPECT_EQ(paid["open_amount"], 0);
    advance(0s);
    const auto closed = case_json(a);
    EXPECT_EQ(closed["status"], "paid");
    EXPECT_EQ(closed["collection"]["collected"], 9900);
    EXPECT_EQ(closed["collection"]["agency_reference"], "AG-77");
    std::vector<std::string> steps;
    for (const auto& s : closed["timeline"])
        steps.push_back(s["what"]);
    EXPECT_EQ(steps, (std::vector<std::string>{
                         "opened", "final_notice", "escalated", "collection.handed_over",
                         "collection.partial_payment", "collection.paid", "paid"}))
        << closed["timeline"].dump(2);
    EXPECT_EQ(closed["timeline"][4]["detail"]["amount"], 4000);
    EXPECT_EQ(closed["timeline"][4]["detail"]["reference"], "AG-77");
    const auto access = get("/v1/creators/alpha/access?member=cus_a&course=course-101");
    EXPECT_EQ(access["level"], "granted") << access.dump(2);
    const auto types = notified("cus_a");
    ASSERT_GE(types.size(), 2u);
    EXPECT_EQ((std::set<std::string>{types.end()[-2], types.end()[-1]}),
              (std::set<std::string>{"case.resolved", "access.restored"}))
        << ::testing::PrintToString(types);
    EXPECT_EQ(post(case_path(a) + "/collection", {{"result", "paid"}}, 409)["error"],
              "case " + sa + " is paid: only a handed_over case takes a collection result");
}

TEST_F(HandoverE2E, AReturnedClaimIsEscalatedAgainAndAProductCanFileUnderItsOwnClaimType) {
    cfg.creators[0].products[0].court_claim_type = 28;
    start_service();
    const auto a = failing_invoice("in_a", "cus_a", 9900, "Mia Member");
    advance_to(after_dunning);
    EXPECT_EQ(post(case_path(a) + "/collection", {{"result", "returned"}}, 409)["error"],
              "case " + std::to_string(a) +
                  " is escalated: only a handed_over case takes a collection result");
    post("/v1/creators/alpha/handovers", {{"cases", {a}}}, 201);
    EXPECT_EQ(get(case_path(a) + "/court-dunning")["claim_type"],
              (json{{"number", 28}, {"name", nullptr}}));
    const auto back =
        post(case_path(a) + "/collection",
             {{"result", "returned"}, {"reference", "AG-9"}, {"note", "moved abroad"}}, 200);
    EXPECT_EQ(back["status"], "escalated");
    const auto c = case_json(a);
    EXPECT_EQ(c["collection"]["batch"], nullptr);
    EXPECT_EQ(c["timeline"].back()["what"], "collection.returned");
    EXPECT_EQ(c["timeline"].back()["detail"]["note"], "moved abroad");
    // It can be handed over again, and an agency's "uncollectible" resolves it.
    post("/v1/creators/alpha/handovers", {{"cases", {a}}}, 201);
    EXPECT_EQ(post(case_path(a) + "/collection", {{"result", "uncollectible"}}, 200)["status"],
              "uncollectible");
    EXPECT_EQ(case_json(a)["resolution_reason"], "collection_agency");
    EXPECT_EQ(get("/v1/creators/alpha/handovers")["data"].size(), 2u);
}

} // namespace
