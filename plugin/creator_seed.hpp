#pragma once
// At start: the creators of the file go into the store (source "config"), those made through the
// admin API (source "api") come out of it, and all of them into the registry the service runs
// with.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "store/database.hpp"
#include "store/secret_box.hpp"

namespace dunning::plugin {

// Throws std::runtime_error naming the id and the file when an id of the file was made through
// the admin API, or when a stored creator no longer passes the checks.
// A creator of the admin API gets its stored Stripe connection and sealed secrets
// (jobs/stripe_connection.hpp), opened with `box`.
void seed_creators(store::Connection& db, const config::Config& config,
                   config::CreatorRegistry& registry, const store::SecretBox& box, Timestamp now);

// The creators made through the admin API, read from the store into `registry` (which holds the
// file's already), and the file's marked disconnected where their account left the platform;
// nothing is written. For the commands that run beside the service.
void add_api_creators(store::Connection& db, const config::Config& config,
                      config::CreatorRegistry& registry, const store::SecretBox& box);

// The running registry brought up to what the store says now, nothing written: the creators made
// or changed through the admin API of any instance sharing the database, and of the file's,
// whether they are disabled, their API token and their Stripe connection. `config` is the one
// the running creators were last built from (the file as of the last reload).
void refresh_creators(store::Connection& db, const config::Config& config,
                      config::CreatorRegistry& registry, const store::SecretBox& box);

} // namespace dunning::plugin
