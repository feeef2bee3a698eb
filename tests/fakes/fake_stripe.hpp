#pragma once
// A small stateful Stripe for tests: holds invoices, answers the API calls the module makes
// (pay, retrieve, cancel, mark_uncollectible, events, invoices, account, webhook endpoints, and
// Connect OAuth) in Stripe's wire format, replays answers for a repeated Idempotency-Key like
// Stripe does, knows restricted keys and their permissions, records every request, and sends
// the resulting webhooks, signed, to the service. Deliveries happen only when the test asks
// (deliver()), so tests stay deterministic and never sleep.
#include "core/event.hpp"
#include "core/time.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dunning::fakes {

struct FakeInvoice {
    std::string id; // in_…
    std::string customer = "cus_fake";
    std::string customer_email = "member@example.org";
    std::string customer_name = "Mia Member";
    PostalAddress customer_address; // none when empty
    std::string subscription = "sub_fake";
    std::string product = "prod_fake";
    std::int64_t amount_due = 4900;
    std::string currency = "eur";
    std::string default_payment_method = "pm_card_visa";
    PaymentMethodKind method = PaymentMethodKind::card;
    std::string card_brand = "visa";
    std::string account; // acct_… for Connect; events then carry "account"
    // The subscription's metadata, as the invoice's snapshot carries it ("installments": "6").
    std::map<std::string, std::string> subscription_metadata;
    std::string collection_method = "charge_automatically"; // or "send_invoice"
    std::optional<Timestamp> due_date;                      // send_invoice only
    std::optional<Timestamp> next_payment_attempt;          // Stripe's own next retry
    // Managed by the fake:
    std::string status = "open"; // open | paid | void | uncollectible
    int attempt_count = 0;
    std::string payment_intent; // pi_… of the latest attempt
};

// What the next POST /v1/invoices/{id}/pay does. Consumed one per executed request (an
// idempotent replay consumes nothing). With no script left, a pay succeeds.
// An invoice whose payment method is sepa_debit never answers a pay at once, as with Stripe:
// `succeed` and `decline` act like sepa_pending (success, or failure with error.reason() as the
// SEPA failure code) after `settle_after`. A pay with paid_out_of_band=true takes no script: it
// marks an open invoice paid without a charge and queues invoice.paid, as Stripe does.
struct ScriptedPay {
    enum class Kind {
        succeed,
        decline,      // 402 card_error with `error`; webhooks: charge.failed,
                      // payment_intent.payment_failed, invoice.payment_failed
        http_status,  // answer `status` (429, 500, 503) with Stripe-Should-Retry: true; nothing
                      // executed
        sepa_pending, // 200, invoice stays open, PI processing; the outcome (`then_fail` with
                      // `error`, or success) is delivered by settle() once `settle_after` has
                      // passed
    };
    Kind kind = Kind::succeed;
    PaymentError error;
    int status = 500;
    std::chrono::milliseconds delay{0}; // answer this late (a slow Stripe)
    bool then_fail = true;
    std::chrono::seconds settle_after{std::chrono::days{3}};

    static ScriptedPay success() { return {}; }
    static ScriptedPay declined(std::string decline_code, std::string code = "card_declined",
                                std::string advice_code = "");
    static ScriptedPay status_code(int status);
    static ScriptedPay sepa(bool fails, std::string failure_code, std::chrono::seconds after);
};

struct RecordedRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string>
        headers; // Idempotency-Key, Stripe-Account, Authorization, Stripe-Version
    std::map<std::string, std::string> form; // decoded body of POSTs
    bool idempotent_replay = false;          // answered from the idempotency cache
};

struct WebhookTarget {
    std::string url; // e.g. http://127.0.0.1:PORT/webhooks/stripe/alpha; "" until set_webhook_url
    std::string secret; // whsec_… to sign with
    std::function<Timestamp()>
        now; // the module's clock: event `created` and the objects' times
             // (signatures carry real time, as Stripe's do under a test clock)
    std::string api_version = "2020-08-27"; // or "2025-03-31.basil": the shape of the events sent
};

// A Stripe account as GET /v1/account shows it: the fake's own, or one connected to it.
struct AccountProfile {
    std::string id; // acct_…; generated when empty
    std::string email = "owner@example.org";
    std::string business_name = "Fake Academy";
    std::string country = "DE";
    std::string default_currency = "eur";
    bool charges_enabled = true;
};

// What the user does on Stripe's authorization page (GET /oauth/authorize).
struct AuthorizationDecision {
    bool approve = true;
    AccountProfile account; // the account that connects (new id when empty)
};

struct DeliveryOptions {
    bool duplicate = false; // deliver every event twice
    bool reverse = false;   // deliver a batch in reverse order
};

class FakeStripe {
  public:
    FakeStripe(std::string secret_key, WebhookTarget target);
    ~FakeStripe();
    FakeStripe(const FakeStripe&) = delete;
    FakeStripe& operator=(const FakeStripe&) = delete;

    std::string base_url() const; // http://127.0.0.1:PORT, for [stripe] api_base
    // Where deliver() sends the webhooks from now on: the service is configured with base_url()
    // before it starts, and is told its own port only once it listens (port 0).
    void set_webhook_url(std::string url);

    void add_invoice(FakeInvoice invoice);
    FakeInvoice invoice(const std::string& id) const;
    // Replaces the steps left for this invoice.
    void script_pay(const std::string& invoice_id, std::vector<ScriptedPay> script);

    // Stripe's own attempt failed (the start of every case): bumps attempt_count and queues
    // charge.failed, payment_intent.payment_failed and invoice.payment_failed with `error`.
    void fail_invoice(const std::string& invoice_id, PaymentError error);
    // The member added a card / made it the default: queues payment_method.attached and
    // customer.updated (invoice_settings.default_payment_method changed). A brand of
    // "sepa_debit" attaches a SEPA Direct Debit method instead of a card.
    void attach_payment_method(const std::string& customer, const std::string& payment_method,
                               const std::string& brand = "mastercard", int exp_month = 12,
                               int exp_year = 2030);
    // The member's bank, or the member, revoked the SEPA mandate behind this payment method:
    // queues mandate.updated (status inactive, previous status active), on the account of the
    // invoice or customer that uses it.
    void revoke_mandate(const std::string& payment_method);
    // The member paid on the hosted page: invoice paid, queues payment_intent.succeeded,
    // invoice.paid and invoice.payment_succeeded.
    void pay_out_of_band(const std::string& invoice_id);

    void set_delivery(DeliveryOptions options);
    // Sends every queued webhook to the main URL (when set), to the Connect URL (events of a
    // connected account) and to the API-made endpoints that listened to it when it happened,
    // each signed with that destination's secret. Returns how many events every destination
    // answered 2xx; the others stay queued for the destinations that failed. With `duplicate`
    // the whole batch is sent twice; an event counts once.
    std::size_t deliver();
    // Types of the webhooks waiting for deliver(), oldest first.
    std::vector<std::string> queued_types() const;
    // Removes the webhooks waiting for deliver() and returns their bodies, oldest first, for a
    // test that sends them itself.
    std::vector<std::string> take_queued();
    // SEPA debits whose settle time has passed (by the target's clock) produce their outcome
    // events.
    std::size_t settle();

    // An outage: every API request from now on is answered `status` (500, 503 or 429, with
    // Stripe-Should-Retry: true) and executes nothing, until called again with 0.
    void answer_all_with(int status);
    // Requests answered by the outage switch so far.
    int outage_answers() const;
    // The ids of every event the fake ever created, oldest first (delivered or not).
    std::vector<std::string> event_ids() const;

    std::vector<RecordedRequest> requests() const;
    std::vector<RecordedRequest> requests_to(const std::string& path_prefix) const;
    // Pay requests actually executed (not answered from the idempotency cache): charge attempts
    // made, so scripted 429/5xx answers and refusals (already paid, unknown method) do not count.
    int pay_executions(const std::string& invoice_id) const;

    // ---- Connect and keys (fake_stripe_connect.cpp, fake_stripe_accounts.cpp) ----
    // The fake's own account (the platform's, or a creator's own account for its keys).
    std::string account_id() const;
    void set_account_profile(AccountProfile profile); // keeps the id when profile.id is empty
    // The Connect application's client id (ca_…) that /oauth/authorize accepts; more with
    // add_connect_client, each approving or denying by default.
    std::string connect_client_id() const;
    void add_connect_client(const std::string& client_id, bool approve_by_default = true);
    // The next /oauth/authorize calls, in order, whatever the client; then the client's default.
    void decide_next_authorization(AuthorizationDecision decision);
    // Connects an account as an approved OAuth flow would, without the redirect: the account
    // the platform key reaches with Stripe-Account. Returns its id.
    std::string connect_account(AccountProfile profile = {});
    bool is_connected(const std::string& account) const;
    // The account's owner disconnects the platform on Stripe's side: as POST /oauth/deauthorize,
    // and queues account.application.deauthorized (a Connect event).
    void deauthorize_from_dashboard(const std::string& account);
    // Where Connect events (those with "account") are also sent, signed with `secret`, like a
    // Connect endpoint set up in the platform's dashboard.
    void set_connect_webhook(std::string url, std::string secret);
    // A restricted key (rk_test_…) of `account` ("" = the fake's own) holding exactly these
    // permissions ("rak_invoice_write", …; write implies read).
    std::string make_restricted_key(std::vector<std::string> permissions,
                                    const std::string& account = "");
    // Webhook endpoints created through the API (POST /v1/webhook_endpoints), with secrets.
    struct Endpoint {
        std::string id, account, url, secret;
        std::vector<std::string> enabled_events;
        bool connect = false;
    };
    std::vector<Endpoint> webhook_endpoints() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace dunning::fakes
