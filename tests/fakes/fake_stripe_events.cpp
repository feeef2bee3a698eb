// What each payment outcome does to the fake's state, and the webhooks it queues, in the order
// Stripe sends them (the charge first, then the payment intent, then the invoice).
#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>

namespace dunning::fakes::detail {

namespace {

void fill_message(PaymentError& error, PaymentMethodKind kind) {
    if (error.message.empty()) error.message = default_failure_message(error, kind);
}

} // namespace

Timestamp State::next_event_time() {
    Timestamp t = now();
    if (last_created && t <= *last_created) t = *last_created + std::chrono::seconds{1};
    last_created = t;
    return t;
}

void queue_event(State& state, const std::string& type, json object, const std::string& account,
                 const RequestRef& request, json previous_attributes) {
    StoredEvent event{
        state.next_seq++, new_id("evt"), type, account, state.next_event_time(), {}, {}, {}};
    json data = {{"object", std::move(object)}};
    if (!previous_attributes.is_null())
        data["previous_attributes"] = std::move(previous_attributes);
    json body = {
        {"id", event.id},
        {"object", "event"},
        {"api_version", state.target.api_version},
        {"created", to_unix(event.created)},
        {"data", std::move(data)},
        {"livemode", false},
        {"pending_webhooks", 1},
        {"request",
         {{"id", nullable(request.id)}, {"idempotency_key", nullable(request.idempotency_key)}}},
        {"type", type}};
    if (!account.empty()) body["account"] = account;
    event.body = body.dump();
    // An account's own endpoints get its events; a platform's Connect endpoints get those of
    // its connected accounts.
    for (const EndpointRecord& r : state.endpoints) {
        const FakeStripe::Endpoint& e = r.endpoint;
        bool listens = std::find(e.enabled_events.begin(), e.enabled_events.end(), type) !=
                           e.enabled_events.end() ||
                       std::find(e.enabled_events.begin(), e.enabled_events.end(), "*") !=
                           e.enabled_events.end();
        bool reaches = e.connect ? e.account.empty() && !account.empty() : e.account == account;
        if (listens && reaches) event.endpoints.push_back(e.id);
    }
    state.log.push_back(event);
    state.queue.push_back(std::move(event));
}

Attempt new_attempt(State& state, const InvoiceRecord& record, const PaymentMethodRecord& method) {
    Attempt a;
    a.payment_intent = new_id("pi");
    a.charge = new_id("ch");
    a.invoice = record.invoice.id;
    a.customer = record.invoice.customer;
    a.method = method;
    a.amount = record.invoice.amount_due;
    a.currency = record.invoice.currency;
    a.created = state.now();
    return a;
}

const PaymentMethodRecord* method_for_pay(const State& state, const InvoiceRecord& record,
                                          const std::string& named) {
    auto find = [&](const std::string& id) -> const PaymentMethodRecord* {
        auto it = state.payment_methods.find(id);
        return it == state.payment_methods.end() ? nullptr : &it->second;
    };
    if (!named.empty()) return find(named);
    if (!record.invoice.default_payment_method.empty())
        return find(record.invoice.default_payment_method);
    auto customer = state.customers.find(record.invoice.customer);
    if (customer == state.customers.end()) return nullptr;
    return find(customer->second.default_payment_method);
}

void record_failure(State& state, InvoiceRecord& record, Attempt attempt, PaymentError error,
                    const RequestRef& request) {
    fill_message(error, attempt.method.kind);
    attempt.status = "requires_payment_method";
    attempt.error = std::move(error);
    record.invoice.payment_intent = attempt.payment_intent;
    record.last_attempt = attempt;
    const bool basil = state.basil_events;
    const std::string& account = record.invoice.account;
    queue_event(state, "charge.failed", charge_json(attempt, basil), account, request);
    queue_event(state, "payment_intent.payment_failed", payment_intent_json(attempt, basil),
                account, request);
    queue_event(state, "invoice.payment_failed", invoice_json(record, basil), account, request);
}

void record_success(State& state, InvoiceRecord& record, Attempt attempt,
                    const RequestRef& request) {
    attempt.status = "succeeded";
    attempt.error = {};
    record.invoice.status = "paid";
    record.invoice.payment_intent = attempt.payment_intent;
    record.paid_at = state.now();
    record.last_attempt = attempt;
    const bool basil = state.basil_events;
    const std::string& account = record.invoice.account;
    queue_event(state, "payment_intent.succeeded", payment_intent_json(attempt, basil), account,
                request);
    queue_event(state, "invoice.paid", invoice_json(record, basil, true), account, request);
    queue_event(state, "invoice.payment_succeeded", invoice_json(record, basil, true), account,
                request);
}

void record_processing(State& state, InvoiceRecord& record, Attempt attempt, bool fails,
                       PaymentError error, std::chrono::seconds settle_after,
                       const RequestRef& request) {
    attempt.status = "processing";
    attempt.error = {};
    record.invoice.payment_intent = attempt.payment_intent;
    record.last_attempt = attempt;
    state.debits.push_back(
        PendingDebit{record.invoice.id, attempt, attempt.created + settle_after, fails, error});
    queue_event(state, "payment_intent.processing",
                payment_intent_json(attempt, state.basil_events), record.invoice.account, request);
}

std::size_t settle_debits(State& state) {
    const Timestamp now = state.now();
    std::vector<PendingDebit> due;
    auto is_due = [&](const PendingDebit& d) { return now >= d.settles_at; };
    std::copy_if(state.debits.begin(), state.debits.end(), std::back_inserter(due), is_due);
    std::erase_if(state.debits, is_due);
    for (PendingDebit& debit : due) {
        InvoiceRecord& record = state.invoices.at(debit.invoice);
        if (debit.fails)
            record_failure(state, record, debit.attempt, debit.error, {});
        else
            record_success(state, record, debit.attempt, {});
    }
    return due.size();
}

} // namespace dunning::fakes::detail
