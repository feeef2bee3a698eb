// Stripe event JSON → core events: real API 2020-08-27 payloads from the Stripe CLI, hand-written
// 2025-03-31 ("basil") payloads, expanded ids, and hostile input.
#include "tests/support/files.hpp"
#include "webhook/event_parser.hpp"
#include "webhook/json_sax.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

namespace dunning::webhook {
namespace {

using dunning::testing::read_file;
using nlohmann::json;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

const fs::path legacy_dir = fs::path(DUNNING_FIXTURES_DIR) / "api-2020-08-27";
const fs::path current_dir = fs::path(DUNNING_SOURCE_DIR) / "tests/fixtures/stripe/api-2025-03-31";

std::string legacy(const std::string& name) {
    return read_file(legacy_dir / (name + ".json"));
}
std::string current(const std::string& name) {
    return read_file(current_dir / (name + ".json"));
}
json legacy_json(const std::string& name) {
    return json::parse(legacy(name));
}
json current_json(const std::string& name) {
    return json::parse(current(name));
}

// The event the body must become; fails the test (and returns an empty event) otherwise.
Event event_of(const std::string& body) {
    auto parsed = parse_event(body);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
    if (!parsed.ok() || !std::holds_alternative<Event>(parsed.value())) {
        ADD_FAILURE() << "not an event";
        return {};
    }
    return std::get<Event>(parsed.value());
}
Event event_of(const json& body) {
    return event_of(body.dump());
}

template <class Facts> Facts facts_of(const Event& event) {
    if (auto* facts = std::get_if<Facts>(&event.facts)) return *facts;
    ADD_FAILURE() << "event " << event.type << " carries other facts";
    return {};
}

std::string ignored_reason(const std::string& body) {
    auto parsed = parse_event(body);
    if (!parsed.ok()) return "error: " + parsed.error();
    if (auto* ignored = std::get_if<Ignored>(&parsed.value())) return ignored->reason;
    return "not ignored";
}

std::string event_error(const std::string& body) {
    auto parsed = parse_event(body);
    return parsed.ok() ? "" : parsed.error();
}
std::string event_error(const json& body) {
    return event_error(body.dump());
}

std::string envelope_error(std::string_view body) {
    auto envelope = parse_envelope(body);
    return envelope.ok() ? "" : envelope.error();
}

// ---- every real payload ----------------------------------------------------------------

struct Expected {
    const char* file;
    std::optional<EventKind> kind; // nullopt: acknowledged and ignored
};

const Expected legacy_expectations[] = {
    {"account.application.deauthorized", EventKind::account_deauthorized},
    {"charge.dispute.closed", EventKind::dispute_closed},
    {"charge.dispute.created", EventKind::dispute_created},
    {"charge.failed", EventKind::payment_failed},
    {"charge.succeeded", std::nullopt},
    {"checkout.session.completed", std::nullopt},
    {"customer.subscription.created", std::nullopt},
    {"customer.subscription.deleted", EventKind::subscription_deleted},
    {"customer.subscription.updated", EventKind::subscription_updated},
    {"customer.updated", std::nullopt}, // changes the currency, not the default payment method
    {"invoice.finalized", std::nullopt},
    {"invoice.paid", EventKind::invoice_paid},
    {"invoice.payment_action_required", EventKind::invoice_payment_action_required},
    {"invoice.payment_failed", EventKind::invoice_payment_failed},
    {"invoice.payment_succeeded", EventKind::invoice_paid},
    {"invoice.updated", std::nullopt},
    {"mandate.updated", EventKind::mandate_updated},
    {"payment_intent.payment_failed", EventKind::payment_failed},
    {"payment_intent.processing", EventKind::payment_processing},
    {"payment_intent.requires_action", std::nullopt},
    {"payment_intent.succeeded", EventKind::payment_succeeded},
    {"payment_method.attached", EventKind::payment_method_attached},
    {"setup_intent.succeeded", EventKind::setup_intent_succeeded},
};

// Every fixture file has an expectation, and every expectation a file.
TEST(LegacyFixtures, EveryFileIsExpected) {
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(legacy_dir))
        if (entry.path().extension() == ".json") files.insert(entry.path().stem().string());
    std::set<std::string> expected;
    for (const Expected& e : legacy_expectations)
        expected.insert(e.file);
    EXPECT_EQ(files, expected);
}

TEST(LegacyFixtures, EnvelopeAndKind) {
    for (const Expected& expected : legacy_expectations) {
        SCOPED_TRACE(expected.file);
        std::string body = legacy(expected.file);
        auto envelope = parse_envelope(body);
        ASSERT_TRUE(envelope.ok()) << envelope.error();
        EXPECT_EQ(envelope.value().type, expected.file);
        EXPECT_FALSE(envelope.value().id.empty());
        EXPECT_EQ(envelope.value().account, "");
        EXPECT_GT(to_unix(envelope.value().created), 1'300'000'000);

        auto parsed = parse_event(body);
        ASSERT_TRUE(parsed.ok()) << parsed.error();
        if (!expected.kind) {
            ASSERT_TRUE(std::holds_alternative<Ignored>(parsed.value()));
            continue;
        }
        ASSERT_TRUE(std::holds_alternative<Event>(parsed.value()));
        const Event& event = std::get<Event>(parsed.value());
        EXPECT_EQ(event.kind, *expected.kind) << to_string(event.kind);
        EXPECT_EQ(event.id, envelope.value().id);
        EXPECT_EQ(event.type, expected.file);
        EXPECT_EQ(event.created, envelope.value().created);
    }
}

TEST(LegacyFixtures, IgnoredReasons) {
    EXPECT_EQ(ignored_reason(legacy("invoice.updated")), "unhandled event type invoice.updated");
    EXPECT_EQ(ignored_reason(legacy("checkout.session.completed")),
              "unhandled event type checkout.session.completed");
    EXPECT_EQ(ignored_reason(legacy("customer.updated")),
              "customer.updated without a new default payment method");
}

TEST(LegacyInvoice, PaymentFailedFacts) {
    Event event = event_of(legacy("invoice.payment_failed"));
    EXPECT_EQ(event.id, "evt_000000000000000000000000");
    EXPECT_EQ(to_unix(event.created), 1648320009);
    auto f = facts_of<InvoiceFacts>(event);
    EXPECT_EQ(f.invoice_id, "in_000000000000000000000000");
    EXPECT_EQ(f.number, "C93E45D7-0001");
    EXPECT_EQ(f.customer_id, "cus_00000000000000");
    EXPECT_EQ(f.customer_email, "");
    EXPECT_EQ(f.subscription_id, ""); // a one-off invoice: subscription is null
    EXPECT_EQ(f.payment_intent_id, "pi_000000000000000000000000");
    EXPECT_EQ(f.charge_id, "ch_000000000000000000000000");
    EXPECT_EQ(f.status, "open");
    EXPECT_EQ(f.billing_reason, "manual");
    EXPECT_EQ(f.currency, "usd");
    EXPECT_EQ(f.amount_due, 2000);
    EXPECT_EQ(f.amount_remaining, 2000);
    EXPECT_EQ(f.attempt_count, 1);
    EXPECT_FALSE(f.next_payment_attempt);
    EXPECT_FALSE(f.due_date);
    EXPECT_EQ(f.hosted_invoice_url.rfind("https://invoice.stripe.com/i/acct_0000000000000000/", 0),
              0u);
    EXPECT_EQ(f.products, Strings{"prod_00000000000000"});
}

TEST(LegacyInvoice, PaidAndActionRequired) {
    for (const char* name : {"invoice.paid", "invoice.payment_succeeded"}) {
        auto f = facts_of<InvoiceFacts>(event_of(legacy(name)));
        EXPECT_EQ(f.status, "paid") << name;
        EXPECT_EQ(f.amount_remaining, 0) << name;
        EXPECT_EQ(f.payment_intent_id, "pi_000000000000000000000000") << name;
    }
    auto f = facts_of<InvoiceFacts>(event_of(legacy("invoice.payment_action_required")));
    EXPECT_EQ(f.number, "7C43E171-0001");
    EXPECT_EQ(f.products, Strings{"prod_00000000000000"});
}

TEST(LegacyInvoice, VoidedAndUncollectible) {
    json body = legacy_json("invoice.payment_failed");
    body["type"] = "invoice.voided";
    body["data"]["object"]["status"] = "void";
    EXPECT_EQ(event_of(body).kind, EventKind::invoice_voided);
    body["type"] = "invoice.marked_uncollectible";
    body["data"]["object"]["status"] = "uncollectible";
    Event event = event_of(body);
    EXPECT_EQ(event.kind, EventKind::invoice_marked_uncollectible);
    EXPECT_EQ(facts_of<InvoiceFacts>(event).status, "uncollectible");
}

TEST(LegacyInvoice, SubscriptionAndTimesWhenSet) {
    json body = legacy_json("invoice.payment_failed");
    auto& invoice = body["data"]["object"];
    invoice["subscription"] = "sub_legacy";
    invoice["next_payment_attempt"] = 1648406409;
    invoice["due_date"] = 1649000000;
    invoice["lines"]["data"][0]["plan"] = {{"id", "plan_x"}, {"product", "prod_plan_only"}};
    auto f = facts_of<InvoiceFacts>(event_of(body));
    EXPECT_EQ(f.subscription_id, "sub_legacy");
    ASSERT_TRUE(f.next_payment_attempt);
    EXPECT_EQ(to_unix(*f.next_payment_attempt), 1648406409);
    ASSERT_TRUE(f.due_date);
    EXPECT_EQ(to_unix(*f.due_date), 1649000000);
    EXPECT_EQ(f.products, (Strings{"prod_00000000000000", "prod_plan_only"}));
}

TEST(LegacyPayment, PaymentIntentFailed) {
    auto f = facts_of<PaymentFacts>(event_of(legacy("payment_intent.payment_failed")));
    EXPECT_EQ(f.payment_intent_id, "pi_000000000000000000000000");
    EXPECT_EQ(f.charge_id, "ch_000000000000000000000000"); // from charges.data[0]
    EXPECT_EQ(f.invoice_id, "");
    EXPECT_EQ(f.customer_id, "");
    EXPECT_EQ(f.payment_method_id, "pm_000000000000000000000000"); // from last_payment_error
    EXPECT_EQ(f.method, PaymentMethodKind::card);
    EXPECT_EQ(f.card_brand, "visa");
    EXPECT_EQ(f.card_network, "visa");
    EXPECT_EQ(f.card_exp_month, 3);
    EXPECT_EQ(f.card_exp_year, 2023);
    EXPECT_EQ(f.amount, 2000);
    EXPECT_EQ(f.currency, "usd");
    EXPECT_EQ(f.error.code, "card_declined");
    EXPECT_EQ(f.error.decline_code, "generic_decline");
    EXPECT_EQ(f.error.message, "Your card was declined.");
    EXPECT_EQ(f.error.reason(), "generic_decline");
}

TEST(LegacyPayment, ChargeFailed) {
    Event event = event_of(legacy("charge.failed"));
    EXPECT_EQ(event.kind, EventKind::payment_failed);
    auto f = facts_of<PaymentFacts>(event);
    EXPECT_EQ(f.charge_id, "ch_000000000000000000000000");
    EXPECT_EQ(f.payment_intent_id, "pi_000000000000000000000000");
    EXPECT_EQ(f.payment_method_id, "pm_000000000000000000000000");
    EXPECT_EQ(f.method, PaymentMethodKind::card);
    EXPECT_EQ(f.card_brand, "visa");
    EXPECT_EQ(f.card_network, "visa");
    EXPECT_EQ(f.error.code, "card_declined");
    EXPECT_EQ(f.error.decline_code, "generic_decline"); // outcome.reason
    EXPECT_EQ(f.error.message, "Your card was declined.");
}

TEST(LegacyPayment, ProcessingAndSucceededCarryNoError) {
    auto processing = facts_of<PaymentFacts>(event_of(legacy("payment_intent.processing")));
    EXPECT_EQ(processing.payment_intent_id, "pi_00000000000000");
    EXPECT_EQ(processing.customer_id, "cus_00000000000000");
    EXPECT_EQ(processing.currency, "eur");
    EXPECT_EQ(processing.amount, 900);
    EXPECT_EQ(processing.error.code, "");

    json body = legacy_json("payment_intent.succeeded");
    body["data"]["object"]["last_payment_error"] = {{"code", "card_declined"}};
    auto succeeded = facts_of<PaymentFacts>(event_of(body));
    EXPECT_EQ(succeeded.charge_id, "ch_000000000000000000000000");
    EXPECT_EQ(succeeded.payment_method_id, "pm_000000000000000000000000");
    EXPECT_EQ(succeeded.method, PaymentMethodKind::card);
    EXPECT_EQ(succeeded.error.code, "");
}

TEST(LegacyDispute, CreatedAndClosed) {
    auto created = facts_of<DisputeFacts>(event_of(legacy("charge.dispute.created")));
    EXPECT_EQ(created.dispute_id, "dp_000000000000000000000000");
    EXPECT_EQ(created.charge_id, "ch_000000000000000000000000");
    EXPECT_EQ(created.payment_intent_id, "");
    EXPECT_EQ(created.status, "warning_needs_response");
    EXPECT_EQ(created.reason, "fraudulent");
    EXPECT_EQ(created.amount, 100);
    EXPECT_EQ(created.currency, "usd");

    auto closed = facts_of<DisputeFacts>(event_of(legacy("charge.dispute.closed")));
    EXPECT_EQ(closed.dispute_id, ""); // this old payload names only the charge
    EXPECT_EQ(closed.charge_id, "ch_00000000000000");
    EXPECT_EQ(closed.status, "won");
    EXPECT_EQ(closed.reason, "general");
    EXPECT_EQ(closed.amount, 1000);
}

TEST(LegacySubscription, UpdatedAndDeleted) {
    auto updated = facts_of<SubscriptionFacts>(event_of(legacy("customer.subscription.updated")));
    EXPECT_EQ(updated.subscription_id, "sub_000000000000000000000000");
    EXPECT_EQ(updated.customer_id, "cus_00000000000000");
    EXPECT_EQ(updated.status, "active");
    EXPECT_EQ(updated.previous_status, ""); // only the schedule changed
    EXPECT_EQ(updated.products, Strings{"prod_00000000000000"});

    auto deleted = facts_of<SubscriptionFacts>(event_of(legacy("customer.subscription.deleted")));
    EXPECT_EQ(deleted.status, "canceled");
    EXPECT_EQ(deleted.cancellation_reason, "");
}

TEST(LegacyPaymentMethod, AttachedSetupIntentMandateAccount) {
    auto attached = facts_of<PaymentMethodFacts>(event_of(legacy("payment_method.attached")));
    EXPECT_EQ(attached.payment_method_id, "card_000000000000000000000000");
    EXPECT_EQ(attached.customer_id, "cus_00000000000000");
    EXPECT_EQ(attached.method, PaymentMethodKind::card);
    EXPECT_EQ(attached.card_exp_month, 3);
    EXPECT_EQ(attached.card_exp_year, 2023);

    auto setup = facts_of<PaymentMethodFacts>(event_of(legacy("setup_intent.succeeded")));
    EXPECT_EQ(setup.payment_method_id, "pm_000000000000000000000000");
    EXPECT_EQ(setup.customer_id, "");
    EXPECT_EQ(setup.method, PaymentMethodKind::card); // the only allowed type

    auto mandate = facts_of<MandateFacts>(event_of(legacy("mandate.updated")));
    EXPECT_EQ(mandate.mandate_id, "mandate_000000000000000000000000");
    EXPECT_EQ(mandate.payment_method_id, "pm_000000000000000000000000");
    EXPECT_EQ(mandate.status, "active");

    auto account = facts_of<AccountFacts>(event_of(legacy("account.application.deauthorized")));
    EXPECT_EQ(account.account_id, "cus_00000000000000"); // no `account`: data.object.id
}

TEST(LegacyPaymentMethod, DeauthorizationPrefersTheEventsAccount) {
    json body = legacy_json("account.application.deauthorized");
    body["account"] = "acct_1Creator";
    body["data"]["object"] = {{"id", "ca_platform"}, {"object", "application"}};
    Event event = event_of(body);
    EXPECT_EQ(event.account, "acct_1Creator");
    EXPECT_EQ(facts_of<AccountFacts>(event).account_id, "acct_1Creator");
}

// Today data.object is the platform's application: it is never taken for the account.
TEST(LegacyPaymentMethod, TheApplicationIsNeverTakenForTheAccount) {
    json body = legacy_json("account.application.deauthorized");
    body["data"]["object"] = {{"id", "ca_platform"}, {"object", "application"}};
    EXPECT_EQ(event_error(body),
              "account.application.deauthorized: no account in event.account or data.object.id");
    body["data"]["object"] = {{"id", "ca_platform"}};
    EXPECT_NE(event_error(body), "");
    body["type"] = "account.application.authorized";
    body["account"] = "acct_1Back";
    const Event back = event_of(body);
    EXPECT_EQ(back.kind, EventKind::account_authorized);
    EXPECT_EQ(facts_of<AccountFacts>(back).account_id, "acct_1Back");
}

// ---- the current shape (2025-03-31 "basil" and later) ------------------------------------

TEST(CurrentFixtures, InvoicePaymentFailed) {
    Event event = event_of(current("invoice.payment_failed"));
    EXPECT_EQ(event.kind, EventKind::invoice_payment_failed);
    EXPECT_EQ(event.id, "evt_1R8basilInvPayFailed001");
    EXPECT_EQ(event.account, "acct_1R8basilCreatorDE");
    EXPECT_EQ(to_unix(event.created), 1744275660);
    auto f = facts_of<InvoiceFacts>(event);
    EXPECT_EQ(f.invoice_id, "in_1R8basilInvoice0000001");
    EXPECT_EQ(f.customer_id, "cus_S2basilMember001");
    EXPECT_EQ(f.customer_email, "jana.schaefer@example.de");
    EXPECT_EQ(f.customer_name, "Jana Schäfer");
    EXPECT_EQ(f.subscription_id, "sub_1R8basilSubscr0000001"); // parent.subscription_details
    EXPECT_EQ(f.payment_intent_id, "");                        // no `payments` in this webhook
    EXPECT_EQ(f.charge_id, "");
    EXPECT_EQ(f.currency, "eur");
    EXPECT_EQ(f.amount_due, 4900);
    EXPECT_EQ(f.billing_reason, "subscription_cycle");
    ASSERT_TRUE(f.next_payment_attempt);
    EXPECT_EQ(to_unix(*f.next_payment_attempt), 1744272000 + 3 * 86400 + 3600);
    EXPECT_EQ(f.products, Strings{"prod_S2basilCourseA"}); // pricing.price_details.product
    // What a handover to a collection agency needs: invoice date, address, what was sold.
    EXPECT_EQ(to_unix(f.created.value_or(Timestamp{})), 1744268400);
    EXPECT_EQ(f.customer_address,
              (PostalAddress{"Musterstraße 12", "", "10115", "Berlin", "", "DE"}));
    EXPECT_EQ(f.description, "1 × Fotografie-Meisterkurs (at €49.00 / month)");
    EXPECT_EQ(to_unix(f.period_start.value_or(Timestamp{})), 1744268400);
    EXPECT_FALSE(f.hosted_invoice_url.empty());
    EXPECT_EQ(parse_envelope(current("invoice.payment_failed")).value().account,
              "acct_1R8basilCreatorDE");
}

TEST(CurrentFixtures, InvoicePaidReadsPayments) {
    auto f = facts_of<InvoiceFacts>(event_of(current("invoice.paid")));
    EXPECT_EQ(f.invoice_id, "in_1R8basilInvoice0000002");
    EXPECT_EQ(f.subscription_id, "sub_1R8basilSubscr0000002");
    EXPECT_EQ(f.payment_intent_id, "pi_3R8basilPaidIntent0001");
    EXPECT_EQ(f.status, "paid");
    EXPECT_EQ(f.amount_due, 7800);
    EXPECT_EQ(f.amount_remaining, 0);
    EXPECT_EQ(f.products, (Strings{"prod_S2basilCourseA", "prod_S2basilCourseB"}));
}

TEST(CurrentFixtures, PaymentIntentFailedWithLatestCharge) {
    auto f = facts_of<PaymentFacts>(event_of(current("payment_intent.payment_failed")));
    EXPECT_EQ(f.payment_intent_id, "pi_3R8basilFailedIntent01");
    EXPECT_EQ(f.charge_id, "ch_3R8basilFailedCharge01");
    EXPECT_EQ(f.invoice_id, "");
    EXPECT_EQ(f.customer_id, "cus_S2basilMember001");
    EXPECT_EQ(f.payment_method_id, "pm_1R8basilMastercard0001");
    EXPECT_EQ(f.method, PaymentMethodKind::card);
    EXPECT_EQ(f.card_brand, "mastercard");
    EXPECT_EQ(f.card_exp_month, 8);
    EXPECT_EQ(f.card_exp_year, 2027);
    EXPECT_EQ(f.amount, 4900);
    EXPECT_EQ(f.error.code, "card_declined");
    EXPECT_EQ(f.error.decline_code, "insufficient_funds");
    EXPECT_EQ(f.error.advice_code, "try_again_later");
    EXPECT_EQ(f.error.network_advice_code, "02");
    EXPECT_EQ(f.error.message, "Your card has insufficient funds.");
}

TEST(CurrentFixtures, SepaChargeFailed) {
    Event event = event_of(current("charge.failed"));
    EXPECT_EQ(event.kind, EventKind::payment_failed);
    auto f = facts_of<PaymentFacts>(event);
    EXPECT_EQ(f.charge_id, "py_3R8basilSepaCharge0001");
    EXPECT_EQ(f.payment_intent_id, "pi_3R8basilSepaIntent0001");
    EXPECT_EQ(f.customer_id, "cus_S2basilMember003");
    EXPECT_EQ(f.payment_method_id, "pm_1R8basilSepaDebit0001");
    EXPECT_EQ(f.method, PaymentMethodKind::sepa_debit);
    EXPECT_EQ(f.card_brand, "");
    EXPECT_EQ(f.error.code, "account_closed");
    EXPECT_EQ(f.error.decline_code, "");
    EXPECT_EQ(f.error.reason(), "account_closed");
    EXPECT_EQ(f.error.message, "The customer's bank account has been closed.");
}

TEST(CurrentFixtures, SubscriptionPastDueToUnpaid) {
    auto f = facts_of<SubscriptionFacts>(event_of(current("customer.subscription.updated")));
    EXPECT_EQ(f.subscription_id, "sub_1R8basilSubscr0000005");
    EXPECT_EQ(f.customer_id, "cus_S2basilMember004");
    EXPECT_EQ(f.status, "unpaid");
    EXPECT_EQ(f.previous_status, "past_due");
    EXPECT_EQ(f.cancellation_reason, "");
    EXPECT_EQ(f.products, Strings{"prod_S2basilCourseA"});
}

TEST(CurrentFixtures, CustomerNewDefaultPaymentMethod) {
    Event event = event_of(current("customer.updated"));
    EXPECT_EQ(event.kind, EventKind::default_payment_method_changed);
    auto f = facts_of<PaymentMethodFacts>(event);
    EXPECT_EQ(f.customer_id, "cus_S2basilMember005");
    EXPECT_EQ(f.payment_method_id, "pm_1R8basilNewVisa000001");
    EXPECT_EQ(f.method, PaymentMethodKind::unknown); // an id only
}

TEST(CurrentFixtures, IdsAreDistinct) {
    std::set<std::string> ids;
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(current_dir)) {
        if (entry.path().extension() != ".json") continue;
        ++files;
        auto envelope = parse_envelope(read_file(entry.path()));
        ASSERT_TRUE(envelope.ok()) << entry.path() << ": " << envelope.error();
        EXPECT_TRUE(ids.insert(envelope.value().id).second) << envelope.value().id;
    }
    EXPECT_GT(files, 1u) << "no fixtures in " << current_dir;
    EXPECT_EQ(ids.size(), files);
}

// ---- ids as strings or expanded objects, and the less common shapes ---------------------

json expanded(const std::string& id, json more = json::object()) {
    more["id"] = id;
    return more;
}

TEST(Expanded, CurrentInvoice) {
    json body = current_json("invoice.payment_failed");
    auto& invoice = body["data"]["object"];
    invoice["customer"] = expanded("cus_S2basilMember001", {{"object", "customer"}});
    invoice["parent"]["subscription_details"]["subscription"] =
        expanded("sub_expanded", {{"object", "subscription"}});
    invoice["payments"] = {
        {"object", "list"},
        {"data",
         {{{"is_default", false},
           {"status", "canceled"},
           {"payment", {{"type", "payment_intent"}, {"payment_intent", "pi_old"}}}},
          {{"is_default", true},
           {"status", "open"},
           {"payment",
            {{"type", "payment_intent"}, {"payment_intent", expanded("pi_default")}}}}}}};
    auto f = facts_of<InvoiceFacts>(event_of(body));
    EXPECT_EQ(f.customer_id, "cus_S2basilMember001");
    EXPECT_EQ(f.subscription_id, "sub_expanded");
    EXPECT_EQ(f.payment_intent_id, "pi_default"); // the default one, not the canceled
}

TEST(Expanded, LegacyInvoice) {
    json body = legacy_json("invoice.payment_failed");
    auto& invoice = body["data"]["object"];
    invoice["subscription"] = expanded("sub_x", {{"object", "subscription"}});
    invoice["payment_intent"] = expanded("pi_x", {{"object", "payment_intent"}});
    invoice["charge"] = expanded("ch_x");
    invoice["customer"] = expanded("cus_x", {{"email", "a@example.org"}});
    invoice["lines"]["data"][0]["price"]["product"] = expanded("prod_x", {{"object", "product"}});
    auto f = facts_of<InvoiceFacts>(event_of(body));
    EXPECT_EQ(f.subscription_id, "sub_x");
    EXPECT_EQ(f.payment_intent_id, "pi_x");
    EXPECT_EQ(f.charge_id, "ch_x");
    EXPECT_EQ(f.customer_id, "cus_x");
    EXPECT_EQ(f.products, Strings{"prod_x"});
}

TEST(Expanded, SubscriptionFromLineItemsWhenTheInvoiceHasNoParent) {
    json body = current_json("invoice.paid");
    body["data"]["object"]["parent"] = nullptr;
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(body)).subscription_id, "sub_1R8basilSubscr0000002");
}

TEST(Expanded, PaymentIntentWithExpandedLatestChargeAndOldInvoiceLink) {
    json body = current_json("payment_intent.payment_failed");
    auto& intent = body["data"]["object"];
    intent["latest_charge"] = {
        {"id", "ch_3R8basilFailedCharge01"},
        {"object", "charge"},
        {"status", "failed"},
        {"failure_code", "card_declined"},
        {"outcome", {{"reason", "insufficient_funds"}, {"advice_code", "try_again_later"}}},
        {"payment_method_details",
         {{"type", "card"}, {"card", {{"brand", "mastercard"}, {"network", "maestro"}}}}}};
    intent["invoice"] = expanded("in_old_api", {{"object", "invoice"}});
    intent["customer"] = expanded("cus_S2basilMember001");
    auto f = facts_of<PaymentFacts>(event_of(body));
    EXPECT_EQ(f.charge_id, "ch_3R8basilFailedCharge01");
    EXPECT_EQ(f.card_network, "maestro");
    EXPECT_EQ(f.invoice_id, "in_old_api");
    EXPECT_EQ(f.customer_id, "cus_S2basilMember001");
    EXPECT_EQ(f.error.decline_code, "insufficient_funds");
}

TEST(Expanded, ChargeFailedAdviceFromOutcome) {
    json body = legacy_json("charge.failed");
    auto& charge = body["data"]["object"];
    charge["outcome"]["advice_code"] = "do_not_try_again";
    charge["outcome"]["network_advice_code"] = "03";
    charge["outcome"]["reason"] = "stolen_card";
    charge["invoice"] = "in_legacy";
    charge["payment_intent"] = expanded("pi_e");
    auto f = facts_of<PaymentFacts>(event_of(body));
    EXPECT_EQ(f.error.advice_code, "do_not_try_again");
    EXPECT_EQ(f.error.network_advice_code, "03");
    EXPECT_EQ(f.error.reason(), "stolen_card");
    EXPECT_EQ(f.invoice_id, "in_legacy");
    EXPECT_EQ(f.payment_intent_id, "pi_e");
}

TEST(Expanded, DisputeChargeAndIntent) {
    json body = legacy_json("charge.dispute.created");
    body["data"]["object"]["charge"] = expanded("ch_d", {{"payment_intent", "pi_from_charge"}});
    auto f = facts_of<DisputeFacts>(event_of(body));
    EXPECT_EQ(f.charge_id, "ch_d");
    EXPECT_EQ(f.payment_intent_id, "pi_from_charge");
    body["data"]["object"]["payment_intent"] = expanded("pi_direct");
    EXPECT_EQ(facts_of<DisputeFacts>(event_of(body)).payment_intent_id, "pi_direct");
}

TEST(Expanded, DisputePaymentMethodType) {
    json body = legacy_json("charge.dispute.created");
    auto method = [&] { return facts_of<DisputeFacts>(event_of(body)).method; };
    EXPECT_EQ(method(), PaymentMethodKind::unknown); // this old payload does not say
    auto& dispute = body["data"]["object"];
    dispute["charge"] = expanded("ch_d", {{"payment_method_details", {{"type", "sepa_debit"}}}});
    EXPECT_EQ(method(), PaymentMethodKind::sepa_debit) << "from the expanded charge";
    dispute["payment_method_details"] = {{"type", "card"}};
    EXPECT_EQ(method(), PaymentMethodKind::card) << "the dispute's own details first";
    dispute["payment_method_details"] = {{"type", "klarna"}};
    EXPECT_EQ(method(), PaymentMethodKind::other);
}

TEST(Expanded, SubscriptionProductsAndCancellation) {
    json body = current_json("customer.subscription.updated");
    auto& sub = body["data"]["object"];
    sub["status"] = "canceled";
    sub["cancellation_details"]["reason"] = "payment_failed";
    sub["customer"] = expanded("cus_S2basilMember004");
    auto item = sub["items"]["data"][0];
    item["price"]["product"] = expanded("prod_B", {{"object", "product"}});
    item["plan"]["product"] = "prod_B";
    sub["items"]["data"].push_back(item);
    body["type"] = "customer.subscription.deleted";
    Event event = event_of(body);
    EXPECT_EQ(event.kind, EventKind::subscription_deleted);
    auto f = facts_of<SubscriptionFacts>(event);
    EXPECT_EQ(f.customer_id, "cus_S2basilMember004");
    EXPECT_EQ(f.cancellation_reason, "payment_failed");
    EXPECT_EQ(f.products, (Strings{"prod_S2basilCourseA", "prod_B"}));
}

TEST(Expanded, SetupIntentWithExpandedMethod) {
    json body = legacy_json("setup_intent.succeeded");
    auto& intent = body["data"]["object"];
    intent["payment_method_types"] = {"card", "sepa_debit"};
    intent["payment_method"] = {{"id", "pm_sepa"},
                                {"object", "payment_method"},
                                {"type", "sepa_debit"},
                                {"customer", expanded("cus_from_pm")}};
    auto f = facts_of<PaymentMethodFacts>(event_of(body));
    EXPECT_EQ(f.payment_method_id, "pm_sepa");
    EXPECT_EQ(f.method, PaymentMethodKind::sepa_debit);
    EXPECT_EQ(f.customer_id, "cus_from_pm");
    intent["payment_method"] = "pm_sepa";
    intent["customer"] = expanded("cus_on_intent");
    f = facts_of<PaymentMethodFacts>(event_of(body));
    EXPECT_EQ(f.method, PaymentMethodKind::unknown); // two types allowed, method not expanded
    EXPECT_EQ(f.customer_id, "cus_on_intent");
}

TEST(Expanded, PaymentMethodKinds) {
    json body = legacy_json("payment_method.attached");
    body["data"]["object"]["type"] = "sepa_debit";
    EXPECT_EQ(facts_of<PaymentMethodFacts>(event_of(body)).method, PaymentMethodKind::sepa_debit);
    body["data"]["object"]["type"] = "paypal";
    EXPECT_EQ(facts_of<PaymentMethodFacts>(event_of(body)).method, PaymentMethodKind::other);
}

TEST(CustomerUpdated, DefaultPaymentMethodChanges) {
    json body = current_json("customer.updated");
    auto& settings = body["data"]["object"]["invoice_settings"];
    settings["default_payment_method"] = {{"id", "pm_exp"},
                                          {"object", "payment_method"},
                                          {"type", "card"},
                                          {"card", {{"exp_month", 12}, {"exp_year", 2030}}}};
    auto f = facts_of<PaymentMethodFacts>(event_of(body));
    EXPECT_EQ(f.payment_method_id, "pm_exp");
    EXPECT_EQ(f.method, PaymentMethodKind::card);
    EXPECT_EQ(f.card_exp_month, 12);

    body["data"]["previous_attributes"]["invoice_settings"]["default_payment_method"] = nullptr;
    EXPECT_EQ(facts_of<PaymentMethodFacts>(event_of(body)).payment_method_id, "pm_exp");

    settings["default_payment_method"] = nullptr; // removed, not replaced
    EXPECT_EQ(ignored_reason(body.dump()), "customer.updated without a new default payment method");

    body["data"]["previous_attributes"] = {{"email", "old@example.org"}};
    EXPECT_EQ(ignored_reason(body.dump()), "customer.updated without a new default payment method");
}

TEST(CustomerUpdated, DefaultSourceChange) {
    json body = legacy_json("customer.updated");
    body["data"]["previous_attributes"] = {{"default_source", nullptr}};
    auto f = facts_of<PaymentMethodFacts>(event_of(body));
    EXPECT_EQ(f.customer_id, "cus_00000000000000");
    EXPECT_EQ(f.payment_method_id, "card_000000000000000000000000");
    body["data"]["object"]["default_source"] = {
        {"id", "card_1"}, {"object", "card"}, {"exp_month", 1}, {"exp_year", 2031}};
    f = facts_of<PaymentMethodFacts>(event_of(body));
    EXPECT_EQ(f.payment_method_id, "card_1");
    EXPECT_EQ(f.method, PaymentMethodKind::card);
    EXPECT_EQ(f.card_exp_year, 2031);
}

TEST(Routing, UnknownTypesAreIgnored) {
    json body = legacy_json("invoice.paid");
    body["type"] = "customer.created";
    EXPECT_EQ(ignored_reason(body.dump()), "unhandled event type customer.created");
    body["type"] = "invoice.paid.extra";
    EXPECT_EQ(ignored_reason(body.dump()), "unhandled event type invoice.paid.extra");
}

// ---- hostile input ------------------------------------------------------------------------

json minimal_event() {
    return {{"id", "evt_1"},
            {"object", "event"},
            {"type", "invoice.paid"},
            {"created", 1700000000},
            {"data", {{"object", {{"id", "in_1"}, {"object", "invoice"}}}}}};
}

TEST(Hostile, NotAnEvent) {
    EXPECT_EQ(envelope_error("not json"), "malformed JSON at byte 2");
    EXPECT_EQ(envelope_error("{\"id\": \"evt_1\","), "malformed JSON at byte 16"); // the end
    EXPECT_EQ(envelope_error(""), "empty body");
    EXPECT_EQ(envelope_error(std::string(1 << 20, ' ')), "empty body");
    EXPECT_EQ(envelope_error(std::string(1 << 20, ' ') + "x").rfind("malformed JSON", 0), 0u);
    EXPECT_EQ(envelope_error("[]"), "not an event object");
    EXPECT_EQ(envelope_error("[{\"object\":\"event\"}]"), "not an event object");
    EXPECT_EQ(envelope_error("42"), "not an event object");
    EXPECT_EQ(envelope_error("null"), "not an event object");
    EXPECT_EQ(envelope_error("\"event\""), "not an event object");
    EXPECT_EQ(envelope_error("{}"), "not an event object");
    EXPECT_EQ(envelope_error(std::string("{\"a\":\"\xff\"}")).rfind("malformed JSON", 0), 0u);
    // nlohmann's lexer takes a NUL byte for the end of input; JSON text never holds one.
    std::string valid_then_nul = legacy("invoice.paid") + std::string(1, '\0') + "garbage";
    EXPECT_EQ(envelope_error(valid_then_nul),
              "malformed JSON at byte " + std::to_string(legacy("invoice.paid").size() + 1));
    EXPECT_EQ(event_error(std::string("not json")), "malformed JSON at byte 2");

    json body = legacy_json("invoice.payment_failed");
    body["object"] = "invoice";
    EXPECT_EQ(envelope_error(body.dump()), "not an event object");
    body["object"] = 7;
    EXPECT_EQ(envelope_error(body.dump()), "not an event object");
    EXPECT_EQ(envelope_error(body["data"]["object"].dump()), "not an event object");
}

TEST(Hostile, EnvelopeFields) {
    auto with = [](const char* key, json value) {
        json body = minimal_event();
        if (value.is_discarded())
            body.erase(key);
        else
            body[key] = std::move(value);
        return envelope_error(body.dump());
    };
    const json absent = json(json::value_t::discarded);
    EXPECT_EQ(with("id", absent), "event has no id");
    EXPECT_EQ(with("id", ""), "event has no id");
    EXPECT_EQ(with("id", nullptr), "event has no id");
    EXPECT_EQ(with("id", 42), "event.id: expected a string");
    EXPECT_EQ(with("type", absent), "event has no type");
    EXPECT_EQ(with("type", json::array()), "event.type: expected a string");
    EXPECT_EQ(with("data", absent), "event has no data.object");
    EXPECT_EQ(with("data", json::object()), "event has no data.object");
    EXPECT_EQ(with("data", "x"), "event.data: expected an object");
    EXPECT_EQ(with("data", {{"object", "in_1"}}), "event has no data.object");
    EXPECT_EQ(with("data", {{"object", nullptr}}), "event has no data.object");
    EXPECT_EQ(with("account", 5), "event.account: expected a string");
    EXPECT_EQ(with("account", nullptr), "");
    EXPECT_EQ(with("created", "yesterday"), "event.created: expected an integer");
    EXPECT_EQ(with("created", 1.5), "event.created: expected an integer");
    EXPECT_EQ(with("created", -1), "event.created: expected a unix time");
    EXPECT_EQ(with("created", std::numeric_limits<std::uint64_t>::max()),
              "event.created: expected an integer in range");
    EXPECT_EQ(with("created", absent), "");
    EXPECT_EQ(envelope_error(R"({"id":"evt_1","object":"event","type":"x","created":1e999,
                                 "data":{"object":{}}})")
                  .empty(),
              false);
    EXPECT_EQ(
        envelope_error(
            R"({"id":"evt_1","object":"event","type":"x","created":123456789012345678901234567890,
                                 "data":{"object":{}}})"),
        "event.created: expected an integer");
}

TEST(Hostile, ObjectFieldsOfTheWrongType) {
    json body = legacy_json("invoice.payment_failed");
    auto& invoice = body["data"]["object"];
    EXPECT_EQ(envelope_error(body.dump()), "");

    json broken = body;
    broken["data"]["object"]["amount_due"] = "2000";
    EXPECT_EQ(envelope_error(broken.dump()), ""); // the envelope is fine: store, then poison
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.amount_due: expected an integer");

    broken = body;
    broken["data"]["object"]["lines"]["data"] = {{"object", "not a list"}};
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.lines.data: expected an array");
    broken["data"]["object"]["lines"]["data"] = {5};
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.lines.data[0]: expected an object");
    broken = body;
    broken["data"]["object"]["attempt_count"] = 1LL << 40;
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.attempt_count: expected a small integer");
    broken = body;
    broken["data"]["object"]["customer"] = 12;
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.customer: expected an id or an object");
    broken = body;
    broken["data"]["object"]["next_payment_attempt"] = 1e12;
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object.next_payment_attempt: expected an integer");
    broken = body;
    broken["data"]["object"]["object"] = "charge";
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.object: expected object \"invoice\", got \"charge\"");
    broken = body;
    broken["data"]["object"].erase("id");
    EXPECT_EQ(event_error(broken), "invoice.payment_failed: invoice without an id");
    broken = body;
    broken["data"]["previous_attributes"] = 3;
    EXPECT_EQ(event_error(broken),
              "invoice.payment_failed: data.previous_attributes: expected an object");
    (void)invoice;
}

TEST(Hostile, MissingIdentities) {
    json body = minimal_event();
    auto error_for = [&](const char* type, json object) {
        body["type"] = type;
        body["data"]["object"] = std::move(object);
        return event_error(body);
    };
    EXPECT_EQ(error_for("payment_intent.payment_failed", json::object()),
              "payment_intent.payment_failed: payment_intent without an id");
    EXPECT_EQ(error_for("charge.failed", {{"id", nullptr}}), "charge.failed: charge without an id");
    EXPECT_EQ(error_for("charge.dispute.created", {{"status", "lost"}}),
              "charge.dispute.created: dispute without an id or a charge");
    EXPECT_EQ(error_for("customer.subscription.updated", json::object()),
              "customer.subscription.updated: subscription without an id");
    EXPECT_EQ(error_for("setup_intent.succeeded", {{"id", "seti_1"}}),
              "setup_intent.succeeded: setup_intent without a payment method");
    EXPECT_EQ(error_for("mandate.updated", json::object()),
              "mandate.updated: mandate without an id");
    EXPECT_EQ(error_for("account.application.deauthorized", json::object()),
              "account.application.deauthorized: no account in event.account or data.object.id");
    EXPECT_EQ(error_for("customer.updated", json::object()), ""); // nothing changed: ignored
}

TEST(Hostile, DeepNesting) {
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    EXPECT_EQ(envelope_error(deep), "JSON nested deeper than 128 levels");
    EXPECT_EQ(event_error(deep), "JSON nested deeper than 128 levels");
    EXPECT_EQ(envelope_error(std::string(100000, '{')), "JSON nested deeper than 128 levels");

    auto nested_in_object = [](int levels) {
        std::string inner = std::string(levels, '[') + std::string(levels, ']');
        return R"({"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","x":)" +
               inner + "}}}";
    };
    EXPECT_EQ(event_error(nested_in_object(120)), "");
    EXPECT_EQ(event_error(nested_in_object(130)), "JSON nested deeper than 128 levels");
    // The limit exactly (the event, data and object are three levels), the deepest container
    // empty or holding a value, arrays or objects: each level counts as its bracket does.
    EXPECT_EQ(event_error(nested_in_object(125)), "");
    EXPECT_EQ(event_error(nested_in_object(126)), "JSON nested deeper than 128 levels");
    // `padded`: a string of 200 brackets beside them, so that the parsed tree is measured (a body
    // of at most 128 brackets cannot be too deep, and is not).
    auto holding = [](int levels, const std::string& open, const std::string& close,
                      bool padded = false) {
        std::string inner = "1";
        for (int i = 0; i < levels; ++i)
            inner = open + inner + close;
        const std::string pad = padded ? R"("pad":")" + std::string(200, '[') + "\"," : "";
        return R"({"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1",)" +
               pad + R"("x":)" + inner + "}}}";
    };
    for (const bool padded : {false, true}) {
        SCOPED_TRACE(padded ? "padded" : "not padded");
        EXPECT_EQ(event_error(holding(125, "[", "]", padded)), "");
        EXPECT_EQ(event_error(holding(126, "[", "]", padded)),
                  "JSON nested deeper than 128 levels");
        EXPECT_EQ(event_error(holding(125, R"({"a":)", "}", padded)), "");
        EXPECT_EQ(event_error(holding(126, R"({"a":)", "}", padded)),
                  "JSON nested deeper than 128 levels");
        // An object and an array at each level: 3 + 2 × 62 = 127, 3 + 2 × 63 = 129.
        EXPECT_EQ(event_error(holding(62, R"({"a":[)", "]}", padded)), "");
        EXPECT_EQ(event_error(holding(63, R"({"a":[)", "]}", padded)),
                  "JSON nested deeper than 128 levels");
    }
    // Beside each array of the chain an object: the innermost one is the 128th level, then the
    // 129th.
    EXPECT_EQ(envelope_error(holding(124, R"([{"b":2},)", "]")), "");
    EXPECT_EQ(envelope_error(holding(125, R"([{"b":2},)", "]")),
              "JSON nested deeper than 128 levels");
    // Many brackets, none too deep: at each level 300 objects of three levels beside the next.
    std::string wide = "[";
    for (int i = 0; i < 300; ++i)
        wide += R"({"a":[[]]},)";
    EXPECT_EQ(event_error(holding(1, wide, "]")), "");
    EXPECT_EQ(event_error(holding(122, wide, "]")), "");
    EXPECT_EQ(event_error(holding(123, wide, "]")), "JSON nested deeper than 128 levels");
    // Too deep wins over malformed and over a NUL, wherever they are.
    EXPECT_EQ(envelope_error(std::string(129, '[') + "1,]" + std::string(128, ']')),
              "JSON nested deeper than 128 levels");
    EXPECT_EQ(envelope_error(std::string(129, '[') + std::string("\0", 1) + std::string(129, ']')),
              "JSON nested deeper than 128 levels");
    EXPECT_EQ(envelope_error(std::string(128, '[') + "1,]" + std::string(127, ']')),
              "malformed JSON at byte 131");

    // Brackets inside strings are text, escaped quotes do not end a string.
    json body = minimal_event();
    body["data"]["object"]["description"] =
        std::string(5000, '[') + "\\\"" + std::string(5000, '{');
    EXPECT_EQ(event_error(body), "");
}

// Every field inside data.object of every handled payload, replaced by a value of another JSON
// type (rotating through them, to stay fast), and now and then its parent too: a clean error
// or a clean result, never a crash. Run under ASan/UBSan as well.
TEST(Hostile, EveryFieldWithAnotherType) {
    const json replacements[] = {nullptr,
                                 42,
                                 -1,
                                 1.5,
                                 "x",
                                 "",
                                 true,
                                 json::array(),
                                 json::object(),
                                 json::array({1, "a", nullptr}),
                                 std::numeric_limits<std::uint64_t>::max()};
    const std::size_t n = std::size(replacements);
    std::size_t bodies = 0;
    for (const auto& dir : {legacy_dir, current_dir}) {
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() != ".json") continue;
            json body = json::parse(read_file(entry.path()));
            if (std::holds_alternative<Ignored>(parse_event(body.dump()).value())) continue;
            const json flat = body.at("data").at("object").flatten();
            auto mutate = [&](const json::json_pointer& ptr, const json& replacement) {
                json saved = std::exchange(body[ptr], replacement);
                (void)parse_event(body.dump());
                body[ptr] = std::move(saved);
                ++bodies;
            };
            for (const auto& [pointer, value] : flat.items()) {
                auto ptr = "/data/object"_json_pointer / json::json_pointer(pointer);
                mutate(ptr, replacements[bodies % n]);
                if (bodies % 5 == 0 && ptr.parent_pointer() != "/data/object"_json_pointer)
                    mutate(ptr.parent_pointer(), replacements[bodies % n]);
            }
        }
    }
    EXPECT_GT(bodies, 1000u);
}

TEST(Hostile, NullsEverywhere) {
    for (const auto& dir : {legacy_dir, current_dir}) {
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() != ".json") continue;
            json body = json::parse(read_file(entry.path()));
            json flat = body["data"]["object"].flatten();
            for (auto& [key, value] : flat.items())
                if (key != "/id") value = nullptr;
            body["data"]["object"] = flat.unflatten();
            SCOPED_TRACE(entry.path().filename().string());
            (void)parse_event(body.dump()); // must not crash; the id alone may not be enough
        }
    }
    json body = legacy_json("invoice.payment_failed");
    for (auto& [key, value] : body["data"]["object"].items())
        if (key != "id") value = nullptr;
    auto f = facts_of<InvoiceFacts>(event_of(body));
    EXPECT_EQ(f.invoice_id, "in_000000000000000000000000");
    EXPECT_EQ(f.amount_due, 0);
    EXPECT_TRUE(f.products.empty());
}

TEST(Hostile, TruncatedBodies) {
    for (const char* name : {"invoice.payment_failed", "payment_intent.payment_failed"}) {
        std::string body = legacy(name);
        for (std::size_t cut = 0; cut + 1 < body.size(); cut += 53) {
            std::string_view prefix(body.data(), cut);
            EXPECT_FALSE(parse_envelope(prefix).ok()) << cut;
            EXPECT_FALSE(parse_event(prefix).ok()) << cut;
        }
    }
}

TEST(Hostile, EnvelopeMessages) {
    EXPECT_EQ(parse_envelope(std::string(129, '[') + std::string(129, ']')).error(),
              "JSON nested deeper than 128 levels");
    EXPECT_EQ(parse_envelope(std::string("{\"id\":\"a\0b\"}", 12)).error(),
              "malformed JSON at byte 9");
    EXPECT_EQ(parse_envelope(" \r\n").error(), "empty body");
    EXPECT_EQ(parse_envelope("{\"object\":\"event\",}").error(), "malformed JSON at byte 19");
    EXPECT_EQ(parse_envelope("[]").error(), "not an event object");
}

TEST(Hostile, EnvelopeUnescapesAndKeepsTheLastDuplicate) {
    auto envelope = parse_envelope(
        R"({"object":"ev\u0065nt","id":"x","\u0069d":"\u0065vt_\ud83d\ude00","type":"a\/b",)"
        R"("account":"acct_\u00e9","created":5,"created":1700000000,"data":{"object":{}}})");
    ASSERT_TRUE(envelope.ok()) << envelope.error();
    EXPECT_EQ(envelope.value().id, "evt_\xF0\x9F\x98\x80");
    EXPECT_EQ(envelope.value().type, "a/b");
    EXPECT_EQ(envelope.value().account, "acct_\xC3\xA9");
    EXPECT_EQ(to_unix(envelope.value().created), 1700000000);
}

// The parser (simdjson) reads every body as nlohmann, the JSON library of the rest of the code,
// reads it: the same bodies accepted, the same positions for those refused, the last of a
// duplicated key, a byte order mark skipped and a number beyond 64 bits read as a double.
TEST(Hostile, JsonIsReadAsNlohmannReadsIt) {
    const std::string body = legacy_json("invoice.payment_failed").dump();
    ASSERT_EQ(event_error(body), "");

    EXPECT_EQ(event_error("\xEF\xBB\xBF" + body), "");
    EXPECT_EQ(event_error(" \xEF\xBB\xBF" + body), "malformed JSON at byte 2");
    EXPECT_EQ(envelope_error("\xEF\xBB\xBF\xEF\xBB\xBF" + body), "malformed JSON at byte 4");
    EXPECT_EQ(event_error("\xEF\xBB\xBF\xEF\xBB\xBF" + body), "malformed JSON at byte 4");

    std::string huge = body;
    huge.insert(huge.rfind('}'),
                R"(,"x_huge":123456789012345678901234567890,"x_neg":-9223372036854775809)");
    ASSERT_EQ(event_error(huge), "");
    std::string huge_amount = body;
    const auto at = huge_amount.find("\"amount_due\":") + std::string("\"amount_due\":").size();
    huge_amount.replace(at, huge_amount.find(',', at) - at, "99999999999999999999");
    EXPECT_EQ(event_error(huge_amount),
              "invoice.payment_failed: data.object.amount_due: expected an integer");

    json marked = legacy_json("invoice.payment_failed");
    marked["data"]["object"]["amount_due"] = 424242;
    auto amount_with = [&](const std::string& fields) {
        std::string text = marked.dump();
        const std::string mark = R"("amount_due":424242)";
        text.replace(text.find(mark), mark.size(), fields);
        auto parsed = parse_event(text);
        EXPECT_TRUE(parsed.ok()) << parsed.error();
        return parsed.ok() ? facts_of<InvoiceFacts>(std::get<Event>(parsed.value())).amount_due
                           : -1;
    };
    EXPECT_EQ(amount_with(R"("amount_due":1,"amount_due":7)"), 7);
    EXPECT_EQ(amount_with(R"("amount_due":7,"amount_due":1)"), 1);
    EXPECT_EQ(amount_with(R"("amount_due":7,"amount_due":null)"), 0);

    for (const char* bad : {R"({"id":"\ud800"})", R"({"id":"\udc00x"})", "{\"id\":\"\xC0\x80\"}",
                            R"({"id":01})", R"({"id":1e999})", "{\"id\":\"\x01\"}"}) {
        const std::string text = bad;
        std::size_t position = 0;
        struct Finder : JsonSaxPass {
            std::size_t* at;
            bool parse_error(std::size_t p, const std::string&, const json::exception&) override {
                *at = p;
                return false;
            }
        } finder;
        finder.at = &position;
        EXPECT_FALSE(json::sax_parse(text, &finder)) << text;
        EXPECT_EQ(envelope_error(text), "malformed JSON at byte " + std::to_string(position))
            << text;
        EXPECT_EQ(event_error(text), "malformed JSON at byte " + std::to_string(position)) << text;
    }
}

// ---- instalment plans: the subscription's metadata snapshot on the invoice ----------------

TEST(InstalmentPlan, ReadFromEveryPlaceTheSnapshotLives) {
    json current = current_json("invoice.payment_failed");
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(current)).plan_instalments, 0);
    current["data"]["object"]["parent"]["subscription_details"]["metadata"] = {
        {"installments", "6"}};
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(current)).plan_instalments, 6);

    json legacy = legacy_json("invoice.payment_failed");
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(legacy)).plan_instalments, 0);
    legacy["data"]["object"]["subscription_details"] = {{"metadata", {{"instalments", "3"}}}};
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(legacy)).plan_instalments, 3);

    json line = legacy_json("invoice.payment_failed");
    auto& lines = line["data"]["object"]["lines"]["data"];
    ASSERT_FALSE(lines.empty());
    lines[0]["type"] = "subscription";
    lines[0]["metadata"] = {{"installments", "12"}};
    EXPECT_EQ(facts_of<InvoiceFacts>(event_of(line)).plan_instalments, 12);
}

TEST(InstalmentPlan, CountsThatAreNoPlanAreIgnored) {
    for (const char* text : {"1", "0", "121", "-3", "3.5", "three", "", " 4", "0004"}) {
        json body = current_json("invoice.payment_failed");
        body["data"]["object"]["parent"]["subscription_details"]["metadata"] = {
            {"installments", text}};
        EXPECT_EQ(facts_of<InvoiceFacts>(event_of(body)).plan_instalments, 0) << text;
    }
}

} // namespace
} // namespace dunning::webhook
