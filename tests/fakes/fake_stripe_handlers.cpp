// One small handler per endpoint of the fake's API. They run with the state's mutex held;
// authentication and idempotency happen before, in fake_stripe_api.cpp.
#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>
#include <cstdlib>

namespace dunning::fakes::detail {

ApiAnswer reply(int status, const json& body, bool save) {
    return ApiAnswer{status, body.dump(), save, std::nullopt, {}};
}

ApiAnswer technical_failure(int status) {
    ApiAnswer a = status == 429
                      ? reply(429, error_json("invalid_request_error",
                                              "Too many requests hit the API too quickly. We "
                                              "recommend an exponential backoff of your requests.",
                                              "rate_limit"))
                      : reply(status, error_json("api_error", "An unknown error occurred"));
    a.save = false;
    a.should_retry = true;
    return a;
}

namespace {

ApiAnswer missing(const std::string& what, const std::string& id, const std::string& param = "id") {
    return reply(404,
                 error_json("invalid_request_error", "No such " + what + ": '" + id + "'",
                            "resource_missing", param),
                 false);
}

InvoiceRecord* find_invoice(State& state, const std::string& id, const std::string& account) {
    auto it = state.invoices.find(id);
    if (it == state.invoices.end() || it->second.invoice.account != account) return nullptr;
    return &it->second;
}

// paid_out_of_band=true: the owner says it was paid elsewhere. No charge, no payment intent;
// Stripe sends invoice.paid (invoice.payment_succeeded is for payment attempts only).
ApiAnswer mark_paid_out_of_band(State& state, InvoiceRecord& record, const RequestContext& ctx) {
    record.invoice.status = "paid";
    record.paid_at = state.now();
    record.paid_out_of_band = true;
    queue_event(state, "invoice.paid", invoice_json(record, state.basil_events, true),
                record.invoice.account, ctx.request);
    return reply(200, invoice_json(record, ctx.basil));
}

} // namespace

ApiAnswer pay(State& state, const httplib::Request& req, const RequestContext& ctx) {
    const std::string id = req.matches[1];
    InvoiceRecord* record = find_invoice(state, id, ctx.account);
    if (!record) return missing("invoice", id, "invoice");
    if (record->invoice.status == "paid")
        return reply(400, error_json("invalid_request_error", "Invoice is already paid"));
    if (record->invoice.status == "void")
        return reply(400, error_json("invalid_request_error",
                                     "This invoice can no longer be paid because it was voided."));
    if (const auto oob = ctx.form.find("paid_out_of_band");
        oob != ctx.form.end() && oob->second == "true")
        return mark_paid_out_of_band(state, *record, ctx);
    auto named = ctx.form.find("payment_method");
    std::string method_id = named == ctx.form.end() ? "" : named->second;
    const PaymentMethodRecord* method = method_for_pay(state, *record, method_id);
    if (!method && !method_id.empty())
        return reply(400,
                     error_json("invalid_request_error",
                                "No such PaymentMethod: '" + method_id + "'", "resource_missing",
                                "payment_method"),
                     false);
    if (!method)
        return reply(400, error_json("invalid_request_error",
                                     "This customer has no attached payment source or default "
                                     "payment method."));

    ScriptedPay step = ScriptedPay::success();
    if (!record->script.empty()) {
        step = record->script.front();
        record->script.pop_front();
    }
    if (step.kind == ScriptedPay::Kind::http_status) {
        ApiAnswer a = technical_failure(step.status);
        a.delay = step.delay;
        return a;
    }
    ++record->pay_executions;
    ++record->invoice.attempt_count;
    Attempt attempt = new_attempt(state, *record, *method);
    bool sepa = method->kind == PaymentMethodKind::sepa_debit;
    ApiAnswer a = reply(200, {});
    if (step.kind == ScriptedPay::Kind::sepa_pending) {
        attempt.method.kind = PaymentMethodKind::sepa_debit;
        record_processing(state, *record, attempt, step.then_fail, step.error, step.settle_after,
                          ctx.request);
    } else if (sepa) { // a SEPA debit never answers at once: its outcome comes with settle()
        bool fails = step.kind == ScriptedPay::Kind::decline;
        PaymentError error{step.error.reason(), "", "", "", step.error.message};
        record_processing(state, *record, attempt, fails, error, step.settle_after, ctx.request);
    } else if (step.kind == ScriptedPay::Kind::decline) {
        record_failure(state, *record, attempt, step.error, ctx.request);
        a = reply(402, card_error_json(*record->last_attempt, ctx.basil));
        a.should_retry = false;
    } else {
        record_success(state, *record, attempt, ctx.request);
    }
    if (a.status == 200) a.body = invoice_json(*record, ctx.basil).dump();
    a.delay = step.delay;
    return a;
}

ApiAnswer get_invoice(State& state, const httplib::Request& req, const RequestContext& ctx) {
    const std::string id = req.matches[1];
    const InvoiceRecord* record = find_invoice(state, id, ctx.account);
    if (!record) return missing("invoice", id);
    bool with_payments = false;
    for (const auto& [key, value] : req.params)
        with_payments |= key.starts_with("expand") && value == "payments";
    return reply(200, invoice_json(*record, ctx.basil, with_payments));
}

ApiAnswer mark_uncollectible(State& state, const httplib::Request& req, const RequestContext& ctx) {
    const std::string id = req.matches[1];
    InvoiceRecord* record = find_invoice(state, id, ctx.account);
    if (!record) return missing("invoice", id, "invoice");
    std::string& status = record->invoice.status;
    if (status == "open") {
        status = "uncollectible";
        record->uncollectible_at = state.now();
        queue_event(state, "invoice.marked_uncollectible",
                    invoice_json(*record, state.basil_events), record->invoice.account, ctx.request,
                    {{"status", "open"}});
    } else if (status != "uncollectible") {
        return reply(400, error_json("invalid_request_error",
                                     "You can only mark an open invoice as uncollectible; this "
                                     "invoice is " +
                                         status + "."));
    }
    return reply(200, invoice_json(*record, ctx.basil));
}

ApiAnswer get_customer(State& state, const httplib::Request& req, const RequestContext& ctx) {
    const std::string id = req.matches[1];
    auto it = state.customers.find(id);
    if (it == state.customers.end() || it->second.account != ctx.account)
        return missing("customer", id);
    return reply(200, customer_json(it->second));
}

ApiAnswer get_payment_method(State& state, const httplib::Request& req, const RequestContext& ctx) {
    const std::string id = req.matches[1];
    auto it = state.payment_methods.find(id);
    if (it == state.payment_methods.end() || it->second.account != ctx.account)
        return missing("PaymentMethod", id);
    return reply(200, payment_method_json(it->second));
}

ApiAnswer cancel_subscription(State& state, const httplib::Request& req,
                              const RequestContext& ctx) {
    const std::string id = req.matches[1];
    auto it = state.subscriptions.find(id);
    if (it == state.subscriptions.end() || it->second.account != ctx.account)
        return missing("subscription", id);
    SubscriptionRecord& sub = it->second;
    if (sub.status != "canceled") {
        sub.status = "canceled";
        sub.canceled_at = state.now();
        queue_event(state, "customer.subscription.deleted", subscription_json(sub), sub.account,
                    ctx.request);
    }
    return reply(200, subscription_json(sub));
}

} // namespace dunning::fakes::detail
