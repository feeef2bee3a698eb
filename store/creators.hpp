#pragma once
// The creators table: each creator's settings (JSON, readable with sqlite3), where it came from,
// whether it is disabled and the SHA-256 of its API token. No secret is stored here.
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

struct StoredCreator {
    std::string id;
    std::string source; // "config" or "api"
    std::string settings_json;
    bool disabled = false;
    std::string api_token_hash;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

std::vector<StoredCreator> load_creators(Connection& db); // ordered by id
std::optional<StoredCreator> find_stored_creator(Connection& db, const std::string& id);
// A new row; false when the id is taken.
bool insert_creator(Connection& db, const StoredCreator& c);
// A creator of the file: its settings and token hash as the file has them now; a new row, or the
// row of an earlier start with its `disabled` and created_at kept.
void upsert_config_creator(Connection& db, const StoredCreator& c);
void update_creator_settings(Connection& db, const std::string& id, const std::string& settings,
                             std::int64_t now);
void set_creator_disabled(Connection& db, const std::string& id, bool disabled, std::int64_t now);
void set_creator_token_hash(Connection& db, const std::string& id, const std::string& hash,
                            std::int64_t now);

// A digest of every creator's row, Stripe connection and sealed secret, in a fixed order: it
// changes whenever any of them does. Instances sharing a database compare it to learn that
// another one changed a creator (plugin/creator_refresh.hpp).
std::string creators_digest(Connection& db);

// A new API token: 32 random bytes, hex, with the prefix "dt_".
std::string random_api_token();

} // namespace dunning::store
