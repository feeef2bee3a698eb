#pragma once
// A creator's Stripe connection as the running service sees it: the sealed secrets and the stored
// connection (store/stripe_connections.hpp) applied to the creator's snapshot in the registry, at
// start and whenever a connection is made, replaced or removed, so the webhook route and the
// Stripe jobs use them at once.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "jobs/engine.hpp"
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
// and its secrets. A creator of the file keeps what the file says, and is disconnected only while
// the account the file names has removed the platform (stripe_deauthorized).
void apply_stripe_connection(store::Connection& db, const store::SecretBox& box,
                             config::CreatorConfig& creator);

// The creator of the admin API other than `except` that the store gives `account`, as
// apply_stripe_connection reads it (its OAuth connection, else its settings); "" when none. The
// file's creators are the registry's to answer for (every instance reads the same file; the
// store keeps rows of creators the file no longer has). Asked inside the transaction that then
// gives the account away, the answer holds across instances sharing the store: that transaction
// holds the store's write lock.
std::string account_holder(store::Connection& db, const std::string& account,
                           const std::string& except);

// The other creator holding the account `creator`'s own settings name, "" when none: asked before
// a key connection replaces a (disconnected) OAuth one, whose account then no longer counts.
std::string settings_account_holder(store::Connection& db, const std::string& creator);

// Re-reads the creator's connection into the registry (replace): seen by every route and job.
void reload_stripe_connection(store::Connection& db, const store::SecretBox& box,
                              config::CreatorRegistry& registry, const std::string& creator_id);

// Runs once a creator's Stripe connection is made (OAuth, its own key, an account the platform
// registers) and is in the registry: the cases that waited for it go on. These functions write
// in the caller's transaction.
void on_stripe_connected(store::Connection& db, const Engine& engine,
                         const config::CreatorConfig& creator);

// Runs once a creator's connection was ended and the registry has it: its open cases wait, and
// the platform hears creator.disconnected (`reason`: "deauthorized" when the account removed the
// platform on Stripe's side, "disconnected" when the platform ended it here).
void on_stripe_disconnected(store::Connection& db, const Engine& engine,
                            const std::string& creator_id, const std::string& account,
                            const std::string& reason);

// account.application.deauthorized: `account` removed the platform. When it is the creator's
// connected account, the stored connection is marked disconnected and its tokens dropped, the
// registry takes it, and on_stripe_disconnected runs; in the caller's transaction. Returns false
// when the creator was not connected to that account (disconnected here before, another one, or
// connected again after the event was `created`).
bool stripe_deauthorized(store::Connection& db, const Engine& engine, const std::string& creator_id,
                         const std::string& account, Timestamp created);

// account.application.authorized: `account` connected the platform again. A creator whose
// platform connection (a creator of the file, or an account the platform registered) to that
// account was ended by a deauthorization is connected again and its cases go on. OAuth and key
// connections come back through their own routes instead. Returns whether it was reconnected.
bool stripe_authorized(store::Connection& db, const Engine& engine, const std::string& creator_id,
                       const std::string& account, Timestamp created);

// After the transaction that ran stripe_deauthorized or stripe_authorized committed: each creator
// noted in the engine gets its `stripe_disconnected` from the store again, under the registry's
// lock for changes, so a change of the creator made meanwhile (an admin request that copied the
// snapshot before) cannot leave the registry disagreeing with the store.
void settle_connection_changes(store::Connection& db, const Engine& engine);

// Every open case of the creator looks at its connection again, as the registry has it now: they
// wait while it is disconnected, and go on (the ladder moved on by the time waited) once it is
// connected. Returns how many cases were looked at.
std::size_t follow_stripe_connection(store::Connection& db, const Engine& engine,
                                     const std::string& creator_id);

} // namespace dunning::jobs
