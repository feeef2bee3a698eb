#include "webhook/stripe_objects.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace dunning::webhook {

namespace {

// A read fails on the first wrongly typed field, on an object of another kind than the
// event promised, or when the field that identifies the object is missing.
std::optional<std::string> problem(const JsonReader& r, std::string_view kind, bool identified,
                                   std::string_view missing) {
    if (r.failed()) return r.error();
    if (std::string object = r.string("object"); !object.empty() && object != kind)
        return r.path() + ": expected object \"" + std::string(kind) + "\", got \"" + object + "\"";
    if (!identified) return std::string(missing);
    return std::nullopt;
}

void fill(std::string& field, std::string value) {
    if (field.empty()) field = std::move(value);
}

void fill(int& field, int value) {
    if (field == 0) field = value;
}

void add_unique(std::vector<std::string>& ids, std::string id) {
    if (id.empty() || std::find(ids.begin(), ids.end(), id) != ids.end()) return;
    ids.push_back(std::move(id));
}

// Invoice line items and subscription items name their product through the price (or the
// older plan); line items since 2025-03-31 through pricing.price_details.
void add_products(std::vector<std::string>& products, const JsonReader& item) {
    add_unique(products, item.expanded("price").id("product"));
    add_unique(products, item.expanded("plan").id("product"));
    add_unique(products, item.object("pricing").object("price_details").id("product"));
}

std::string invoice_subscription(const JsonReader& invoice, const std::vector<JsonReader>& lines) {
    if (std::string id = invoice.id("subscription"); !id.empty()) return id; // ≤ 2025-02-24
    auto details = invoice.object("parent").object("subscription_details");
    if (std::string id = details.id("subscription"); !id.empty()) return id;
    for (const JsonReader& line : lines) {
        auto item = line.object("parent").object("subscription_item_details");
        if (std::string id = item.id("subscription"); !id.empty()) return id;
        if (std::string id = line.id("subscription"); !id.empty()) return id;
    }
    return {};
}

// An instalment plan names its number of instalments in the subscription's metadata
// ("installments"; a subscription schedule's phase metadata becomes the subscription's). The
// invoice keeps a snapshot: subscription_details until 2025-02-24, parent.subscription_details
// since; a subscription line item's metadata is the subscription's too. Counts outside 2..120
// are not a plan.
int plan_instalments(const JsonReader& invoice, const std::vector<JsonReader>& lines) {
    const auto count = [](const JsonReader& metadata) {
        for (const char* key : {"installments", "instalments"}) {
            const std::string text = metadata.string(key);
            if (text.empty() || text.size() > 3 ||
                text.find_first_not_of("0123456789") != std::string::npos)
                continue;
            const int n = std::stoi(text);
            if (n >= 2 && n <= 120) return n;
        }
        return 0;
    };
    if (int n = count(invoice.object("subscription_details").object("metadata"))) return n;
    auto parent = invoice.object("parent").object("subscription_details");
    if (int n = count(parent.object("metadata"))) return n;
    for (const JsonReader& line : lines)
        if (line.string("type") == "subscription" ||
            !line.object("parent").object("subscription_item_details").id("subscription").empty())
            if (int n = count(line.object("metadata"))) return n;
    return 0;
}

// payments.data[] (2025-03-31 on, often left out of webhooks): the paid payment if there is
// one, else the default one created at finalization, else the first.
void fill_invoice_payment(const JsonReader& invoice, InvoiceFacts& facts) {
    auto rank = [](const JsonReader& p) {
        if (p.string("status") == "paid") return 2;
        return p.boolean("is_default").value_or(false) ? 1 : 0;
    };
    auto payments = invoice.list("payments");
    const JsonReader* best = nullptr;
    for (const JsonReader& p : payments)
        if (!best || rank(p) > rank(*best)) best = &p;
    if (!best) return;
    auto payment = best->object("payment");
    fill(facts.payment_intent_id, payment.id("payment_intent"));
    fill(facts.charge_id, payment.id("charge"));
}

void read_method_details(const JsonReader& method, PaymentMethodFacts& facts) {
    if (method.string("object") == "card") { // a legacy card source (card_…)
        facts.method = PaymentMethodKind::card;
        facts.card_exp_month = method.small_integer("exp_month");
        facts.card_exp_year = method.small_integer("exp_year");
        return;
    }
    facts.method = payment_method_kind(method.string("type"));
    auto card = method.object("card");
    facts.card_exp_month = card.small_integer("exp_month");
    facts.card_exp_year = card.small_integer("exp_year");
}

} // namespace

PaymentMethodKind payment_method_kind(std::string_view type) {
    if (type.empty()) return PaymentMethodKind::unknown;
    if (type == "card") return PaymentMethodKind::card;
    if (type == "sepa_debit") return PaymentMethodKind::sepa_debit;
    return PaymentMethodKind::other;
}

Read<InvoiceFacts> read_invoice(const JsonReader& in) {
    InvoiceFacts f;
    f.invoice_id = in.string("id");
    f.number = in.string("number");
    f.customer_id = in.id("customer");
    f.customer_email = in.string("customer_email");
    f.customer_name = in.string("customer_name");
    f.status = in.string("status");
    f.billing_reason = in.string("billing_reason");
    f.currency = in.string("currency");
    f.amount_due = in.integer("amount_due");
    f.amount_remaining = in.integer("amount_remaining");
    f.attempt_count = in.small_integer("attempt_count");
    f.next_payment_attempt = in.time("next_payment_attempt");
    f.due_date = in.time("due_date");
    f.hosted_invoice_url = in.string("hosted_invoice_url");
    auto lines = in.list("lines");
    f.subscription_id = invoice_subscription(in, lines);
    f.payment_intent_id = in.id("payment_intent"); // ≤ 2025-02-24
    f.charge_id = in.id("charge");                 // ≤ 2025-02-24
    fill_invoice_payment(in, f);
    for (const JsonReader& line : lines)
        add_products(f.products, line);
    f.plan_instalments = plan_instalments(in, lines);
    f.created = in.time("created");
    const auto address = in.object("customer_address");
    f.customer_address = {address.string("line1"),       address.string("line2"),
                          address.string("postal_code"), address.string("city"),
                          address.string("state"),       address.string("country")};
    for (const JsonReader& line : lines) {
        const auto text = line.string("description");
        if (!text.empty()) f.description += (f.description.empty() ? "" : "; ") + text;
        // Evidence for a handover only: a period Stripe left odd never makes the event unusable.
        if (const auto period = line.object("period"); !f.period_start && period.has("start")) {
            const std::int64_t start = period.integer("start");
            if (plausible_unix_time(start)) f.period_start = from_unix(start);
        }
    }
    if (auto e = problem(in, "invoice", !f.invoice_id.empty(), "invoice without an id"))
        return err(*e);
    return f;
}

namespace {

void fill_from_method(const JsonReader& method, PaymentFacts& f) {
    fill(f.payment_method_id, method.string("id"));
    if (f.method == PaymentMethodKind::unknown)
        f.method = payment_method_kind(method.string("type"));
    auto card = method.object("card");
    fill(f.card_brand, card.string("brand"));
    fill(f.card_exp_month, card.small_integer("exp_month"));
    fill(f.card_exp_year, card.small_integer("exp_year"));
}

void read_error(const JsonReader& error, PaymentFacts& f) {
    f.error.code = error.string("code");
    f.error.decline_code = error.string("decline_code");
    f.error.advice_code = error.string("advice_code");
    f.error.network_advice_code = error.string("network_advice_code");
    f.error.message = error.string("message");
    fill_from_method(error.expanded("payment_method"), f);
    if (f.method == PaymentMethodKind::unknown)
        f.method = payment_method_kind(error.string("payment_method_type"));
}

// A failed charge says why in failure_code and its outcome; for cards outcome.reason is the
// issuer's decline code. Only read from failed charges: a paid one may carry a Radar reason.
void fill_charge_failure(const JsonReader& charge, PaymentFacts& f) {
    if (charge.string("status") != "failed" && !charge.has("failure_code")) return;
    auto outcome = charge.object("outcome");
    fill(f.error.code, charge.string("failure_code"));
    if (f.method == PaymentMethodKind::card || f.method == PaymentMethodKind::unknown)
        fill(f.error.decline_code, outcome.string("reason"));
    fill(f.error.advice_code, outcome.string("advice_code"));
    fill(f.error.network_advice_code, outcome.string("network_advice_code"));
    fill(f.error.message, charge.string("failure_message"));
}

// Fills what the payment intent left open from one of its charges (or reads a charge event).
void fill_from_charge(const JsonReader& charge, PaymentFacts& f) {
    fill(f.charge_id, charge.string("id"));
    fill(f.payment_intent_id, charge.id("payment_intent"));
    fill(f.invoice_id, charge.id("invoice")); // ≤ 2025-02-24
    fill(f.customer_id, charge.id("customer"));
    fill(f.payment_method_id, charge.id("payment_method"));
    auto details = charge.object("payment_method_details");
    if (f.method == PaymentMethodKind::unknown)
        f.method = payment_method_kind(details.string("type"));
    auto card = details.object("card");
    fill(f.card_brand, card.string("brand"));
    fill(f.card_network, card.string("network"));
    fill(f.card_exp_month, card.small_integer("exp_month"));
    fill(f.card_exp_year, card.small_integer("exp_year"));
    fill_charge_failure(charge, f);
}

// Current intents name their latest charge (expanded on request); older ones carried
// charges.data[], newest first.
std::optional<JsonReader> latest_charge(const JsonReader& intent) {
    if (intent.is_expanded("latest_charge")) return intent.object("latest_charge");
    auto charges = intent.list("charges");
    if (!charges.empty()) return charges.front();
    return std::nullopt;
}

} // namespace

Read<PaymentFacts> read_payment_intent(const JsonReader& in) {
    PaymentFacts f;
    f.payment_intent_id = in.string("id");
    f.customer_id = in.id("customer");
    f.invoice_id = in.id("invoice"); // ≤ 2025-02-24
    f.amount = in.integer("amount");
    f.currency = in.string("currency");
    f.charge_id = in.id("latest_charge");
    // The failed method is named in the error; the intent's own may already be a new one.
    read_error(in.object("last_payment_error"), f);
    fill(f.payment_method_id, in.id("payment_method"));
    fill_from_method(in.expanded("payment_method"), f);
    if (auto charge = latest_charge(in)) fill_from_charge(*charge, f);
    if (auto e = problem(in, "payment_intent", !f.payment_intent_id.empty(),
                         "payment_intent without an id"))
        return err(*e);
    return f;
}

Read<PaymentFacts> read_charge(const JsonReader& in) {
    PaymentFacts f;
    f.charge_id = in.string("id");
    f.amount = in.integer("amount");
    f.currency = in.string("currency");
    fill_from_charge(in, f);
    if (auto e = problem(in, "charge", !f.charge_id.empty(), "charge without an id"))
        return err(*e);
    return f;
}

Read<DisputeFacts> read_dispute(const JsonReader& in) {
    DisputeFacts f;
    f.dispute_id = in.string("id");
    f.charge_id = in.id("charge");
    f.payment_intent_id = in.id("payment_intent");
    fill(f.payment_intent_id, in.expanded("charge").id("payment_intent"));
    f.status = in.string("status");
    f.reason = in.string("reason");
    f.amount = in.integer("amount");
    f.currency = in.string("currency");
    // A SEPA debit's dispute cannot be defended: the method decides whether it is lost at once.
    f.method = payment_method_kind(in.object("payment_method_details").string("type"));
    if (f.method == PaymentMethodKind::unknown)
        f.method = payment_method_kind(
            in.expanded("charge").object("payment_method_details").string("type"));
    // Old dispute events name only the charge; either identifies the dispute for us.
    bool identified = !f.dispute_id.empty() || !f.charge_id.empty();
    if (auto e = problem(in, "dispute", identified, "dispute without an id or a charge"))
        return err(*e);
    return f;
}

Read<SubscriptionFacts> read_subscription(const JsonReader& in, const JsonReader& previous) {
    SubscriptionFacts f;
    f.subscription_id = in.string("id");
    f.customer_id = in.id("customer");
    f.status = in.string("status");
    f.previous_status = previous.string("status");
    f.cancellation_reason = in.object("cancellation_details").string("reason");
    for (const JsonReader& item : in.list("items"))
        add_products(f.products, item);
    if (auto e =
            problem(in, "subscription", !f.subscription_id.empty(), "subscription without an id"))
        return err(*e);
    return f;
}

Read<PaymentMethodFacts> read_payment_method(const JsonReader& in) {
    PaymentMethodFacts f;
    f.payment_method_id = in.string("id");
    f.customer_id = in.id("customer");
    read_method_details(in, f);
    if (auto e = problem(in, "payment_method", !f.payment_method_id.empty(),
                         "payment_method without an id"))
        return err(*e);
    return f;
}

Read<PaymentMethodFacts> read_setup_intent(const JsonReader& in) {
    PaymentMethodFacts f;
    f.customer_id = in.id("customer");
    f.payment_method_id = in.id("payment_method");
    if (in.is_expanded("payment_method")) {
        auto method = in.object("payment_method");
        read_method_details(method, f);
        fill(f.customer_id, method.id("customer"));
    }
    // Not expanded: the method's type is known when the intent allowed only one.
    auto types = in.strings("payment_method_types");
    if (f.method == PaymentMethodKind::unknown && types.size() == 1)
        f.method = payment_method_kind(types.front());
    if (auto e = problem(in, "setup_intent", !f.payment_method_id.empty(),
                         "setup_intent without a payment method"))
        return err(*e);
    return f;
}

Read<MandateFacts> read_mandate(const JsonReader& in) {
    MandateFacts f;
    f.mandate_id = in.string("id");
    f.payment_method_id = in.id("payment_method");
    f.status = in.string("status");
    if (auto e = problem(in, "mandate", !f.mandate_id.empty(), "mandate without an id"))
        return err(*e);
    return f;
}

Read<std::optional<PaymentMethodFacts>>
read_default_payment_method_change(const JsonReader& in, const JsonReader& previous) {
    PaymentMethodFacts f;
    f.customer_id = in.string("id");
    auto settings = in.object("invoice_settings");
    if (previous.object("invoice_settings").contains("default_payment_method")) {
        f.payment_method_id = settings.id("default_payment_method");
        read_method_details(settings.expanded("default_payment_method"), f);
    }
    if (f.payment_method_id.empty() && previous.contains("default_source")) {
        f.payment_method_id = in.id("default_source");
        read_method_details(in.expanded("default_source"), f);
    }
    bool identified = !f.customer_id.empty() || f.payment_method_id.empty();
    if (auto e = problem(in, "customer", identified, "customer without an id")) return err(*e);
    if (f.payment_method_id.empty()) return std::optional<PaymentMethodFacts>{};
    return std::optional<PaymentMethodFacts>{std::move(f)};
}

} // namespace dunning::webhook
