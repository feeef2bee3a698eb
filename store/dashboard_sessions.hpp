#pragma once
// The creator's dashboard: one-time login links and the sessions they open. Only the SHA-256 of
// a link's token and of a session's token is kept, so the database never holds a credential.
// Times are unix seconds of the module's clock.
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

void add_login_link(Connection& db, const std::string& token_hash, const std::string& creator,
                    std::int64_t created_at, std::int64_t expires_at);
// Takes the link once: its creator when it exists, is unused and has not expired (it is then
// used); nothing otherwise.
std::optional<std::string> use_login_link(Connection& db, const std::string& token_hash,
                                          std::int64_t now);

// The link's creator when it exists, is unused and has not expired; the link is not taken (a
// mail scanner fetching the link must not use it up).
std::optional<std::string> login_link_creator(Connection& db, const std::string& token_hash,
                                              std::int64_t now);
// Deletes the links that expired or were used and the sessions unused for `idle_seconds`;
// how many rows went.
std::int64_t purge_dashboard_credentials(Connection& db, std::int64_t now,
                                         std::int64_t idle_seconds);

void add_session(Connection& db, const std::string& token_hash, const std::string& creator,
                 std::int64_t now);
// The session's creator when it was last seen within `idle_seconds` (its last use becomes now);
// nothing for an unknown or idle session (an idle one is deleted).
std::optional<std::string> touch_session(Connection& db, const std::string& token_hash,
                                         std::int64_t now, std::int64_t idle_seconds);
void delete_session(Connection& db, const std::string& token_hash);

// Members of a creator whose access to a product is locked or limited now, as stored.
struct LockedAccess {
    std::string member;
    std::string product;
    std::string level; // locked | limited
    std::string reason;
    std::int64_t case_id = 0;
    std::int64_t since = 0;
};
std::vector<LockedAccess> locked_access(Connection& db, const std::string& creator);

} // namespace dunning::store
