// The fake Stripe's public face: the server's life, the test's levers (invoices, scripts,
// Stripe-side events). JSON lives in fake_stripe_objects.cpp, outcomes in fake_stripe_events.cpp,
// delivery in fake_stripe_delivery.cpp, the HTTP API in fake_stripe_api.cpp.
#include "tests/fakes/fake_stripe.hpp"

#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace dunning::fakes {

using namespace detail;

ScriptedPay ScriptedPay::declined(std::string decline_code, std::string code,
                                  std::string advice_code) {
    ScriptedPay pay;
    pay.kind = Kind::decline;
    pay.error.code = std::move(code);
    pay.error.decline_code = std::move(decline_code);
    pay.error.advice_code = std::move(advice_code);
    return pay;
}

ScriptedPay ScriptedPay::status_code(int status) {
    ScriptedPay pay;
    pay.kind = Kind::http_status;
    pay.status = status;
    return pay;
}

ScriptedPay ScriptedPay::sepa(bool fails, std::string failure_code, std::chrono::seconds after) {
    ScriptedPay pay;
    pay.kind = Kind::sepa_pending;
    pay.then_fail = fails;
    pay.error.code = std::move(failure_code);
    pay.settle_after = after;
    return pay;
}

FakeStripe::FakeStripe(std::string secret_key, WebhookTarget target)
    : state_(std::make_unique<State>(std::move(secret_key), std::move(target))) {
    State& s = *state_;
    install_routes(s);
    s.server.set_tcp_nodelay(true);
    s.server.set_keep_alive_max_count(1000);
    s.port = s.server.bind_to_any_port("127.0.0.1");
    if (s.port <= 0) throw std::runtime_error("fake Stripe: cannot bind a port on 127.0.0.1");
    s.thread = std::thread([&s] { s.server.listen_after_bind(); });
    // stop() before the loop runs would be lost and the destructor would wait forever.
    for (int i = 0; i < 5000 && !s.server.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeStripe::~FakeStripe() {
    state_->server.stop();
    if (state_->thread.joinable()) state_->thread.join();
}

std::string FakeStripe::base_url() const {
    return "http://127.0.0.1:" + std::to_string(state_->port);
}

void FakeStripe::add_invoice(FakeInvoice invoice) {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    if (invoice.id.empty()) invoice.id = new_id("in");
    const Timestamp now = s.now();
    char number[32];
    std::snprintf(number, sizeof number, "FAKE-%04d", ++s.invoice_count);
    if (!s.customers.contains(invoice.customer))
        s.customers[invoice.customer] = CustomerRecord{invoice.customer,
                                                       invoice.account,
                                                       invoice.customer_email,
                                                       invoice.customer_name,
                                                       invoice.default_payment_method,
                                                       now};
    const std::string& pm = invoice.default_payment_method;
    if (!pm.empty() && !s.payment_methods.contains(pm))
        s.payment_methods[pm] = PaymentMethodRecord{
            pm, invoice.customer, invoice.account, invoice.method, invoice.card_brand, now};
    if (!invoice.subscription.empty()) {
        SubscriptionRecord& sub = s.subscriptions[invoice.subscription];
        if (sub.id.empty())
            sub = SubscriptionRecord{
                invoice.subscription, invoice.account, invoice.customer, invoice.product,
                invoice.id,           "active",        std::nullopt,     now};
        sub.latest_invoice = invoice.id;
    }
    std::string id = invoice.id;
    InvoiceRecord record;
    record.invoice = std::move(invoice);
    record.number = number;
    record.created = now;
    s.invoices[id] = std::move(record);
}

FakeInvoice FakeStripe::invoice(const std::string& id) const {
    std::lock_guard lock(state_->mutex);
    return state_->invoices.at(id).invoice;
}

void FakeStripe::script_pay(const std::string& invoice_id, std::vector<ScriptedPay> script) {
    std::lock_guard lock(state_->mutex);
    auto& steps = state_->invoices.at(invoice_id).script;
    steps.assign(script.begin(), script.end());
}

namespace {

// The method Stripe's own attempts (and the hosted page) charge; a bare card when none is known.
PaymentMethodRecord method_or_card(const detail::State& s, const InvoiceRecord& record) {
    if (const PaymentMethodRecord* m = method_for_pay(s, record, "")) return *m;
    return PaymentMethodRecord{record.invoice.default_payment_method,
                               record.invoice.customer,
                               record.invoice.account,
                               record.invoice.method,
                               record.invoice.card_brand,
                               record.created};
}

} // namespace

void FakeStripe::fail_invoice(const std::string& invoice_id, PaymentError error) {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    InvoiceRecord& record = s.invoices.at(invoice_id);
    ++record.invoice.attempt_count;
    Attempt attempt = new_attempt(s, record, method_or_card(s, record));
    record_failure(s, record, attempt, std::move(error), {});
}

void FakeStripe::attach_payment_method(const std::string& customer,
                                       const std::string& payment_method, const std::string& brand,
                                       int exp_month, int exp_year) {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    CustomerRecord& c = s.customers[customer];
    if (c.id.empty()) c = CustomerRecord{customer, "", "", "", "", s.now()};
    bool sepa = brand == "sepa_debit";
    PaymentMethodRecord method{
        payment_method,    customer,
        c.account,         sepa ? PaymentMethodKind::sepa_debit : PaymentMethodKind::card,
        sepa ? "" : brand, s.now(),
        exp_month,         exp_year};
    s.payment_methods[payment_method] = method;
    queue_event(s, "payment_method.attached", payment_method_json(method), c.account, {});
    std::string old = c.default_payment_method;
    c.default_payment_method = payment_method;
    json previous = {{"invoice_settings",
                      {{"default_payment_method", old.empty() ? json(nullptr) : json(old)}}}};
    queue_event(s, "customer.updated", customer_json(c), c.account, {}, previous);
}

void FakeStripe::revoke_mandate(const std::string& payment_method) {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    std::string account;
    if (const auto it = s.payment_methods.find(payment_method); it != s.payment_methods.end())
        account = it->second.account;
    for (const auto& [id, record] : s.invoices)
        if (record.invoice.default_payment_method == payment_method)
            account = record.invoice.account;
    const auto created = to_unix(s.now());
    json mandate = {{"id", "mandate_" + payment_method},
                    {"object", "mandate"},
                    {"customer_acceptance",
                     {{"accepted_at", created}, {"offline", json::object()}, {"type", "offline"}}},
                    {"livemode", false},
                    {"multi_use", json::object()},
                    {"payment_method", payment_method},
                    {"payment_method_details",
                     {{"sepa_debit",
                       {{"reference", "FAKE" + payment_method},
                        {"url", "https://stripe.example/mandate/" + payment_method}}},
                      {"type", "sepa_debit"}}},
                    {"status", "inactive"},
                    {"type", "multi_use"}};
    queue_event(s, "mandate.updated", std::move(mandate), account, {}, {{"status", "active"}});
}

void FakeStripe::pay_out_of_band(const std::string& invoice_id) {
    State& s = *state_;
    std::lock_guard lock(s.mutex);
    InvoiceRecord& record = s.invoices.at(invoice_id);
    ++record.invoice.attempt_count;
    Attempt attempt = new_attempt(s, record, method_or_card(s, record));
    record_success(s, record, attempt, {});
}

void FakeStripe::set_delivery(DeliveryOptions options) {
    std::lock_guard lock(state_->mutex);
    state_->delivery = options;
}

void FakeStripe::set_webhook_url(std::string url) {
    std::lock_guard lock(state_->mutex);
    state_->webhook_url = std::move(url);
}

std::size_t FakeStripe::settle() {
    std::lock_guard lock(state_->mutex);
    return settle_debits(*state_);
}

std::vector<std::string> FakeStripe::queued_types() const {
    std::lock_guard lock(state_->mutex);
    std::vector<std::string> types;
    for (const StoredEvent& e : state_->queue)
        types.push_back(e.type);
    return types;
}

std::vector<std::string> FakeStripe::take_queued() {
    std::lock_guard lock(state_->mutex);
    std::vector<std::string> bodies;
    for (const StoredEvent& e : state_->queue)
        bodies.push_back(e.body);
    state_->queue.clear();
    return bodies;
}

std::vector<RecordedRequest> FakeStripe::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::vector<RecordedRequest> FakeStripe::requests_to(const std::string& path_prefix) const {
    std::lock_guard lock(state_->mutex);
    std::vector<RecordedRequest> matching;
    for (const RecordedRequest& r : state_->requests)
        if (r.path.starts_with(path_prefix)) matching.push_back(r);
    return matching;
}

void FakeStripe::answer_all_with(int status) {
    std::lock_guard lock(state_->mutex);
    state_->outage_status = status;
}

int FakeStripe::outage_answers() const {
    std::lock_guard lock(state_->mutex);
    return state_->outage_answers;
}

std::vector<std::string> FakeStripe::event_ids() const {
    std::lock_guard lock(state_->mutex);
    std::vector<std::string> ids;
    for (const StoredEvent& e : state_->log)
        ids.push_back(e.id);
    return ids;
}

int FakeStripe::pay_executions(const std::string& invoice_id) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->invoices.find(invoice_id);
    return it == state_->invoices.end() ? 0 : it->second.pay_executions;
}

} // namespace dunning::fakes
