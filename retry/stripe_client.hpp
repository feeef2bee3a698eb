#pragma once
// The part of Stripe's API the module calls, over HTTPS with certificate verification.
// Technical failures (network, 429, 5xx) are retried here with jittered backoff, honouring
// Stripe-Should-Retry; they are never reported as payment attempts.
#include "core/event.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dunning::retry {

struct StripeAuth {
    std::string secret_key; // sk_… / rk_…
    std::string account;    // acct_… sent as Stripe-Account (Connect), empty otherwise
};

struct ApiResult {
    enum class Kind {
        ok,            // 2xx
        card_error,    // 402: the payment was declined; `error` says why
        request_error, // other 4xx that retrying will not fix (invoice already paid, not found, …)
        technical,     // network errors, 429, 5xx after the retries allowed here
    };
    Kind kind = Kind::technical;
    int http_status = 0;    // 0 when no HTTP answer arrived
    std::string body;       // the raw JSON answer
    PaymentError error;     // from the error object of a 4xx
    std::string error_type; // card_error, invalid_request_error, …
    std::string request_id; // Request-Id header, for support
    int tries = 0;          // HTTP requests made
    bool ok() const { return kind == Kind::ok; }
};
const char* to_string(ApiResult::Kind k);

struct StripeClientOptions {
    std::string api_base = "https://api.stripe.com";
    std::string api_version = "2025-03-31.basil"; // sent as Stripe-Version
    int max_tries = 3;                            // per call, for technical failures
    std::chrono::milliseconds base_backoff{500};
    std::chrono::milliseconds max_backoff{8000};
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds read_timeout{30};
    std::string ca_file; // extra CA bundle (tests); system store otherwise
    std::function<void(std::chrono::milliseconds)> sleep; // injectable; real sleep by default
    std::uint64_t jitter_seed = 0;                        // 0: random
};

// Stable per (invoice, attempt): a crash or a repeated tick never charges twice.
std::string charge_idempotency_key(const std::string& invoice_id, int attempt);

// Stable per case: a case is marked paid once, however often the job runs.
std::string paid_out_of_band_idempotency_key(std::int64_t case_id);

class StripeClient {
  public:
    explicit StripeClient(StripeClientOptions options);

    // POST /v1/invoices/{id}/pay with off_session=true and, when given, payment_method.
    ApiResult pay_invoice(const StripeAuth& auth, const std::string& invoice_id,
                          const std::optional<std::string>& payment_method,
                          const std::string& idempotency_key);
    // POST /v1/invoices/{id}/pay with paid_out_of_band=true: paid outside Stripe, no charge.
    ApiResult pay_out_of_band(const StripeAuth& auth, const std::string& invoice_id,
                              const std::string& idempotency_key);
    ApiResult get_invoice(const StripeAuth& auth, const std::string& invoice_id);
    ApiResult get_customer(const StripeAuth& auth, const std::string& customer_id);
    ApiResult get_payment_method(const StripeAuth& auth, const std::string& payment_method_id);
    // DELETE /v1/subscriptions/{id}
    ApiResult cancel_subscription(const StripeAuth& auth, const std::string& subscription_id,
                                  const std::string& idempotency_key);
    // POST /v1/invoices/{id}/mark_uncollectible
    ApiResult mark_uncollectible(const StripeAuth& auth, const std::string& invoice_id,
                                 const std::string& idempotency_key);
    // GET /v1/events?created[gte]=…&starting_after=… (one page; for recovering missed webhooks)
    ApiResult list_events(const StripeAuth& auth, std::int64_t created_gte,
                          const std::string& starting_after, int limit = 100);

    // GET /v1/invoices?status=…&starting_after=… (one page; invoices already open at connection)
    ApiResult list_invoices(const StripeAuth& auth, const std::string& status,
                            const std::string& starting_after, int limit = 100);
    // Connecting a creator:
    ApiResult get_account(const StripeAuth& auth); // GET /v1/account
    // POST /v1/webhook_endpoints with these enabled_events; the answer holds its `secret`.
    ApiResult create_webhook_endpoint(const StripeAuth& auth, const std::string& url,
                                      const std::vector<std::string>& events,
                                      const std::string& idempotency_key);
    ApiResult delete_webhook_endpoint(const StripeAuth& auth, const std::string& endpoint_id);
    // Connect OAuth, on a client whose api_base is the OAuth host (connect.stripe.com), with the
    // platform's key: POST /oauth/token (grant_type=authorization_code) and /oauth/deauthorize.
    // OAuth errors come as {"error", "error_description"} in `body`.
    ApiResult oauth_token(const StripeAuth& platform, const std::string& code);
    ApiResult oauth_deauthorize(const StripeAuth& platform, const std::string& client_id,
                                const std::string& account);

  private:
    struct Call;
    struct Jitter; // seeded PRNG shared by copies, safe across threads
    ApiResult send(const Call& call);
    std::chrono::milliseconds retry_delay(int tries_so_far,
                                          std::optional<std::chrono::seconds> retry_after);
    StripeClientOptions options_;
    std::shared_ptr<Jitter> jitter_;
};

// application/x-www-form-urlencoded, Stripe's way (nested keys as a[b]).
std::string form_encode(const std::map<std::string, std::string>& fields);

} // namespace dunning::retry
