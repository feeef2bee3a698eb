#include "store/dashboard_sessions.hpp"

#include "store/statement.hpp"

#include <algorithm>
#include <tuple>

namespace dunning::store {

void add_login_link(Connection& db, const std::string& token_hash, const std::string& creator,
                    std::int64_t created_at, std::int64_t expires_at) {
    CachedStatement st(db, "INSERT INTO dashboard_login_links (token_hash, creator_id, "
                           "created_at, expires_at) VALUES (?, ?, ?, ?)");
    st.bind(1, token_hash);
    st.bind(2, creator);
    st.bind(3, created_at);
    st.bind(4, expires_at);
    st.exec();
}

std::optional<std::string> use_login_link(Connection& db, const std::string& token_hash,
                                          std::int64_t now) {
    // One statement: two requests with the same link cannot both take it.
    CachedStatement st(db, "UPDATE dashboard_login_links SET used_at = ? WHERE token_hash = ? "
                           "AND used_at IS NULL AND expires_at > ? RETURNING creator_id");
    st.bind(1, now);
    st.bind(2, token_hash);
    st.bind(3, now);
    if (!st.executeStep()) return std::nullopt;
    auto creator = st.getColumn(0).getString();
    while (st.executeStep()) {
    }
    return creator;
}

std::optional<std::string> login_link_creator(Connection& db, const std::string& token_hash,
                                              std::int64_t now) {
    CachedStatement st(db, "SELECT creator_id FROM dashboard_login_links WHERE token_hash = ? "
                           "AND used_at IS NULL AND expires_at > ?");
    st.bind(1, token_hash);
    st.bind(2, now);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getString();
}

std::int64_t purge_dashboard_credentials(Connection& db, std::int64_t now,
                                         std::int64_t idle_seconds) {
    CachedStatement links(db, "DELETE FROM dashboard_login_links WHERE used_at IS NOT NULL OR "
                              "expires_at <= ?");
    links.bind(1, now);
    std::int64_t gone = links.exec();
    CachedStatement sessions(db, "DELETE FROM dashboard_sessions WHERE last_seen_at <= ?");
    sessions.bind(1, now - idle_seconds);
    gone += sessions.exec();
    return gone;
}

void add_session(Connection& db, const std::string& token_hash, const std::string& creator,
                 std::int64_t now) {
    CachedStatement st(db, "INSERT INTO dashboard_sessions (token_hash, creator_id, created_at, "
                           "last_seen_at) VALUES (?, ?, ?, ?)");
    st.bind(1, token_hash);
    st.bind(2, creator);
    st.bind(3, now);
    st.bind(4, now);
    st.exec();
}

std::optional<std::string> touch_session(Connection& db, const std::string& token_hash,
                                         std::int64_t now, std::int64_t idle_seconds) {
    std::optional<std::string> creator;
    {
        // CASE, not SQLite's two-argument MAX (PostgreSQL's is GREATEST).
        CachedStatement st(db, "UPDATE dashboard_sessions SET last_seen_at = CASE WHEN "
                               "last_seen_at > ?1 THEN last_seen_at ELSE ?1 END "
                               "WHERE token_hash = ?2 AND last_seen_at > ?3 RETURNING creator_id");
        st.bind(1, now);
        st.bind(2, token_hash);
        st.bind(3, now - idle_seconds);
        if (st.executeStep()) {
            creator = st.getColumn(0).getString();
            while (st.executeStep()) {
            }
        }
    }
    if (!creator) delete_session(db, token_hash);
    return creator;
}

void delete_session(Connection& db, const std::string& token_hash) {
    CachedStatement st(db, "DELETE FROM dashboard_sessions WHERE token_hash = ?");
    st.bind(1, token_hash);
    st.exec();
}

std::vector<LockedAccess> locked_access(Connection& db, const std::string& creator) {
    // In the order of entitlements_restricted (creator_id, level, then the primary key), which
    // holds only the restricted ones: ordered by member alone, SQLite would walk the primary key
    // through every entitlement of the creator.
    CachedStatement st(db, "SELECT customer_id, product_id, level, reason, case_id, since "
                           "FROM entitlements WHERE creator_id = ? AND level IN ('locked', "
                           "'limited') ORDER BY level, customer_id, product_id");
    st.bind(1, creator);
    std::vector<LockedAccess> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                       st.getColumn(2).getString(), st.getColumn(3).getString(),
                       st.getColumn(4).getInt64(), st.getColumn(5).getInt64()});
    std::sort(out.begin(), out.end(), [](const LockedAccess& a, const LockedAccess& b) {
        return std::tie(a.member, a.product) < std::tie(b.member, b.product);
    });
    return out;
}

} // namespace dunning::store
