#include "store/secrets.hpp"

#include "store/statement.hpp"

#include <openssl/crypto.h>

namespace dunning::store {

namespace {

struct SealedRow {
    std::string creator;
    std::string name;
    std::string sealed;
};

std::vector<SealedRow> rows_not_under(Connection& db, const std::string& kid) {
    CachedStatement st(db, "SELECT creator_id, name, sealed FROM creator_secrets "
                           "WHERE key_id <> ? ORDER BY creator_id, name");
    st.bind(1, kid);
    std::vector<SealedRow> rows;
    while (st.executeStep())
        rows.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                        st.getColumn(2).getString()});
    return rows;
}

void write_sealed(Connection& db, const std::string& creator, const std::string& name,
                  const std::string& sealed, const std::string& kid, Timestamp now) {
    CachedStatement st(db, R"sql(
        INSERT INTO creator_secrets (creator_id, name, sealed, key_id, updated_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (creator_id, name) DO UPDATE SET
            sealed = excluded.sealed, key_id = excluded.key_id, updated_at = excluded.updated_at
    )sql");
    st.bind(1, creator);
    st.bind(2, name);
    st.bind(3, sealed);
    st.bind(4, kid);
    st.bind(5, static_cast<std::int64_t>(to_unix(now)));
    st.exec();
}

// Opens a row with `from`, seals it again with `to` and writes it; the problem, if any.
std::optional<std::string> reseal(Connection& db, const SecretBox& from, const SecretBox& to,
                                  const SealedRow& row, Timestamp now) {
    const auto place = secret_place(row.creator, row.name);
    auto plain = from.open(row.sealed, place);
    if (!plain) return plain.error();
    auto sealed = to.seal(plain.value(), place);
    OPENSSL_cleanse(plain.value().data(), plain.value().size());
    if (!sealed) return sealed.error();
    write_sealed(db, row.creator, row.name, sealed.value(), to.sealing_key_id(), now);
    return std::nullopt;
}

} // namespace

std::string secret_place(std::string_view creator, std::string_view name) {
    return std::to_string(creator.size()) + ":" + std::string(creator) + "/" + std::string(name);
}

Result<std::monostate, std::string> put_secret(Connection& db, const SecretBox& box,
                                               const std::string& creator, const std::string& name,
                                               std::string_view plaintext, Timestamp now) {
    if (!box.can_seal())
        return err("cannot store secret " + name + " of creator " + creator +
                   ": no [storage] secrets_key is configured");
    auto sealed = box.seal(plaintext, secret_place(creator, name));
    if (!sealed)
        return err("cannot store secret " + name + " of creator " + creator + ": " +
                   sealed.error());
    write_sealed(db, creator, name, sealed.value(), box.sealing_key_id(), now);
    return std::monostate{};
}

Result<std::optional<std::string>, std::string> get_secret(Connection& db, const SecretBox& box,
                                                           const std::string& creator,
                                                           const std::string& name) {
    CachedStatement st(db, "SELECT sealed FROM creator_secrets WHERE creator_id = ? AND name = ?");
    st.bind(1, creator);
    st.bind(2, name);
    if (!st.executeStep()) return std::optional<std::string>();
    auto opened = box.open(st.getColumn(0).getString(), secret_place(creator, name));
    if (!opened) return err("secret " + name + " of creator " + creator + ": " + opened.error());
    return std::optional<std::string>(std::move(opened).value());
}

bool delete_secret(Connection& db, const std::string& creator, const std::string& name) {
    CachedStatement st(db, "DELETE FROM creator_secrets WHERE creator_id = ? AND name = ?");
    st.bind(1, creator);
    st.bind(2, name);
    return st.exec() > 0;
}

std::vector<std::string> list_secret_names(Connection& db, const std::string& creator) {
    CachedStatement st(db, "SELECT name FROM creator_secrets WHERE creator_id = ? ORDER BY name");
    st.bind(1, creator);
    std::vector<std::string> names;
    while (st.executeStep())
        names.push_back(st.getColumn(0).getString());
    return names;
}

RotationReport rotate_secrets(Connection& db, const SecretBox& from, const SecretBox& to,
                              Timestamp now,
                              const std::function<void(std::size_t, std::size_t)>& progress) {
    RotationReport report;
    if (!to.can_seal()) {
        report.failed.push_back("no new key to seal with");
        return report;
    }
    const auto kid = to.sealing_key_id();
    Transaction tx(db);
    {
        CachedStatement count(db, "SELECT count(*) FROM creator_secrets");
        count.executeStep();
        report.total = static_cast<std::size_t>(count.getColumn(0).getInt64());
    }
    auto rows = rows_not_under(db, kid);
    report.skipped = report.total - rows.size();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (auto problem = reseal(db, from, to, rows[i], now))
            report.failed.push_back(rows[i].creator + "/" + rows[i].name + ": " + *problem);
        else
            ++report.resealed;
        if (progress) progress(i + 1, rows.size());
    }
    if (!report.failed.empty()) {
        report.resealed = 0; // the transaction rolls back: nothing changed
        return report;
    }
    tx.commit();
    return report;
}

} // namespace dunning::store
