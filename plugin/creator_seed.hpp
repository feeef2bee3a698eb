#pragma once
// At start: the creators of the file go into the store (source "config"), those made through the
// admin API (source "api") come out of it, and all of them into the registry the service runs
// with.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

#include <string>
#include <vector>

namespace dunning::plugin {

// Throws std::runtime_error naming the id and the file when an id of the file was made through
// the admin API, or when a stored creator no longer passes the checks.
void seed_creators(store::Connection& db, const config::Config& config,
                   config::CreatorRegistry& registry, Timestamp now);

// The creators made through the admin API, read from the store into `registry` (which holds the
// file's already); nothing is written. For the commands that run beside the service.
void add_api_creators(store::Connection& db, const config::Config& config,
                      config::CreatorRegistry& registry);

// A creator's secrets kept outside the creators table.
struct CreatorSecrets {
    std::vector<std::string> webhook_secrets;
    std::string stripe_secret_key;
};
// The secrets of a creator made through the admin API. The store keeps none yet (they will come
// from sealed storage): such a creator receives its webhooks through [stripe]
// connect_webhook_secrets and charges with [stripe] platform_secret_key.
CreatorSecrets stored_secrets(store::Connection& db, const std::string& creator_id);

} // namespace dunning::plugin
