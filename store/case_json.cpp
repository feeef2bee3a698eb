#include "store/case_json.hpp"
#include "store/collection_json.hpp"
#include "store/json_text.hpp"
#include "store/stored_json.hpp"

#include <array>
#include <ctime>
#include <string>

namespace dunning::store {

using nlohmann::json;

namespace {

constexpr std::array all_methods{PaymentMethodKind::unknown, PaymentMethodKind::card,
                                 PaymentMethodKind::sepa_debit, PaymentMethodKind::other};
constexpr std::array all_resolutions{Resolution::none, Resolution::written_off,
                                     Resolution::uncollectible, Resolution::voided,
                                     Resolution::paid};
constexpr std::array all_outcomes{
    ChargeAttempt::Outcome::pending,   ChargeAttempt::Outcome::processing,
    ChargeAttempt::Outcome::succeeded, ChargeAttempt::Outcome::declined,
    ChargeAttempt::Outcome::rejected,  ChargeAttempt::Outcome::abandoned};
constexpr std::array all_networks{CardNetwork::unknown, CardNetwork::visa, CardNetwork::mastercard,
                                  CardNetwork::other};
// Networks were stored as numbers before they were stored by name: these are those numbers'
// meanings, fixed whatever the enum's order becomes.
constexpr std::array numbered_networks{CardNetwork::unknown, CardNetwork::visa,
                                       CardNetwork::mastercard, CardNetwork::other};

// An unknown name is an error: a default would quietly turn, say, a paid case into an open one.
template <class E, std::size_t N>
E enum_named(const StoredObject& o, std::string_view key, const std::array<E, N>& all) {
    const auto name = o.string(key);
    for (E e : all)
        if (name == to_string(e)) return e;
    o.fail(key, "unknown value \"" + name + "\"");
}

CardNetwork network_from(const StoredObject& o, std::string_view key) {
    const auto v = o.value(key);
    if (!v.is_int64() && !v.is_uint64()) return enum_named(o, key, all_networks);
    const auto n = v.is_int64() ? v.get_int64().value_unsafe() : -1;
    if (n < 0 || n >= static_cast<std::int64_t>(numbered_networks.size()))
        o.fail(key, "unknown value " + json_text_of(v));
    return numbered_networks[static_cast<std::size_t>(n)];
}

void write_invoice(JsonText& w, const InvoiceFacts& i) {
    JsonText::Object o(w);
    o.put("amount_due", i.amount_due);
    o.put("amount_remaining", i.amount_remaining);
    o.put("attempt_count", i.attempt_count);
    o.put("billing_reason", i.billing_reason);
    o.put("charge_id", i.charge_id);
    o.put("created", i.created);
    o.put("currency", i.currency);
    write_address(o.key("customer_address"), i.customer_address);
    o.put("customer_email", i.customer_email);
    o.put("customer_id", i.customer_id);
    o.put("customer_name", i.customer_name);
    o.put("description", i.description);
    o.put("due_date", i.due_date);
    o.put("hosted_invoice_url", i.hosted_invoice_url);
    o.put("invoice_id", i.invoice_id);
    o.put("next_payment_attempt", i.next_payment_attempt);
    o.put("number", i.number);
    o.put("payment_intent_id", i.payment_intent_id);
    o.put("period_start", i.period_start);
    o.put("plan_instalments", i.plan_instalments);
    o.put("products", i.products);
    o.put("status", i.status);
    o.put("subscription_id", i.subscription_id);
}

InvoiceFacts invoice_from(const StoredObject& j) {
    InvoiceFacts i;
    i.invoice_id = j.string("invoice_id");
    i.number = j.string("number");
    i.customer_id = j.string("customer_id");
    i.customer_email = j.string("customer_email");
    i.customer_name = j.string("customer_name");
    i.subscription_id = j.string("subscription_id");
    i.payment_intent_id = j.string("payment_intent_id");
    i.charge_id = j.string("charge_id");
    i.status = j.string("status");
    i.billing_reason = j.string("billing_reason");
    i.currency = j.string("currency");
    i.amount_due = j.integer("amount_due");
    i.amount_remaining = j.integer("amount_remaining");
    i.attempt_count = j.small_integer("attempt_count");
    i.next_payment_attempt = j.time("next_payment_attempt");
    i.due_date = j.time("due_date");
    i.hosted_invoice_url = j.string("hosted_invoice_url");
    i.products = j.strings("products");
    i.plan_instalments = j.small_integer("plan_instalments", 0); // absent before instalment plans
    // Fields below came with the handover to collection agencies; rows from before lack them.
    i.created = j.time("created");
    if (j.contains("customer_address"))
        i.customer_address = address_from(j.object("customer_address"));
    i.description = j.string("description", "");
    i.period_start = j.time("period_start");
    return i;
}

void write_failure(JsonText& w, const std::optional<PaymentFailure>& f) {
    if (!f) return w.null();
    JsonText::Object o(w);
    o.put("advice_code", f->error.advice_code);
    o.put("at", f->at);
    o.put("card_brand", f->card_brand);
    o.put("code", f->error.code);
    o.put("decline_code", f->error.decline_code);
    o.put("message", f->error.message);
    o.put("method", to_string(f->method));
    o.put("network_advice_code", f->error.network_advice_code);
    o.put("payment_method_id", f->payment_method_id);
}

PaymentFailure failure_from(const StoredObject& j) {
    PaymentFailure f;
    f.error.code = j.string("code");
    f.error.decline_code = j.string("decline_code");
    f.error.advice_code = j.string("advice_code");
    f.error.network_advice_code = j.string("network_advice_code");
    f.error.message = j.string("message");
    f.method = enum_named(j, "method", all_methods);
    f.payment_method_id = j.string("payment_method_id");
    f.card_brand = j.string("card_brand");
    f.at = from_unix(j.integer("at"));
    return f;
}

void write_attempts(JsonText& w, const std::vector<ChargeAttempt>& attempts) {
    JsonText::Array list(w);
    for (const auto& a : attempts) {
        list.next();
        JsonText::Object o(w);
        o.put("at", a.at);
        o.put("network", to_string(a.network));
        o.put("number", a.number);
        o.put("outcome", to_string(a.outcome));
        o.put("payment_method_id", a.payment_method_id);
    }
}

std::vector<ChargeAttempt> attempts_from(const std::vector<StoredObject>& list) {
    std::vector<ChargeAttempt> out;
    out.reserve(list.size());
    for (const auto& a : list) {
        ChargeAttempt c;
        c.number = a.small_integer("number");
        c.at = from_unix(a.integer("at"));
        c.payment_method_id = a.string("payment_method_id");
        c.network = network_from(a, "network");
        c.outcome = enum_named(a, "outcome", all_outcomes);
        out.push_back(std::move(c));
    }
    return out;
}

void write_dispute(JsonText& w, const std::optional<DisputeRecord>& d) {
    if (!d) return w.null();
    JsonText::Object o(w);
    o.put("as_of", d->as_of);
    o.put("dispute_id", d->dispute_id);
    o.put("lost_at", d->lost_at);
    o.put("opened_at", d->opened_at);
    o.put("repaid_at", d->repaid_at);
    o.put("status", d->status);
}

std::optional<DisputeRecord> dispute_from(const StoredObject& j) {
    const auto d = j.object_or_null("dispute");
    if (!d) return std::nullopt;
    DisputeRecord r;
    r.dispute_id = d->string("dispute_id", "");
    r.status = d->string("status", "");
    r.opened_at = from_unix(d->integer("opened_at", 0));
    r.lost_at = d->time("lost_at");
    r.repaid_at = d->time("repaid_at");
    r.as_of = from_unix(d->integer("as_of", 0));
    return r;
}

void write_promise(JsonText& w, const std::optional<PromiseToPay>& p) {
    if (!p) return w.null();
    JsonText::Object o(w);
    o.put("holds_pause", p->holds_pause);
    o.put("made_at", p->made_at);
    o.put("until", p->until);
}

std::optional<PromiseToPay> promise_from(const StoredObject& j) {
    const auto p = j.object_or_null("promise");
    if (!p) return std::nullopt;
    return PromiseToPay{from_unix(p->integer("until", 0)), from_unix(p->integer("made_at", 0)),
                        p->boolean("holds_pause", false)};
}

void write_objection(JsonText& w, const std::optional<Objection>& obj) {
    if (!obj) return w.null();
    JsonText::Object o(w);
    o.put("actor", obj->actor);
    o.put("at", obj->at);
    o.put("note", obj->note);
    o.put("withdrawn_at", obj->withdrawn_at);
}

std::optional<Objection> objection_from(const StoredObject& j) {
    const auto o = j.object_or_null("objection");
    if (!o) return std::nullopt;
    return Objection{from_unix(o->integer("at", 0)), o->string("note", ""), o->string("actor", ""),
                     o->time("withdrawn_at")};
}

void write_mandate(JsonText& w, const std::optional<InactiveMandate>& m) {
    if (!m) return w.null();
    JsonText::Object o(w);
    o.put("at", m->at);
    o.put("mandate", m->mandate_id);
    o.put("payment_method", m->payment_method_id);
}

std::optional<InactiveMandate> mandate_from(const StoredObject& j) {
    const auto m = j.object_or_null("mandate_inactive");
    if (!m) return std::nullopt;
    return InactiveMandate{m->string("mandate", ""), m->string("payment_method", ""),
                           from_unix(m->integer("at", 0))};
}

// Every field of CaseState and of the structs in it is written and read in this file. These
// decompositions stop the build when one of them gains or loses a field: write the new field
// below at its key's place in byte order (the writer refuses a key out of order) and read it,
// add it to tests/store/case_fields.hpp and give it a value in the sample
// of tests/store/case_json_test.cpp, then add its name here. (sizeof(CaseState) would miss a
// bool that fits into padding, and a test listing the JSON keys is kept by hand like the
// serialiser, so it misses the same field.)
[[maybe_unused]] void every_field_is_stored(const CaseState& s, const InvoiceFacts& i,
                                            const PaymentFailure& f, const ChargeAttempt& a,
                                            const DisputeRecord& d, const PromiseToPay& p,
                                            const Objection& o) {
    [[maybe_unused]] const auto& [creator_id, invoice, invoice_as_of, failed, opened_at,
                                  last_failure, action_required, resolution, resolved_at,
                                  resolution_reason, payment_processing, new_payment_method,
                                  new_payment_method_at, mandate_inactive, paid_with, dispute,
                                  attempts, stage_queued, stage_sent, failure_email_sent,
                                  confirmation_queued, final_notice_at, failure_notified, paused,
                                  paused_at, paused_seconds, stripe_disconnected_at, promise,
                                  objection, escalated_at, handover_pending_at, collection,
                                  limitation_warned, first_seen_at, opened_announced,
                                  resolved_announced, next_wakeup] = s;
    [[maybe_unused]] const auto& [invoice_id, number, customer_id, customer_email, customer_name,
                                  subscription_id, payment_intent_id, charge_id, status,
                                  billing_reason, currency, amount_due, amount_remaining,
                                  attempt_count, next_payment_attempt, due_date, hosted_invoice_url,
                                  products, plan_instalments, created, customer_address,
                                  description, period_start] = i;
    [[maybe_unused]] const auto& [line1, line2, postal_code, city, state, country] =
        i.customer_address;
    [[maybe_unused]] const auto& [handed_over_at, batch, agency_reference, collected_minor, steps] =
        s.collection;
    [[maybe_unused]] const auto& [what, step_at, step_batch, amount_minor, date, reference,
                                  step_note] = CollectionStep{};
    [[maybe_unused]] const auto& [error, method, payment_method_id, card_brand, at] = f;
    [[maybe_unused]] const auto& [code, decline_code, advice_code, network_advice_code, message] =
        f.error;
    [[maybe_unused]] const auto& [attempt_number, attempt_at, attempt_method, network, outcome] = a;
    [[maybe_unused]] const auto& [dispute_id, dispute_status, dispute_opened_at, lost_at, repaid_at,
                                  as_of] = d;
    [[maybe_unused]] const auto& [until, made_at, holds_pause] = p;
    [[maybe_unused]] const auto& [objected_at, note, actor, withdrawn_at] = o;
    [[maybe_unused]] const auto& [mandate_id, mandate_method, mandate_at] = InactiveMandate{};
}

} // namespace

std::string state_text(const CaseState& s) {
    return object_text(
        [&](JsonText::Object& o) {
            o.put("action_required", s.action_required);
            write_attempts(o.key("attempts"), s.attempts);
            write_collection(o.key("collection"), s.collection);
            o.put("confirmation_queued", s.confirmation_queued);
            o.put("creator_id", s.creator_id);
            write_dispute(o.key("dispute"), s.dispute);
            o.put("escalated_at", s.escalated_at);
            o.put("failed", s.failed);
            o.put("failure_email_sent", s.failure_email_sent);
            o.put("failure_notified", s.failure_notified);
            o.put("final_notice_at", s.final_notice_at);
            o.put("first_seen_at", s.first_seen_at);
            o.put("handover_pending_at", s.handover_pending_at);
            write_invoice(o.key("invoice"), s.invoice);
            o.put("invoice_as_of", s.invoice_as_of);
            write_failure(o.key("last_failure"), s.last_failure);
            o.put("limitation_warned", s.limitation_warned);
            write_mandate(o.key("mandate_inactive"), s.mandate_inactive);
            o.put("new_payment_method", s.new_payment_method);
            o.put("new_payment_method_at", s.new_payment_method_at);
            o.put("next_wakeup", s.next_wakeup);
            write_objection(o.key("objection"), s.objection);
            o.put("opened_announced", s.opened_announced);
            o.put("opened_at", s.opened_at);
            o.put("paid_with", to_string(s.paid_with));
            o.put("paused", s.paused);
            o.put("paused_at", s.paused_at);
            o.put("paused_seconds", s.paused_seconds);
            o.put("payment_processing", s.payment_processing);
            write_promise(o.key("promise"), s.promise);
            o.put("resolution", to_string(s.resolution));
            o.put("resolution_reason", s.resolution_reason);
            o.put("resolved_announced", s.resolved_announced);
            o.put("resolved_at", s.resolved_at);
            o.put("stage_queued", s.stage_queued);
            o.put("stage_sent", s.stage_sent);
            o.put("stripe_disconnected_at", s.stripe_disconnected_at);
        },
        2048);
}

json state_to_json(const CaseState& s) {
    return json::parse(state_text(s));
}

CaseState state_from_text(std::string_view text) {
    // One kept per thread saved under 1 % of a due tick's instructions.
    simdjson::dom::parser parser;
    const StoredObject j = parse_stored(parser, text);
    CaseState s;
    s.creator_id = j.string("creator_id");
    s.invoice = invoice_from(j.object("invoice"));
    s.invoice_as_of = from_unix(j.integer("invoice_as_of"));
    s.failed = j.boolean("failed");
    s.opened_at = j.time("opened_at");
    if (!j.value("last_failure").is_null()) s.last_failure = failure_from(j.object("last_failure"));
    s.action_required = j.boolean("action_required");
    s.resolution = enum_named(j, "resolution", all_resolutions);
    s.resolved_at = j.time("resolved_at");
    // Fields below came with the case engine (schema 2); rows from before lack them.
    s.payment_processing = j.boolean("payment_processing", false);
    s.new_payment_method = j.string("new_payment_method", "");
    s.new_payment_method_at = j.time("new_payment_method_at");
    if (j.contains("attempts")) s.attempts = attempts_from(j.objects("attempts"));
    s.stage_sent = j.small_integer("stage_sent", 0);
    // Before emails were counted when they went out, "stage_sent" meant queued, and the
    // confirmation, if any, was queued with the resolution.
    s.stage_queued = j.small_integer("stage_queued", s.stage_sent);
    s.failure_email_sent = j.boolean("failure_email_sent", false);
    s.final_notice_at = j.time("final_notice_at");
    s.failure_notified = j.string("failure_notified", "");
    s.paused = j.boolean("paused", false);
    s.paused_at = j.time("paused_at");
    s.paused_seconds = j.integer("paused_seconds", 0);
    s.escalated_at = j.time("escalated_at");
    s.first_seen_at = j.time("first_seen_at");
    s.opened_announced = j.boolean("opened_announced", false);
    s.resolved_announced = j.boolean("resolved_announced", false);
    s.confirmation_queued = j.boolean("confirmation_queued", s.resolved_announced);
    s.next_wakeup = j.time("next_wakeup");
    // Fields below came with the access controller; rows from before lack them.
    if (j.contains("paid_with")) s.paid_with = enum_named(j, "paid_with", all_methods);
    s.dispute = dispute_from(j);
    // Fields below came with the end of dunning and the limitation warnings.
    s.resolution_reason = j.string("resolution_reason", "");
    s.handover_pending_at = j.time("handover_pending_at");
    s.limitation_warned = j.small_integer("limitation_warned", 0);
    // Fields below came with promises to pay and objections.
    s.promise = promise_from(j);
    s.objection = objection_from(j);
    // Fields below came with creators connecting their own Stripe accounts.
    s.mandate_inactive = mandate_from(j);
    s.stripe_disconnected_at = j.time("stripe_disconnected_at");
    s.collection = collection_from(j); // came with the handover to collection agencies
    return s;
}

CaseState state_from_json(const json& j) {
    return state_from_text(j.dump());
}

} // namespace dunning::store
