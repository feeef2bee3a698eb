#include "store/creators.hpp"

#include "crypto/crypto.hpp"
#include "store/statement.hpp"

namespace dunning::store {

namespace {

constexpr const char* columns =
    "SELECT id, source, settings, disabled, api_token_hash, created_at, updated_at FROM creators";

StoredCreator read_row(CachedStatement& st) {
    return {st.getColumn(0).getString(),   st.getColumn(1).getString(), st.getColumn(2).getString(),
            st.getColumn(3).getInt() != 0, st.getColumn(4).getString(), st.getColumn(5).getInt64(),
            st.getColumn(6).getInt64()};
}

void update(Connection& db, const char* sql, const std::string& id, auto value, std::int64_t now) {
    CachedStatement st(db, sql);
    st.bind(1, value);
    st.bind(2, now);
    st.bind(3, id);
    st.exec();
}

} // namespace

std::vector<StoredCreator> load_creators(Connection& db) {
    CachedStatement st(db, std::string(columns) + " ORDER BY id");
    std::vector<StoredCreator> out;
    while (st.executeStep())
        out.push_back(read_row(st));
    return out;
}

std::optional<StoredCreator> find_stored_creator(Connection& db, const std::string& id) {
    CachedStatement st(db, std::string(columns) + " WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_row(st);
}

bool insert_creator(Connection& db, const StoredCreator& c) {
    CachedStatement st(db, "INSERT INTO creators (id, source, settings, disabled, api_token_hash, "
                           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (id) DO NOTHING");
    st.bind(1, c.id);
    st.bind(2, c.source);
    st.bind(3, c.settings_json);
    st.bind(4, c.disabled ? 1 : 0);
    st.bind(5, c.api_token_hash);
    st.bind(6, c.created_at);
    st.bind(7, c.updated_at);
    return st.exec() == 1;
}

void upsert_config_creator(Connection& db, const StoredCreator& c) {
    CachedStatement st(db,
                       "INSERT INTO creators (id, source, settings, disabled, api_token_hash, "
                       "created_at, updated_at) VALUES (?, 'config', ?, 0, ?, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET source = 'config', "
                       "settings = excluded.settings, api_token_hash = excluded.api_token_hash, "
                       "updated_at = excluded.updated_at "
                       "WHERE creators.settings <> excluded.settings "
                       "OR creators.api_token_hash <> excluded.api_token_hash");
    st.bind(1, c.id);
    st.bind(2, c.settings_json);
    st.bind(3, c.api_token_hash);
    st.bind(4, c.created_at);
    st.bind(5, c.updated_at);
    st.exec();
}

void update_creator_settings(Connection& db, const std::string& id, const std::string& settings,
                             std::int64_t now) {
    update(db, "UPDATE creators SET settings = ?, updated_at = ? WHERE id = ?", id, settings, now);
}

void set_creator_disabled(Connection& db, const std::string& id, bool disabled, std::int64_t now) {
    update(db, "UPDATE creators SET disabled = ?, updated_at = ? WHERE id = ?", id,
           disabled ? 1 : 0, now);
}

void set_creator_token_hash(Connection& db, const std::string& id, const std::string& hash,
                            std::int64_t now) {
    update(db, "UPDATE creators SET api_token_hash = ?, updated_at = ? WHERE id = ?", id, hash,
           now);
}

std::string creators_digest(Connection& db) {
    std::string rows;
    const auto add = [&](const char* sql, int columns) {
        CachedStatement st(db, sql);
        while (st.executeStep()) {
            for (int i = 0; i < columns; ++i) {
                const auto text = st.getColumn(i).text();
                rows += std::to_string(text.size()); // lengths first: no two row sets read alike
                rows += ':';
                rows += text;
            }
            rows += '\n';
        }
        rows += "--\n";
    };
    add("SELECT id, source, settings, disabled, api_token_hash, updated_at FROM creators "
        "ORDER BY id",
        6);
    add("SELECT creator_id, method, account, status, key_last4, webhook_endpoint, connected_at, "
        "updated_at FROM stripe_connections ORDER BY creator_id",
        8);
    add("SELECT creator_id, name, sealed, key_id, updated_at FROM creator_secrets "
        "ORDER BY creator_id, name",
        5);
    return crypto::sha256_hex(rows);
}

std::string random_api_token() {
    return "dt_" + crypto::random_hex(32);
}

} // namespace dunning::store
