#pragma once
// How each creator reaches Stripe: the stored connection (method, account, status, the key's last
// four characters, the webhook endpoint made for it), and the OAuth states already used. The
// secrets themselves are sealed in creator_secrets (store/secrets.hpp), never here.
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

struct StripeConnection {
    std::string creator_id;
    std::string method;    // oauth | platform | key
    std::string account;   // acct_…; may be "" for a key whose account is the creator's own
    std::string status;    // connected | disconnected
    std::string key_last4; // key connections only
    std::string webhook_endpoint;  // we_… made with the creator's key
    std::int64_t connected_at = 0; // unix seconds, module clock
    std::int64_t updated_at = 0;
};

std::optional<StripeConnection> find_stripe_connection(Connection& db, const std::string& creator);
// Every creator's connection, ordered by creator.
std::vector<StripeConnection> load_stripe_connections(Connection& db);
// Adds or replaces the creator's connection.
void put_stripe_connection(Connection& db, const StripeConnection& c);
void delete_stripe_connection(Connection& db, const std::string& creator);

// Records an OAuth state's nonce as used; false when it was used before (a replay).
bool use_oauth_nonce(Connection& db, const std::string& nonce, const std::string& creator,
                     std::int64_t now);

} // namespace dunning::store
