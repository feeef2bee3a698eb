// Stripe event JSON → core events: real API 2020-08-27 payloads from the Stripe CLI, hand-written
// 2025-03-31 ("basil") payloads, expanded ids, and hostile input.
#include "webhook/event_parser.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace dunning::webhook {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

const fs::path legacy_dir = fs::path(DUNNING_FIXTURES_DIR) / "api-2020-08-27";
const fs::path current_dir = fs::path(DUNNING_SOURCE_DIR) / "tests/fixtures/stripe/api-2025-03-31";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string legacy(const std::string& name) { return read_file(legacy_dir / (name + ".json")); }
std::string current(const std::string& name) { return read_file(current_dir / (name + ".json")); }
json legacy_json(const std::string& name) { return json::parse(legacy(name)); }
json current_json(const std::string& name) { return json::parse(current(name)); }

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
Event event_of(const json& body) { return event_of(body.dump()); }

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
std::string event_error(const json& body) { return event_error(body.dump()); }

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

TEST(LegacyFixtures, EveryFileIsExpected) {
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(legacy_dir)) {
        if (entry.path().extension() != ".json") continue;
        ++files;
        auto stem = entry.path().stem().string();
        bool known = std::any_of(std::begin(legacy_expectations), std::end(legacy_expectations),
                                 [&](const Expected& e) { return stem == e.file; });
        EXPECT_TRUE(known) << stem << " has no expectation";
    }
    EXPECT_EQ(files, std::size(legacy_expectations));
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
    EXPECT_EQ(f.hosted_invoice_url.rfind("https://invoice.stripe.com/i/acct_0000000000000000/", 0), 0u);
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
    EXPECT_EQ(f.payment_intent_id, ""); // no `payments` in this webhook
    EXPECT_EQ(f.charge_id, "");
    EXPECT_EQ(f.currency, "eur");
    EXPECT_EQ(f.amount_due, 4900);
    EXPECT_EQ(f.billing_reason, "subscription_cycle");
    ASSERT_TRUE(f.next_payment_attempt);
    EXPECT_EQ(to_unix(*f.next_payment_attempt), 1744272000 + 3 * 86400 + 3600);
    EXPECT_EQ(f.products, Strings{"prod_S2basilCourseA"}); // pricing.price_details.product
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
    for (const auto& entry : fs::directory_iterator(current_dir)) {
        if (entry.path().extension() != ".json") continue;
        auto envelope = parse_envelope(read_file(entry.path()));
        ASSERT_TRUE(envelope.ok()) << entry.path() << ": " << envelope.error();
        EXPECT_TRUE(ids.insert(envelope.value().id).second) << envelope.value().id;
    }
    EXPECT_EQ(ids.size(), 6u);
}

} // namespace
} // namespace dunning::webhook
