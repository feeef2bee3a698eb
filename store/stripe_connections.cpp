#include "store/stripe_connections.hpp"

#include "store/statement.hpp"

namespace dunning::store {

namespace {

constexpr const char* columns =
    "SELECT creator_id, method, account, status, key_last4, "
    "webhook_endpoint, connected_at, updated_at FROM stripe_connections";

StripeConnection read_row(CachedStatement& st) {
    return StripeConnection{st.getColumn(0).getString(), st.getColumn(1).getString(),
                            st.getColumn(2).getString(), st.getColumn(3).getString(),
                            st.getColumn(4).getString(), st.getColumn(5).getString(),
                            st.getColumn(6).getInt64(),  st.getColumn(7).getInt64()};
}

} // namespace

std::optional<StripeConnection> find_stripe_connection(Connection& db, const std::string& creator) {
    CachedStatement st(db, std::string(columns) + " WHERE creator_id = ?");
    st.bind(1, creator);
    if (!st.executeStep()) return std::nullopt;
    return read_row(st);
}

std::vector<StripeConnection> load_stripe_connections(Connection& db) {
    CachedStatement st(db, std::string(columns) + " ORDER BY creator_id");
    std::vector<StripeConnection> out;
    while (st.executeStep())
        out.push_back(read_row(st));
    return out;
}

void put_stripe_connection(Connection& db, const StripeConnection& c) {
    CachedStatement st(db,
                       "INSERT INTO stripe_connections (creator_id, method, "
                       "account, status, key_last4, webhook_endpoint, connected_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (creator_id) DO UPDATE SET method = excluded.method, "
                       "account = excluded.account, status = excluded.status, "
                       "key_last4 = excluded.key_last4, "
                       "webhook_endpoint = excluded.webhook_endpoint, "
                       "connected_at = excluded.connected_at, updated_at = excluded.updated_at");
    st.bind(1, c.creator_id);
    st.bind(2, c.method);
    st.bind(3, c.account);
    st.bind(4, c.status);
    st.bind(5, c.key_last4);
    st.bind(6, c.webhook_endpoint);
    st.bind(7, c.connected_at);
    st.bind(8, c.updated_at);
    st.exec();
}

void delete_stripe_connection(Connection& db, const std::string& creator) {
    CachedStatement st(db, "DELETE FROM stripe_connections WHERE creator_id = ?");
    st.bind(1, creator);
    st.exec();
}

bool use_oauth_nonce(Connection& db, const std::string& nonce, const std::string& creator,
                     std::int64_t now) {
    CachedStatement st(db, "INSERT INTO oauth_nonces (nonce, creator_id, used_at) "
                           "VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    st.bind(1, nonce);
    st.bind(2, creator);
    st.bind(3, now);
    return st.exec() == 1;
}

} // namespace dunning::store
