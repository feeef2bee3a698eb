// The access controller end to end: the service on loopback with a test clock, a fake Stripe that
// sends its webhooks signed, and a real HTTP server standing in for the host platform, which
// receives the signed access.* and case.* notifications. What a member may use is asked the way
// a host asks it: the access API with the creator's token, or, linked in, Module::access() and
// Module::on_access_change().
#include "fakes/fake_stripe.hpp"
#include "store/case_json.hpp"
#include "support/host_receiver.hpp"
#include "support/service.hpp"
#include "support/store_queries.hpp"
#include "support/test_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace dunning;
using namespace dunning::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const Timestamp start = from_unix(1'800'000'000); // Friday 2027-01-15 08:00 UTC
const std::string host_secret = "whsec_host_test";

PaymentError insufficient_funds() {
    PaymentError e;
    e.code = "card_declined";
    e.decline_code = "insufficient_funds";
    return e;
}

// "2027-02-18T14:00:00Z" → Timestamp (the API's and the notifications' time format).
std::optional<Timestamp> parse_iso(const json& j) {
    if (!j.is_string()) return std::nullopt;
    std::tm tm{};
    if (std::sscanf(j.get<std::string>().c_str(), "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return from_unix(timegm(&tm));
}

class AccessE2E : public ::testing::Test {
  protected:
    TempDir dir;
    Timestamp clock_now = start; // the service's test clock, as last reported
    HostReceiver host;           // declared before the service: outlives it
    std::unique_ptr<fakes::FakeStripe> stripe;
    std::unique_ptr<Service> service;
    // The fakes read the service's clock from their own threads: they stop before it goes.
    void TearDown() override { stripe.reset(); }
    config::Config cfg;

    void SetUp() override { boot(); }

    void boot() {
        stripe = std::make_unique<fakes::FakeStripe>(
            "sk_test_alpha", fakes::WebhookTarget{"", alpha_secret, [this] { return now(); }});
        cfg = test_config(dir.path());
        cfg.stripe.api_base = stripe->base_url();
        cfg.creators[0].stripe_secret_key = "sk_test_alpha";
        cfg.creators[0].products = {{"prod_fake", {"course-101", "course-102"}}};
        // The fake's 49.00 EUR claims escalate here instead of being written off (below the
        // default 50.00): these tests follow escalation, the write-off has tests of its own.
        cfg.creators[0].escalation.policy.write_off_below_milli = 0;
        cfg.host.webhook_url = host.url();
        cfg.host.webhook_secret = host_secret;
        start_service();
    }
    // On a port of the kernel's choice, new at every start: the fake Stripe is told where it is.
    void start_service() {
        service = std::make_unique<Service>(cfg, plugin::ModuleOptions{true, clock_now});
        stripe->set_webhook_url(service->url("/webhooks/stripe/alpha"));
    }
    Timestamp now() const { return service ? service->module().clock().now() : clock_now; }

    // Moves the service's clock; everything due runs before it answers. Webhooks the fake
    // queued are delivered first, as Stripe would have sent them by then.
    void advance(std::chrono::seconds by) {
        advance_test_clock(*service, by, {stripe.get()}, &clock_now);
    }
    // In steps, as time passes for a running service (each step runs what became due).
    void advance_to(Timestamp t, std::chrono::seconds step = 6h) {
        while (now() < t) {
            advance(std::min<std::chrono::seconds>(step, t - now()));
            if (::testing::Test::HasFatalFailure()) return;
        }
    }
    std::int64_t clock_of_service() {
        auto cli = service->client();
        auto r = cli.Get("/v1/test-clock");
        EXPECT_TRUE(r && r->status == 200);
        return r ? json::parse(r->body)["now"].get<std::int64_t>() : 0;
    }

    void add_invoice(const std::string& id, const std::string& customer = "cus_fake",
                     const std::string& subscription = "sub_fake",
                     PaymentMethodKind method = PaymentMethodKind::card) {
        fakes::FakeInvoice inv;
        inv.id = id;
        inv.customer = customer;
        inv.subscription = subscription;
        inv.customer_email = customer + "@example.org";
        inv.method = method;
        if (method == PaymentMethodKind::sepa_debit)
            inv.default_payment_method = "pm_sepa_" + customer;
        stripe->add_invoice(inv);
    }
    // Stripe's own attempt failed: the case opens.
    void fail(const std::string& invoice, PaymentError why = insufficient_funds()) {
        stripe->fail_invoice(invoice, std::move(why));
        advance(0s);
    }

    json get(const std::string& path, const std::string& token = alpha_token, int expect = 200) {
        auto cli = service->client();
        auto r = get_with_token(cli, path, token);
        EXPECT_TRUE(r) << path;
        if (!r) return {};
        EXPECT_EQ(r->status, expect) << path << ": " << r->body;
        return json::parse(r->body, nullptr, false);
    }
    httplib::Result post(const std::string& path, const json& body,
                         const std::string& token = alpha_token) {
        auto cli = service->client();
        return cli.Post(path.c_str(), httplib::Headers{{"Authorization", "Bearer " + token}},
                        body.dump(), "application/json");
    }
    json access(const std::string& member = "cus_fake", const std::string& course = "course-101") {
        return get("/v1/creators/alpha/access?member=" + member + "&course=" + course);
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

    // A webhook of our own making (shapes the fake does not produce), signed with real time as
    // Stripe signs.
    void post_event(const json& event) {
        auto cli = service->client();
        auto r = post_signed(cli, "/webhooks/stripe/alpha", event.dump(), alpha_secret);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
    }

    // The notification types the host received for a member, in arrival order.
    std::vector<std::string> types_for(const std::string& member) const {
        std::vector<std::string> out;
        for (const auto& n : host.notifications())
            if (n["member"] == member) out.push_back(n["type"]);
        return out;
    }
    std::vector<std::string> types() const {
        std::vector<std::string> out;
        for (const auto& n : host.notifications())
            out.push_back(n["type"]);
        return out;
    }
    std::optional<HostRequest> last_of_type(const std::string& type) const {
        std::optional<HostRequest> found;
        for (const auto& r : host.accepted())
            if (r.json()["type"] == type) found = r;
        return found;
    }

    // Fails in_1 and runs the dunning ladder until the final notice's deadline has passed.
    // Returns the announced (and reached) lock time.
    Timestamp reach_lock(const std::string& invoice = "in_1",
                         const std::string& customer = "cus_fake") {
        if (!stripe->invoice(invoice).id.empty() && stripe->invoice(invoice).attempt_count == 0)
            fail(invoice);
        advance_to(start + std::chrono::days{20} + 6h);
        const auto grace = access(customer);
        EXPECT_EQ(grace["level"], "grace") << grace.dump(2);
        const auto lock_at = parse_iso(grace["lock_at"]);
        EXPECT_TRUE(lock_at) << grace.dump(2);
        if (!lock_at) return now();
        advance_to(*lock_at);
        return *lock_at;
    }
};

// ---- 1

TEST_F(AccessE2E, MemberStaysGrantedThroughRemindersThenLockedWithSignedNotification) {
    // Given a member whose membership payment failed
    add_invoice("in_1");
    fail("in_1");

    // Then the member keeps access while the case opens, and the host hears of the case
    auto a = access();
    EXPECT_EQ(a["object"], "access");
    EXPECT_EQ(a["member"], "cus_fake");
    EXPECT_EQ(a["course"], "course-101");
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["reason"], "payment_failed") << a.dump(2);
    EXPECT_EQ(a["blocked"], false);
    EXPECT_EQ(types(), std::vector<std::string>{"case.opened"});

    // When the reminder (day 3) and the formal reminder (day 10) go out, access stays granted
    advance_to(start + std::chrono::days{3} + 6h);
    a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["reason"], "dunning") << a.dump(2);
    advance_to(start + std::chrono::days{10} + 6h);
    a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["reason"], "dunning") << a.dump(2);

    // When the final notice (day 20) announces the lock: grace, with the lock's date
    advance_to(start + std::chrono::days{20} + 6h);
    a = access();
    EXPECT_EQ(a["level"], "grace") << a.dump(2);
    EXPECT_EQ(a["reason"], "final_notice") << a.dump(2);
    EXPECT_EQ(a["blocked"], false);
    const auto lock_at = parse_iso(a["lock_at"]);
    ASSERT_TRUE(lock_at) << a.dump(2);
    EXPECT_GE(*lock_at, start + std::chrono::days{34});
    EXPECT_LE(*lock_at, start + std::chrono::days{34} + 7h);
    EXPECT_EQ(types(), std::vector<std::string>{"case.opened"})
        << "grace still has full access: no access.*";

    // Then up to the deadline nothing is locked…
    advance_to(*lock_at - 1min);
    EXPECT_EQ(access()["level"], "grace");
    // …and once it has passed, the member is locked out and the host is told, signed
    advance(1min);
    a = access();
    EXPECT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "final_notice_deadline_passed") << a.dump(2);
    EXPECT_EQ(a["blocked"], true);
    EXPECT_EQ(parse_iso(a["since"]), *lock_at) << a.dump(2);
    EXPECT_EQ(access("cus_fake", "course-102")["level"], "locked") << "both courses of the product";

    const auto got = host.accepted();
    ASSERT_EQ(types(),
              (std::vector<std::string>{"case.opened", "case.escalated", "access.locked"}));
    std::set<std::string> ids;
    for (const auto& r : got) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.path, HostReceiver::path);
        EXPECT_TRUE(signature_valid(r, host_secret)) << r.header("Dunning-Signature");
        EXPECT_FALSE(signature_valid(r, "whsec_wrong_secret"));
        const auto body = r.json();
        ASSERT_TRUE(body.is_object()) << r.body;
        EXPECT_EQ(body["object"], "event");
        EXPECT_EQ(body["creator"], "alpha");
        EXPECT_EQ(body["member"], "cus_fake");
        EXPECT_TRUE(body["id"].get<std::string>().starts_with("dn_")) << body["id"];
        ids.insert(body["id"]);
        // Signed and stamped by the module's clock (the test clock), not the wall clock
        const auto t = signature_time(r);
        ASSERT_TRUE(t);
        EXPECT_GE(*t, body["created"].get<std::int64_t>());
        EXPECT_LE(*t, to_unix(now()));
        EXPECT_GE(*t, to_unix(start));
    }
    EXPECT_EQ(ids.size(), got.size()) << "ids are unique";
    // A tampered body no longer verifies
    auto tampered = got.back();
    tampered.body.replace(tampered.body.find("locked"), 6, "grantd");
    EXPECT_FALSE(signature_valid(tampered, host_secret));

    const auto opened = got[0].json();
    EXPECT_EQ(opened["data"]["case"]["invoice"], "in_1") << opened.dump(2);
    EXPECT_EQ(opened["data"]["case"]["status"], "open") << opened.dump(2);
    // What the host is told about the claim: the invoice's amount and the products it concerns
    EXPECT_EQ(opened["data"]["case"]["amount_due"], json(4900)) << opened.dump(2);
    EXPECT_EQ(opened["data"]["case"]["currency"], json("eur")) << opened.dump(2);
    EXPECT_EQ(opened["data"]["case"]["products"], json{"prod_fake"}) << opened.dump(2);
    EXPECT_EQ(opened["data"]["case"]["subscription"], json("sub_fake")) << opened.dump(2);
    EXPECT_EQ(got[1].json()["data"]["case"]["status"], "escalated") << got[1].body;

    const auto locked = got[2].json();
    EXPECT_EQ(locked["created"], to_unix(*lock_at));
    EXPECT_EQ(*signature_time(got[2]), to_unix(*lock_at)) << "delivered in the same clock step";
    const auto& acc = locked["data"]["access"];
    EXPECT_EQ(acc["member"], "cus_fake") << acc.dump(2);
    EXPECT_EQ(acc["product"], "prod_fake");
    EXPECT_EQ(acc["courses"], (json{"course-101", "course-102"}));
    EXPECT_EQ(acc["level"], "locked");
    EXPECT_EQ(acc["previous_level"], "grace");
    EXPECT_EQ(acc["reason"], "final_notice_deadline_passed");
    EXPECT_EQ(acc["case"], opened["data"]["case"]["id"]);
    EXPECT_EQ(parse_iso(acc["since"]), *lock_at);

    // The history has every change, oldest first
    const auto history = get("/v1/creators/alpha/access/history?member=cus_fake");
    std::vector<std::string> levels;
    for (const auto& h : history["data"])
        levels.push_back(h["to"]);
    EXPECT_EQ(levels, (std::vector<std::string>{"granted", "granted", "grace", "locked"}))
        << history.dump(2);
}

// ---- 2

TEST_F(AccessE2E, InvoicePaidRestoresAccessWithinTheSameClockStep) {
    // Given a member locked out after the final notice's deadline
    add_invoice("in_1");
    reach_lock();
    ASSERT_EQ(access()["level"], "locked");
    ASSERT_EQ(types().back(), "access.locked");
    const auto clock_before = clock_of_service();

    // When the member pays on the hosted page and Stripe's webhooks arrive (no time passes)
    stripe->pay_out_of_band("in_1");
    advance(0s);

    // Then access is back at once, and the host has been told in the same step
    EXPECT_EQ(clock_of_service(), clock_before) << "the clock did not move";
    const auto a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["blocked"], false);
    EXPECT_EQ(a["reason"], "in_good_standing") << a.dump(2);
    const auto all = types();
    ASSERT_EQ(all.size(), 5u) << ::testing::PrintToString(all);
    const std::set<std::string> last_two{all[3], all[4]};
    EXPECT_EQ(last_two, (std::set<std::string>{"access.restored", "case.resolved"}))
        << ::testing::PrintToString(all);
    const auto restored = last_of_type("access.restored");
    ASSERT_TRUE(restored);
    EXPECT_TRUE(signature_valid(*restored, host_secret));
    EXPECT_EQ(*signature_time(*restored), clock_before);
    const auto acc = restored->json()["data"]["access"];
    EXPECT_EQ(acc["level"], "granted") << acc.dump(2);
    EXPECT_EQ(acc["previous_level"], "locked");
    EXPECT_EQ(acc["courses"], (json{"course-101", "course-102"}));
    const auto resolved = last_of_type("case.resolved");
    ASSERT_TRUE(resolved);
    EXPECT_EQ(resolved->json()["data"]["case"]["status"], "paid") << resolved->body;
}

// ---- 3

TEST_F(AccessE2E, HostDownForADayLosesNothingAndKeepsOrder) {
    // Given two members whose payments failed, each on the way to the lock
    add_invoice("in_1", "cus_fake", "sub_fake");
    add_invoice("in_2", "cus_other", "sub_other");
    fail("in_1");
    fail("in_2");
    advance_to(start + std::chrono::days{33});
    ASSERT_EQ(types_for("cus_fake"), std::vector<std::string>{"case.opened"});
    ASSERT_EQ(types_for("cus_other"), std::vector<std::string>{"case.opened"});

    // When the host goes down before the lock, and stays down for a whole day after it
    host.stop();
    const auto requests_before = host.count();
    advance_to(start + std::chrono::days{35},
               1h); // the lock happens in here; the service does not hang
    EXPECT_EQ(access("cus_fake")["level"], "locked") << "access does not wait for the host";
    EXPECT_EQ(access("cus_other")["level"], "locked");
    for (int i = 0; i < 24; ++i)
        advance(1h);
    EXPECT_EQ(host.count(), requests_before);

    // …and comes back, after which both members pay
    host.start();
    stripe->pay_out_of_band("in_1");
    stripe->pay_out_of_band("in_2");
    for (int i = 0; i < 24; ++i)
        advance(5min);
    EXPECT_EQ(access("cus_fake")["level"], "granted");
    EXPECT_EQ(access("cus_other")["level"], "granted");

    // Then the host has every notification the module created, for each member in the order
    // they were created (duplicates allowed, gaps not)
    struct Row {
        std::string id, member, type, state;
    };
    const auto rows = service->module().api_db().use([](store::Connection& db) {
        std::vector<Row> out;
        for (const auto& r : query_rows(db, "SELECT idempotency_key, payload, state FROM jobs "
                                            "WHERE kind = 'platform_notification' ORDER BY id")) {
            const auto payload = json::parse(r[1]);
            out.push_back({r[0], payload.value("member", ""), payload.value("type", ""), r[2]});
        }
        return out;
    });
    for (const std::string member : {"cus_fake", "cus_other"}) {
        SCOPED_TRACE(member);
        std::vector<std::string> created_ids, created_types;
        for (const auto& r : rows)
            if (r.member == member) {
                created_ids.push_back(r.id);
                created_types.push_back(r.type);
                EXPECT_EQ(r.state, "done") << r.id << " " << r.type;
            }
        std::vector<std::string> first_seen;
        for (const auto& n : host.notifications())
            if (n["member"] == member &&
                std::find(first_seen.begin(), first_seen.end(), n["id"]) == first_seen.end())
                first_seen.push_back(n["id"]);
        EXPECT_EQ(first_seen, created_ids) << ::testing::PrintToString(created_types);
        // What was created: the case, its escalation and lock, the payment and the unlock
        std::multiset<std::string> kinds(created_types.begin(), created_types.end());
        EXPECT_EQ(kinds,
                  (std::multiset<std::string>{"case.opened", "case.escalated", "access.locked",
                                              "case.resolved", "access.restored"}))
            << ::testing::PrintToString(created_types);
        ASSERT_EQ(created_types.size(), 5u);
        EXPECT_EQ(created_types[0], "case.opened");
        EXPECT_EQ(std::find(created_types.begin(), created_types.end(), "access.locked") <
                      std::find(created_types.begin(), created_types.end(), "access.restored"),
                  true);
    }
    for (const auto& r : host.accepted())
        EXPECT_TRUE(signature_valid(r, host_secret)) << r.body;
}

// ---- 4

TEST_F(AccessE2E, QueryApi) {
    // Given one member in dunning and one the module has never heard of
    add_invoice("in_1");
    fail("in_1");
    const std::string base = "/v1/creators/alpha/access";

    // A member in good standing: granted, no row
    auto a = access("cus_unknown");
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["reason"], "in_good_standing");
    EXPECT_EQ(a["blocked"], false);

    // Missing member → 400; unknown course → 404
    auto e = get(base + "?course=course-101", alpha_token, 400);
    EXPECT_TRUE(e.contains("error")) << e.dump();
    e = get(base + "?member=cus_fake&course=course-999", alpha_token, 404);
    EXPECT_TRUE(e.contains("error")) << e.dump();

    // No token → 401; another creator's token → 403
    {
        auto cli = service->client();
        auto r = cli.Get((base + "?member=cus_fake&course=course-101").c_str());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 401) << r->body;
    }
    get(base + "?member=cus_fake&course=course-101", beta_token, 403);

    // A Stripe product id works where a course id does
    a = access("cus_fake", "prod_fake");
    EXPECT_EQ(a["course"], "prod_fake") << a.dump(2);
    EXPECT_EQ(a["level"], "granted");
    EXPECT_EQ(a["reason"], "payment_failed");
    EXPECT_EQ(a["courses"], (json{"course-101", "course-102"})) << a.dump(2);
    a = access("cus_fake", "course-102");
    EXPECT_EQ(a["courses"], json{"course-102"}) << a.dump(2);
    EXPECT_EQ(a["reason"], "payment_failed");

    // Without a course: all of the member's products
    const auto all = get(base + "?member=cus_fake");
    ASSERT_EQ(all["data"].size(), 1u) << all.dump(2);
    EXPECT_EQ(all["data"][0]["product"], "prod_fake");

    // Bulk: answers in the order asked, an unknown course is an error of that item only
    auto r = post(base + "/query", {{"items",
                                     {{{"member", "cus_fake"}, {"course", "course-101"}},
                                      {{"member", "cus_unknown"}, {"course", "course-102"}},
                                      {{"member", "cus_fake"}, {"course", "course-999"}},
                                      {{"member", "cus_fake"}, {"course", "prod_fake"}}}}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto bulk = json::parse(r->body);
    ASSERT_EQ(bulk["data"].size(), 4u) << bulk.dump(2);
    EXPECT_EQ(bulk["data"][0]["member"], "cus_fake");
    EXPECT_EQ(bulk["data"][0]["course"], "course-101");
    EXPECT_EQ(bulk["data"][0]["reason"], "payment_failed");
    EXPECT_EQ(bulk["data"][1]["member"], "cus_unknown");
    EXPECT_EQ(bulk["data"][1]["reason"], "in_good_standing");
    EXPECT_TRUE(bulk["data"][2].contains("error")) << bulk["data"][2].dump();
    EXPECT_EQ(bulk["data"][2]["course"], "course-999");
    EXPECT_EQ(bulk["data"][3]["course"], "prod_fake");
    EXPECT_EQ(bulk["data"][3]["level"], "granted");

    // Over 1000 items → 400; bulk needs the token too
    json many = json::array();
    for (int i = 0; i < 1001; ++i)
        many.push_back({{"member", "cus_" + std::to_string(i)}, {"course", "course-101"}});
    r = post(base + "/query", {{"items", many}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body.substr(0, 200);
    many.erase(many.begin());
    r = post(base + "/query", {{"items", many}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    r = post(base + "/query",
             {{"items", json::array({{{"member", "cus_fake"}, {"course", "course-101"}}})}},
             beta_token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
}

// ---- 5

TEST_F(AccessE2E, OverrideGrantsAnywayAndIsAudited) {
    // Given a member locked out
    add_invoice("in_1");
    reach_lock();
    ASSERT_EQ(access()["level"], "locked");
    const std::string overrides = "/v1/creators/alpha/access/overrides";

    // An override needs a note
    auto r = post(overrides, {{"member", "cus_fake"}, {"level", "granted"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(access()["level"], "locked");

    // When the creator grants access anyway, saying why
    r = post(
        overrides,
        {{"member", "cus_fake"}, {"level", "granted"}, {"note", "paid in cash at the workshop"}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    const auto created = json::parse(r->body);
    advance(0s);

    // Then the member has access, the host is told, and the override is on record
    auto a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(a["reason"], "creator_override") << a.dump(2);
    ASSERT_EQ(types().back(), "access.restored") << ::testing::PrintToString(types());
    EXPECT_EQ(last_of_type("access.restored")->json()["data"]["access"]["reason"],
              "creator_override");
    auto list = get(overrides + "?member=cus_fake");
    ASSERT_EQ(list["data"].size(), 1u) << list.dump(2);
    EXPECT_EQ(list["data"][0]["id"], created["id"]);
    EXPECT_EQ(list["data"][0]["actor"], "api:alpha");
    EXPECT_EQ(list["data"][0]["note"], "paid in cash at the workshop");
    EXPECT_EQ(list["data"][0]["in_force"], true);

    // Revoking needs a note too
    const auto revoke =
        overrides + "/" + std::to_string(created["id"].get<std::int64_t>()) + "/revoke";
    r = post(revoke, json::object());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;

    // When the creator revokes it, the rules apply again
    r = post(revoke, {{"note", "the cash was counterfeit"}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    advance(0s);
    a = access();
    EXPECT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "final_notice_deadline_passed");
    EXPECT_EQ(types().back(), "access.locked") << ::testing::PrintToString(types());
    list = get(overrides + "?member=cus_fake");
    ASSERT_EQ(list["data"].size(), 1u);
    EXPECT_FALSE(list["data"][0]["revoked_at"].is_null()) << list.dump(2);
    EXPECT_EQ(list["data"][0]["revoke_note"], "the cash was counterfeit");
    EXPECT_EQ(list["data"][0]["in_force"], false);
    r = post(revoke, {{"note", "twice"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << "already revoked";

    // An override for a day expires by the clock alone
    r = post(overrides, {{"member", "cus_fake"},
                         {"product", "prod_fake"},
                         {"level", "granted"},
                         {"until", to_unix(now() + 24h)},
                         {"note", "one more day to pay"}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    advance(0s);
    EXPECT_EQ(access()["level"], "granted");
    const auto notified = host.accepted().size();
    advance(23h);
    EXPECT_EQ(access()["level"], "granted");
    EXPECT_TRUE(stripe->queued_types().empty());
    advance(2h);
    a = access();
    EXPECT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "final_notice_deadline_passed");
    EXPECT_EQ(host.accepted().size(), notified + 1);
    EXPECT_EQ(types().back(), "access.locked");

    // An override in the past is refused
    r = post(overrides,
             {{"member", "cus_fake"}, {"until", to_unix(now() - 1h)}, {"note", "too late"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;

    // The history shows each override's part
    const auto history = get("/v1/creators/alpha/access/history?member=cus_fake");
    int by_override = 0;
    for (const auto& h : history["data"])
        by_override += !h["override"].is_null();
    EXPECT_EQ(by_override, 2) << history.dump(2);
}

// ---- 6

json subscription_event(const std::string& status, Timestamp created) {
    json e = fixture("customer.subscription.updated");
    e["created"] = to_unix(created);
    auto& sub = e["data"]["object"];
    sub["id"] = "sub_fake";
    sub["customer"] = "cus_fake";
    sub["status"] = status;
    sub["items"]["data"][0]["subscription"] = "sub_fake";
    sub["items"]["data"][0]["price"]["product"] = "prod_fake";
    sub["items"]["data"][0]["plan"]["product"] = "prod_fake";
    sub["plan"]["product"] = "prod_fake";
    sub["latest_invoice"] = "in_1";
    e["data"]["previous_attributes"] = {{"status", "past_due"}};
    return e;
}

TEST_F(AccessE2E, SubscriptionUnpaidLocksAtOnce) {
    // Given Stripe marks the member's subscription unpaid
    const auto marked = now();
    post_event(subscription_event("unpaid", marked));
    advance(0s);

    // Then the member is locked out at once, whatever the dunning ladder says
    auto a = access();
    EXPECT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "subscription_unpaid") << a.dump(2);
    EXPECT_EQ(access("cus_fake", "course-102")["level"], "locked");
    EXPECT_EQ(types(), std::vector<std::string>{"access.locked"});

    // When an invoice of that subscription is paid later
    advance(1h);
    add_invoice("in_1");
    stripe->pay_out_of_band("in_1");
    advance(0s);

    // Then the payment wins over the status
    a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(types().back(), "access.restored") << ::testing::PrintToString(types());

    // And an older status delivered late does not lock again
    post_event(subscription_event("unpaid", marked + 30min));
    advance(0s);
    a = access();
    EXPECT_EQ(a["level"], "granted") << a.dump(2);
    EXPECT_EQ(types().back(), "access.restored");
}

TEST_F(AccessE2E, ADisabledCreatorsMembersLoseNoAccessUntilItIsEnabled) {
    service.reset();
    cfg.platform.admin_token = admin_token;
    start_service();
    const auto admin = [&](const std::string& action) {
        auto cli = service->client();
        const auto r = cli.Post("/v1/creators/alpha/" + action,
                                {{"Authorization", "Bearer " + admin_token}}, "", "text/plain");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
    };
    admin("disable");
    post_event(subscription_event("unpaid", now()));
    advance(2h);
    EXPECT_EQ(access()["level"], "granted") << access().dump(2);
    EXPECT_TRUE(types().empty()) << ::testing::PrintToString(types());

    // Enabled again, the lock it held comes at once, announced to the platform.
    admin("enable");
    advance(0s);
    EXPECT_EQ(access()["level"], "locked") << access().dump(2);
    EXPECT_EQ(types(), std::vector<std::string>{"access.locked"});
}

// ---- 7

TEST_F(AccessE2E, SepaDisputeAfterUnlockReLocks) {
    // Given a SEPA member who was locked out, then paid
    add_invoice("in_1", "cus_fake", "sub_fake", PaymentMethodKind::sepa_debit);
    PaymentError e;
    e.code = "insufficient_funds";
    fail("in_1", e);
    reach_lock();
    ASSERT_EQ(access()["level"], "locked");
    advance(1h);
    stripe->pay_out_of_band("in_1");
    advance(0s);
    ASSERT_EQ(access()["level"], "granted");
    const auto c = case_of("in_1");
    ASSERT_EQ(c["status"], "paid") << c.dump(2);
    const auto pi = stripe->invoice("in_1").payment_intent;
    ASSERT_FALSE(pi.empty());

    // When, weeks later, the payer reverses the debit at their bank
    advance(std::chrono::days{10});
    json d = fixture("charge.dispute.created");
    d["created"] = to_unix(now());
    auto& dispute = d["data"]["object"];
    dispute["id"] = "dp_sepa_1";
    ASSERT_TRUE(c["charge"].is_string()) << c.dump(2);
    dispute["charge"] = c["charge"]; // the payment it reverses, as the case knows it
    dispute["payment_intent"] = c["payment_intent"].is_string() ? c["payment_intent"] : json(pi);
    dispute["amount"] = 4900;
    dispute["currency"] = "eur";
    dispute["reason"] = "general";
    dispute["status"] = "needs_response";
    dispute["created"] = to_unix(now());
    dispute["payment_method_details"] = {{"type", "sepa_debit"}, {"sepa_debit", json::object()}};
    post_event(d);
    advance(0s);

    // Then the member is locked again at once (a SEPA dispute cannot be defended)
    const auto a = access();
    EXPECT_EQ(a["level"], "locked") << a.dump(2) << "\ncase: " << case_of("in_1").dump(2);
    EXPECT_EQ(a["reason"], "dispute_lost") << a.dump(2);
    EXPECT_EQ(types().back(), "access.locked") << ::testing::PrintToString(types());
    const auto locked = last_of_type("access.locked");
    ASSERT_TRUE(locked);
    EXPECT_EQ(locked->json()["data"]["access"]["reason"], "dispute_lost");
    EXPECT_EQ(locked->json()["data"]["access"]["previous_level"], "granted");
}

// ---- 8 (backoff while the host answers 503)

TEST_F(AccessE2E, HostAnswering503IsRetriedWithBackoff) {
    // Given a host that answers 503
    host.answer_with(503);
    add_invoice("in_1");
    fail("in_1");
    ASSERT_EQ(host.count(), 1u);
    ASSERT_TRUE(host.accepted().empty());

    // Then the notification is tried again after 1 minute (+ up to 30 s), then 2, then 4
    advance(59s);
    EXPECT_EQ(host.count(), 1u) << "not before a minute";
    advance(32s);
    EXPECT_EQ(host.count(), 2u);
    advance(119s);
    EXPECT_EQ(host.count(), 2u) << "then not before two minutes";
    advance(32s);
    EXPECT_EQ(host.count(), 3u);
    advance(239s);
    EXPECT_EQ(host.count(), 3u) << "then not before four minutes";
    advance(32s);
    EXPECT_EQ(host.count(), 4u);

    // When the host answers again, it is delivered once, with the same id each time
    host.answer_with(200);
    advance(10min);
    const auto all = host.requests();
    ASSERT_EQ(host.accepted().size(), 1u);
    std::set<std::string> ids;
    for (const auto& r : all)
        ids.insert(r.json()["id"]);
    EXPECT_EQ(ids.size(), 1u) << "a retry is the same notification";
    EXPECT_EQ(all.front().body, all.back().body) << "the body is fixed when queued";
    for (const auto& r : all)
        EXPECT_TRUE(signature_valid(r, host_secret));
    advance(2h);
    EXPECT_EQ(host.accepted().size(), 1u);
}

// ---- beyond the brief's list: what a host relies on in practice

// A host that restarts (a deploy) drops the module's kept-alive connection; the next
// notification must still go through in the same step, not count as the host being down.
TEST_F(AccessE2E, HostRestartBetweenNotificationsCostsNoRetry) {
    // Given a member locked out, the host told over a kept-alive connection
    add_invoice("in_1");
    reach_lock();
    ASSERT_EQ(types().back(), "access.locked");

    // When the host restarts and then the member pays (no time passes)
    host.stop();
    host.start();
    stripe->pay_out_of_band("in_1");
    advance(0s);

    // Then the host hears of it at once
    EXPECT_EQ(access()["level"], "granted");
    const auto all = types();
    ASSERT_EQ(all.size(), 5u) << ::testing::PrintToString(all);
    EXPECT_EQ((std::set<std::string>{all[3], all[4]}),
              (std::set<std::string>{"access.restored", "case.resolved"}));
}

// Without anyone moving the clock: the worker picks the payment up by itself and the host is
// told (the wait is bounded only so that a missing notification fails instead of hanging; how
// fast it arrives is measured by bench/access, not asserted here).
TEST_F(AccessE2E, PaymentRestoresAccessWithoutAnyClockStep) {
    add_invoice("in_1");
    reach_lock();
    ASSERT_EQ(types().back(), "access.locked");
    const auto before = host.accepted().size();

    stripe->pay_out_of_band("in_1");
    stripe->deliver(); // only the webhooks; no /v1/test-clock/advance

    const auto t0 = std::chrono::steady_clock::now();
    while (host.accepted().size() < before + 2 && std::chrono::steady_clock::now() - t0 < 60s)
        std::this_thread::sleep_for(5ms);
    const auto all = types();
    ASSERT_EQ(all.size(), before + 2) << ::testing::PrintToString(all);
    EXPECT_EQ((std::set<std::string>{all[before], all[before + 1]}),
              (std::set<std::string>{"access.restored", "case.resolved"}));
    EXPECT_EQ(clock_of_service(), to_unix(clock_now)) << "the clock did not move";
    EXPECT_EQ(access()["level"], "granted");
}

// Stripe signs with real time, also for its test clocks: a payment 45 simulated days after the
// failure still gets in and gives the member access back.
TEST_F(AccessE2E, AWebhookSignedWithRealTimeGetsInAfterTheTestClockMovedOn) {
    // Given a service whose test clock starts at the real time, and a failure at day 0
    service.reset();
    clock_now = plugin::SystemClock().now();
    boot();
    const auto day_0 = now();
    add_invoice("in_1");
    fail("in_1");
    ASSERT_EQ(case_of("in_1")["status"], "open");

    // When 45 days pass on the test clock and then the member pays
    advance_to(day_0 + std::chrono::days{45}, 24h);
    ASSERT_EQ(access()["level"], "locked");
    stripe->pay_out_of_band("in_1");
    const auto events = stripe->take_queued();
    ASSERT_TRUE(std::any_of(events.begin(), events.end(), [](const std::string& e) {
        return json::parse(e)["type"] == "invoice.paid";
    }));
    for (const auto& body : events) {
        auto cli = service->client();
        const auto r = post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret,
                                   plugin::SystemClock().now());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200) << json::parse(body)["type"] << ": " << r->body;
    }
    advance(0s);

    // Then the payment is taken and the member has access again
    EXPECT_EQ(case_of("in_1")["status"], "paid");
    EXPECT_EQ(access()["level"], "granted");
    const auto all = types();
    EXPECT_NE(std::find(all.begin(), all.end(), "access.restored"), all.end())
        << ::testing::PrintToString(all);
}

// Stripe delivers twice and out of order: one lock, one unlock, one of each case.* event.
TEST_F(AccessE2E, DuplicateAndReversedWebhooksNotifyOnce) {
    stripe->set_delivery({true, true});
    add_invoice("in_1");
    reach_lock();
    stripe->pay_out_of_band("in_1");
    advance(0s);
    advance(1h);
    EXPECT_EQ(access()["level"], "granted");
    std::multiset<std::string> got;
    for (const auto& t : types())
        got.insert(t);
    EXPECT_EQ(got, (std::multiset<std::string>{"case.opened", "case.escalated", "access.locked",
                                               "case.resolved", "access.restored"}))
        << ::testing::PrintToString(types());
}

// Notifications still owed when the module restarts are delivered after it, in order.
TEST_F(AccessE2E, PendingNotificationsSurviveARestart) {
    add_invoice("in_1");
    fail("in_1");
    advance_to(start + std::chrono::days{33});
    host.stop();
    advance_to(start + std::chrono::days{35}, 1h); // locked while the host is down
    ASSERT_EQ(access()["level"], "locked");

    service.reset(); // the module stops (a deploy), the host comes back meanwhile
    host.start();
    start_service();
    for (int i = 0; i < 24; ++i)
        advance(5min);

    EXPECT_EQ(types(),
              (std::vector<std::string>{"case.opened", "case.escalated", "access.locked"}));
    EXPECT_EQ(access()["level"], "locked");
}

// A notification the host refuses for one member holds up that member's later ones only.
TEST_F(AccessE2E, OneMembersRetriesDoNotHoldUpAnother) {
    // Given a host that refuses everything about cus_fake, and two members whose payments failed
    host.refuse_member("cus_fake");
    add_invoice("in_1", "cus_fake", "sub_fake");
    add_invoice("in_2", "cus_other", "sub_other");
    fail("in_1");
    fail("in_2");
    EXPECT_EQ(types_for("cus_other"), std::vector<std::string>{"case.opened"});
    EXPECT_TRUE(types_for("cus_fake").empty());

    // When both pay
    stripe->pay_out_of_band("in_1");
    stripe->pay_out_of_band("in_2");
    advance(0s);

    // Then the other member's news goes out at once, cus_fake's waits, in order
    EXPECT_EQ(types_for("cus_other"), (std::vector<std::string>{"case.opened", "case.resolved"}));
    EXPECT_TRUE(types_for("cus_fake").empty());
    host.refuse_member("");
    for (int i = 0; i < 6; ++i)
        advance(1min);
    EXPECT_EQ(types_for("cus_fake"), (std::vector<std::string>{"case.opened", "case.resolved"}));
    EXPECT_EQ(types_for("cus_other"), (std::vector<std::string>{"case.opened", "case.resolved"}));
}

// ---- the C++ embedding interface

TEST_F(AccessE2E, EmbeddingInterfaceSeesEveryChangeInOrder) {
    std::mutex m;
    std::vector<jobs::AccessEvent> seen;
    service->module().on_access_change([&](const jobs::AccessEvent& e) {
        std::lock_guard l(m);
        seen.push_back(e);
    });
    auto same_as_http = [&](const std::string& course) {
        const auto direct = service->module().access("alpha", "cus_fake", course);
        const auto http = access("cus_fake", course);
        ASSERT_TRUE(direct) << course;
        EXPECT_EQ(to_string(direct->level), http["level"].get<std::string>()) << course;
        EXPECT_EQ(direct->reason, http["reason"].get<std::string>()) << course;
    };

    // Given a member going through dunning to the lock, and paying
    add_invoice("in_1");
    fail("in_1");
    same_as_http("course-101");
    reach_lock();
    same_as_http("course-101");
    same_as_http("prod_fake");
    stripe->pay_out_of_band("in_1");
    advance(0s);
    same_as_http("course-102");
    EXPECT_FALSE(service->module().access("alpha", "cus_fake", "course-999")) << "unknown course";
    EXPECT_FALSE(service->module().access("nobody", "cus_fake", "course-101")) << "unknown creator";

    // Then the listener saw every change, in order, as one chain granted → … → locked → granted
    std::lock_guard l(m);
    ASSERT_FALSE(seen.empty());
    std::vector<std::string> levels{to_string(seen.front().from)};
    for (std::size_t i = 0; i < seen.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(seen[i].creator, "alpha");
        EXPECT_EQ(seen[i].member, "cus_fake");
        EXPECT_EQ(seen[i].product, "prod_fake");
        EXPECT_EQ(seen[i].courses, (std::vector<std::string>{"course-101", "course-102"}));
        if (i > 0) {
            EXPECT_GT(seen[i].sequence, seen[i - 1].sequence);
            EXPECT_EQ(seen[i].from, seen[i - 1].to);
        }
        if (levels.back() != to_string(seen[i].to)) levels.push_back(to_string(seen[i].to));
    }
    EXPECT_EQ(levels, (std::vector<std::string>{"granted", "grace", "locked", "granted"}));
    EXPECT_EQ(seen.back().reason, "in_good_standing");
    bool deadline = false;
    for (const auto& e : seen)
        deadline |= e.to == AccessLevel::locked && e.reason == "final_notice_deadline_passed";
    EXPECT_TRUE(deadline);
}

} // namespace

// ---- regressions found in review

namespace {

json dispute_event(const json& charge, const json& payment_intent, const std::string& status,
                   Timestamp at, const std::string& method = "card") {
    json d = fixture("charge.dispute.created");
    d["created"] = to_unix(at);
    auto& dispute = d["data"]["object"];
    dispute["id"] = "dp_" + std::to_string(to_unix(at));
    dispute["charge"] = charge;
    dispute["payment_intent"] = payment_intent;
    dispute["amount"] = 4900;
    dispute["currency"] = "eur";
    dispute["reason"] = "fraudulent";
    dispute["status"] = status;
    dispute["created"] = to_unix(at);
    dispute["payment_method_details"] = {{"type", method}};
    return d;
}

} // namespace

TEST_F(AccessE2E, EscalatedBeforeTheDeadlineStillLocksAtTheAnnouncedTime) {
    // Given a member in grace after the final notice, whose creator escalates the case at once
    add_invoice("in_1");
    fail("in_1");
    advance_to(start + std::chrono::days{20} + 6h);
    const auto grace = access();
    ASSERT_EQ(grace["level"], "grace") << grace.dump(2);
    const auto id = std::to_string(grace["case"].get<std::int64_t>());
    ASSERT_EQ(post("/v1/creators/alpha/cases/" + id + "/escalate", json::object())->status, 200);
    advance(0s);
    EXPECT_EQ(access()["level"], "grace") << "the announced day has not come";

    // When the announced lock day passes (the escalated case itself no longer wakes)
    advance_to(start + std::chrono::days{36});

    // Then the member is locked and the platform hears it
    EXPECT_EQ(access()["level"], "locked") << access().dump(2);
    EXPECT_TRUE(last_of_type("access.locked"));
}

TEST_F(AccessE2E, LostDisputeOnAnInvoicePaidOnTimeOpensAVisibleCaseThatCanBeMarkedPaid) {
    // Given an invoice paid on time by card
    add_invoice("in_9");
    stripe->pay_out_of_band("in_9");
    advance(0s);
    const auto pi = stripe->invoice("in_9").payment_intent;

    // When its payment is charged back and the dispute lost
    advance(std::chrono::days{1});
    post_event(dispute_event(nullptr, pi, "lost", now()));
    advance(0s);

    // Then the member is locked and the case is there for the creator, as "disputed"
    const auto a = access();
    ASSERT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "dispute_lost");
    const auto id = std::to_string(a["case"].get<std::int64_t>());
    const auto c = get("/v1/creators/alpha/cases/" + id);
    EXPECT_EQ(c["status"], "disputed") << c.dump(2);
    EXPECT_EQ(get("/v1/creators/alpha/cases?status=open")["data"].size(), 1u);

    // And money received outside Stripe restores access
    ASSERT_EQ(post("/v1/creators/alpha/cases/" + id + "/mark-paid", json::object())->status, 200);
    advance(0s);
    EXPECT_EQ(access()["level"], "granted") << access().dump(2);
    EXPECT_EQ(types().back(), "access.restored") << ::testing::PrintToString(types());
}

TEST_F(AccessE2E, ADisputeDeliveredBeforeItsInvoiceIsAppliedWhenTheInvoiceArrives) {
    add_invoice("in_9");
    stripe->pay_out_of_band("in_9"); // queued, not yet delivered
    const auto pi = stripe->invoice("in_9").payment_intent;
    post_event(dispute_event(nullptr, pi, "lost", now() + 24h)); // the dispute first
    advance(25h); // then the invoice.paid and payment events
    EXPECT_EQ(access()["level"], "locked") << access().dump(2);
    EXPECT_EQ(access()["reason"], "dispute_lost");
}

TEST_F(AccessE2E, ACardDisputeAfterASepaFailureIsNotTakenForALostChargeback) {
    // Given a SEPA debit that failed, then paid by card
    add_invoice("in_1", "cus_fake", "sub_fake", PaymentMethodKind::sepa_debit);
    PaymentError e;
    e.code = "insufficient_funds";
    fail("in_1", e);
    const auto c = case_of("in_1");
    stripe->pay_out_of_band("in_1");
    advance(0s);
    ASSERT_EQ(access()["level"], "granted");

    // When a card dispute opens and waits for the creator's evidence
    post_event(dispute_event(c["charge"], stripe->invoice("in_1").payment_intent, "needs_response",
                             now(), "card"));
    advance(0s);

    // Then nothing is locked yet: a card dispute can still be won
    EXPECT_EQ(access()["level"], "granted") << access().dump(2);
}

TEST_F(AccessE2E, AMemberWideOverrideHoldsForProductsWithoutARecord) {
    const auto r =
        post("/v1/creators/alpha/access/overrides",
             {{"member", "cus_new"}, {"level", "locked"}, {"note", "shared their login"}});
    ASSERT_EQ(r->status, 201) << r->body;
    advance(0s);
    const auto a = access("cus_new");
    EXPECT_EQ(a["level"], "locked") << a.dump(2);
    EXPECT_EQ(a["reason"], "creator_override");
}
