#pragma once
// Internal to the fake Stripe: its state (one mutex), the JSON it renders in Stripe's wire
// format for either API shape, and the event sequences each payment outcome produces.
#include "tests/fakes/fake_stripe.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dunning::fakes::detail {

using nlohmann::json;

// "2025-03-31.basil" and later: invoices lost subscription/charge/payment_intent, payment
// intents lost invoice, line items name their product through pricing.price_details.
bool is_basil_or_later(const std::string& api_version);

std::string new_id(const std::string& prefix); // unique in the process: "pi_fake000042"

json nullable(const std::string& s);              // null when empty, as Stripe sends "not set"
json nullable(const std::optional<Timestamp>& t); // unix seconds or null
std::string tail(const std::string& id);          // the part after the prefix: "in_1" → "1"
std::string doc_url(std::string code);            // https://stripe.com/docs/error-codes/…
const char* type_name(PaymentMethodKind kind);    // "card", "sepa_debit", …

struct PaymentMethodRecord {
    std::string id;
    std::string customer;
    std::string account;
    PaymentMethodKind kind = PaymentMethodKind::card;
    std::string brand = "visa"; // cards only
    Timestamp created{};
    int exp_month = 12;
    int exp_year = 2030;
};

struct CustomerRecord {
    std::string id;
    std::string account;
    std::string email;
    std::string name;
    std::string default_payment_method;
    Timestamp created{};
};

struct SubscriptionRecord {
    std::string id;
    std::string account;
    std::string customer;
    std::string product;
    std::string latest_invoice;
    std::string status = "active";
    std::optional<Timestamp> canceled_at;
    Timestamp created{};
};

// One PaymentIntent and its single charge.
struct Attempt {
    std::string payment_intent;
    std::string charge;
    std::string invoice;
    std::string customer;
    PaymentMethodRecord method;
    std::int64_t amount = 0;
    std::string currency;
    std::string status; // succeeded | requires_payment_method | processing
    PaymentError error; // set when the attempt failed
    Timestamp created{};
};

struct InvoiceRecord {
    FakeInvoice invoice;
    std::string number;
    Timestamp created{};
    std::optional<Timestamp> paid_at;
    std::optional<Timestamp> uncollectible_at;
    bool paid_out_of_band = false; // marked paid by the account's owner, no charge
    std::optional<Attempt> last_attempt;
    std::deque<ScriptedPay> script;
    int pay_executions = 0;
};

// A SEPA debit submitted and waiting for the bank's answer.
struct PendingDebit {
    std::string invoice;
    Attempt attempt;
    Timestamp settles_at{};
    bool fails = true;
    PaymentError error;
};

// Which API request an event came from (null for Stripe's own actions).
struct RequestRef {
    std::string id;
    std::string idempotency_key;
};

struct StoredEvent {
    std::uint64_t seq = 0;
    std::string id;
    std::string type;
    std::string account;
    Timestamp created{};
    std::string body;
    std::vector<std::string> endpoints; // we_… that were listening when it happened
    std::set<std::string> done;         // destinations that answered 2xx
};

// ---- Connect and keys --------------------------------------------------------------------

// An API key other than the fake's own secret key: restricted keys and OAuth access tokens.
struct KeyRecord {
    std::string account; // "" = the fake's own account
    bool restricted = false;
    std::set<std::string> permissions;
    bool revoked = false;
};

struct ConnectedAccount {
    AccountProfile profile;
    Timestamp created{};
    bool connected = false;
};

struct AuthCode {
    std::string client_id;
    std::string account;
    std::string scope;
    bool used = false;
    std::string access_token; // issued with it, revoked if the code is presented again
};

struct EndpointRecord {
    FakeStripe::Endpoint endpoint;
    std::string api_version;
    std::string description;
    Timestamp created{};
};

struct SavedAnswer {
    int status = 200;
    std::string body;
    std::string request_id;
    std::string fingerprint; // the request's parameters; another set with the same key is refused
};

struct State {
    State(std::string key, WebhookTarget t)
        : secret_key(std::move(key)), target(std::move(t)), webhook_url(target.url) {
        own_account.id = new_id("acct");
        clients[default_client] = true;
    }

    const std::string secret_key;
    const WebhookTarget target;
    const bool basil_events = is_basil_or_later(target.api_version);

    mutable std::mutex mutex;
    std::string webhook_url; // target.url, until set_webhook_url
    std::map<std::string, InvoiceRecord> invoices;
    std::map<std::string, CustomerRecord> customers;
    std::map<std::string, PaymentMethodRecord> payment_methods;
    std::map<std::string, SubscriptionRecord> subscriptions;
    std::vector<PendingDebit> debits;
    std::map<std::pair<std::string, std::string>, SavedAnswer> idempotency; // (key, path)
    std::vector<RecordedRequest> requests;
    std::vector<StoredEvent> queue; // not yet delivered, oldest first
    std::vector<StoredEvent> log;   // every event ever created, oldest first (GET /v1/events)
    DeliveryOptions delivery;
    int outage_status = 0; // answer_all_with
    int outage_answers = 0;
    std::uint64_t next_seq = 1;
    int invoice_count = 0;
    std::optional<Timestamp> last_created;

    AccountProfile own_account;
    std::map<std::string, KeyRecord> keys; // besides secret_key
    std::map<std::string, ConnectedAccount> accounts;
    const std::string default_client = new_id("ca");
    std::map<std::string, bool> clients; // client_id → approves by default
    std::deque<AuthorizationDecision> decisions;
    std::map<std::string, AuthCode> codes;
    std::map<std::string, std::string> refresh_tokens; // rt_… → acct_…
    std::vector<EndpointRecord> endpoints;
    std::string connect_url;
    std::string connect_secret;

    httplib::Server server;
    std::thread thread;
    int port = 0;

    Timestamp now() const { return target.now ? target.now() : Timestamp{}; }
    Timestamp next_event_time(); // now, but strictly after the previous event
};

// ---- JSON in Stripe's wire format (fake_stripe_objects.cpp) ----------------------------

json invoice_json(const InvoiceRecord& record, bool basil, bool with_payments = false);
json payment_intent_json(const Attempt& attempt, bool basil);
json charge_json(const Attempt& attempt, bool basil);
json payment_method_json(const PaymentMethodRecord& method);
json customer_json(const CustomerRecord& customer);
json subscription_json(const SubscriptionRecord& subscription);

// {"error": {...}} with Stripe's fields; empty strings are left out.
json error_json(const std::string& type, const std::string& message, const std::string& code = "",
                const std::string& param = "");
// The 402 answer to a declined pay request.
json card_error_json(const Attempt& attempt, bool basil);
// Stripe's wording for a decline or SEPA failure code, when the script gave none.
std::string default_failure_message(const PaymentError& error, PaymentMethodKind kind);

// ---- events (fake_stripe_events.cpp); call with the mutex held -------------------------

void queue_event(State& state, const std::string& type, json object, const std::string& account,
                 const RequestRef& request, json previous_attributes = nullptr);

// A new attempt for the invoice, charged to `method`; not yet recorded on the invoice.
Attempt new_attempt(State& state, const InvoiceRecord& record, const PaymentMethodRecord& method);
// The payment method a pay request uses: the one named, else the invoice's default, else the
// customer's. Null when the one named is unknown.
const PaymentMethodRecord* method_for_pay(const State& state, const InvoiceRecord& record,
                                          const std::string& named);

// charge.failed, payment_intent.payment_failed, invoice.payment_failed.
void record_failure(State& state, InvoiceRecord& record, Attempt attempt, PaymentError error,
                    const RequestRef& request);
// payment_intent.succeeded, invoice.paid, invoice.payment_succeeded.
void record_success(State& state, InvoiceRecord& record, Attempt attempt,
                    const RequestRef& request);
// payment_intent.processing; the outcome follows from settle_debits().
void record_processing(State& state, InvoiceRecord& record, Attempt attempt, bool fails,
                       PaymentError error, std::chrono::seconds settle_after,
                       const RequestRef& request);
std::size_t settle_debits(State& state);

// ---- HTTP API: routes, authentication, idempotency (fake_stripe_api.cpp) ----------------

void install_routes(State& state);

struct RequestContext {
    std::string account; // Stripe-Account, else the key's own account ("" = the fake's own)
    bool basil = false;  // shape of the objects in the answer (Stripe-Version)
    RequestRef request;
    std::map<std::string, std::string> form;
};

struct ApiAnswer {
    int status = 200;
    std::string body;
    bool save = true;                 // kept for a repeated Idempotency-Key
    std::optional<bool> should_retry; // Stripe-Should-Retry
    std::chrono::milliseconds delay{0};
};

ApiAnswer reply(int status, const json& body, bool save = true);
// A 429 or 5xx that executed nothing and may be retried (Stripe-Should-Retry: true).
ApiAnswer technical_failure(int status);

// ---- endpoint handlers (fake_stripe_handlers.cpp); called with the mutex held -----------

using Handler = ApiAnswer (*)(State&, const httplib::Request&, const RequestContext&);

ApiAnswer pay(State&, const httplib::Request&, const RequestContext&);
ApiAnswer get_invoice(State&, const httplib::Request&, const RequestContext&);
ApiAnswer mark_uncollectible(State&, const httplib::Request&, const RequestContext&);
ApiAnswer get_customer(State&, const httplib::Request&, const RequestContext&);
ApiAnswer get_payment_method(State&, const httplib::Request&, const RequestContext&);
ApiAnswer cancel_subscription(State&, const httplib::Request&, const RequestContext&);

// ---- Connect, accounts, keys, endpoints and lists (fake_stripe_connect.cpp,
// fake_stripe_accounts.cpp, fake_stripe_events_list.cpp) -----------------------------------

void install_oauth_routes(State& state);
// "rk_test_****abcd": the key's prefix, stars, and its last `keep` characters.
std::string redact(const std::string& key, std::size_t keep);
std::string account_label(const State& state, const std::string& account); // "" → own id
// Ends the connection: its tokens stop working, account.application.deauthorized is queued.
void disconnect(State& state, const std::string& account, const std::string& client_id);
RecordedRequest record_of(const httplib::Request& req);
// A form or query array: name[]=a&name[]=b, or name[0]=a&name[1]=b.
std::vector<std::string> array_param(const httplib::Request& req, const std::string& name);
// The answer's permission check for a restricted key; nothing when `key` may call.
std::optional<ApiAnswer> refuse_permission(const State& state, const std::string& key_text,
                                           const KeyRecord& key, const std::string& permission);

ApiAnswer get_account(State&, const httplib::Request&, const RequestContext&);
ApiAnswer create_webhook_endpoint(State&, const httplib::Request&, const RequestContext&);
ApiAnswer list_webhook_endpoints(State&, const httplib::Request&, const RequestContext&);
ApiAnswer delete_webhook_endpoint(State&, const httplib::Request&, const RequestContext&);
ApiAnswer list_events(State&, const httplib::Request&, const RequestContext&);
ApiAnswer list_invoices(State&, const httplib::Request&, const RequestContext&);

} // namespace dunning::fakes::detail

namespace dunning::fakes {
struct FakeStripe::State : detail::State {
    using detail::State::State;
};
} // namespace dunning::fakes
