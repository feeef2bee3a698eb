#pragma once
// A creator's Stripe connection as the running service sees it: the sealed secrets and the stored
// connection (store/stripe_connections.hpp) applied to the creator's snapshot in the registry, at
// start and whenever a connection is made, replaced or removed, so the webhook route and the
// Stripe jobs use them at once.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "store/database.hpp"
#include "store/secret_box.hpp"

#include <string>

namespace dunning::jobs {

// Names in creator_secrets.
inline constexpr const char* secret_stripe_key = "stripe_secret_key";
inline constexpr const char* secret_webhook = "webhook_secret";
inline constexpr const char* secret_oauth_access = "oauth_access_token";
inline constexpr const char* secret_oauth_refresh = "oauth_refresh_token";

struct CreatorSecrets {
    std::string stripe_secret_key;
    std::string webhook_secret;
    std::string oauth_access_token;
};

// The creator's sealed secrets; one that does not open (its key is not configured) is left out
// and logged, never shown.
CreatorSecrets stored_secrets(store::Connection& db, const store::SecretBox& box,
                              const std::string& creator_id);

// Sets the Stripe parts of a creator of the admin API from its settings, its stored connection
// and its secrets. A creator of the file keeps what the file says.
void apply_stripe_connection(store::Connection& db, const store::SecretBox& box,
                             config::CreatorConfig& creator);

// Re-reads the creator's connection into the registry (replace): seen by every route and job.
void reload_stripe_connection(store::Connection& db, const store::SecretBox& box,
                              config::CreatorRegistry& registry, const std::string& creator_id);

// Runs once a creator's Stripe connection is made (OAuth, its own key, an account the platform
// registers) and is in the registry: the place for the work a new connection starts.
void on_stripe_connected(store::Connection& db, const config::CreatorConfig& creator,
                         Timestamp now);

} // namespace dunning::jobs
