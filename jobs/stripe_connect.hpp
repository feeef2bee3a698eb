#pragma once
// Connecting a creator's Stripe account: the OAuth state (signed, bound to the creator, expiring),
// the code exchange and deauthorization with the platform's key, and a creator's own restricted
// key checked and given a webhook endpoint. Answers as values; messages say what Stripe said.
#include "config/config.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "retry/stripe_client.hpp"

#include <chrono>
#include <string>
#include <variant>
#include <vector>

namespace dunning::jobs {

inline constexpr std::chrono::minutes oauth_state_lifetime{15};

// The key states are signed with: [server] link_secret, else one derived from [storage]
// secrets_key; "" when neither is set.
std::string oauth_state_secret(const config::Config& config);

struct OAuthState {
    std::string creator;
    std::string nonce; // 32 hex digits, single-use
    Timestamp expires;
    bool import_open_invoices = true; // the admin's choice when it asked for the URL
    bool expired = false;             // signed by us, but too old to use
};
// "<creator>.<nonce>.<expiry, unix seconds>.<import: 1 or 0>.<HMAC-SHA256 hex over the first
// four>".
std::string make_oauth_state(const std::string& secret, const std::string& creator, Timestamp now,
                             bool import_open_invoices = true);
// The state, when its signature holds (then `expired` tells whether it is still usable); else
// why not.
Result<OAuthState, std::string> read_oauth_state(const std::string& secret, const std::string& text,
                                                 Timestamp now);

struct OAuthGrant {
    std::string account; // stripe_user_id
    std::string access_token;
    std::string refresh_token;
};

struct KeyEndpoint {
    std::string account; // the key's account (GET /v1/account)
    std::string endpoint_id;
    std::string secret; // whsec_…
};

class StripeConnector {
  public:
    StripeConnector(const config::Config& config, retry::StripeClientOptions options);

    Result<OAuthGrant, std::string> exchange_code(const std::string& code);
    Result<std::monostate, std::string> deauthorize(const std::string& account);
    // The key's account; the error is Stripe's message.
    Result<std::string, std::string> check_key(const std::string& key);
    Result<KeyEndpoint, std::string> create_endpoint(const std::string& key,
                                                     const std::string& url);
    // An endpoint already gone counts as deleted.
    Result<std::monostate, std::string> delete_endpoint(const std::string& key,
                                                        const std::string& endpoint_id);

  private:
    const config::Config& config_;
    retry::StripeClient api_;
    retry::StripeClient oauth_;
};

} // namespace dunning::jobs
