#include "store/database.hpp"

#include "store/case_figures.hpp"
#include "store/migrations.hpp"
#include "store/postgres_connection.hpp"
#include "store/postgres_schema.hpp"
#include "store/sqlite_connection.hpp"
#include "store/statement.hpp"

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace dunning::store {

int latest_schema_version() {
    return static_cast<int>(migrations().size());
}

namespace {

// PostgreSQL starts at its baseline (SQLite's schema at postgres_baseline_version(), in one
// piece) and goes on with the PostgreSQL migrations after it, one version each.
void migrate_postgres(Connection& db, int to_version) {
    int have = db.schema_version();
    if (have == 0) {
        db.exec(postgres_baseline_schema());
        have = postgres_baseline_version();
    }
    if (have < postgres_baseline_version())
        throw std::runtime_error("no PostgreSQL migration from schema version " +
                                 std::to_string(have) + " (PostgreSQL's baseline is version " +
                                 std::to_string(postgres_baseline_version()) + ")");
    const auto& after = postgres_migrations();
    for (int v = have; v < to_version; ++v)
        db.exec(after.at(static_cast<std::size_t>(v - postgres_baseline_version())));
    if (to_version > have) db.set_schema_version(to_version);
}

// An upgrade of a store that holds data, told to options.on_upgrade when it begins and once it is
// committed (`done`); nothing for a new store or one at the latest schema.
class UpgradeReport {
  public:
    UpgradeReport(const StoreOptions& o, std::string where, int have)
        : tell_(o.on_upgrade && have > 0 && have < latest_schema_version() ? o.on_upgrade
                                                                           : nullptr),
          where_(std::move(where)), began_(std::chrono::steady_clock::now()) {
        if (tell_)
            tell_("upgrading the store " + where_ + " from schema " + std::to_string(have) +
                  " to " + std::to_string(latest_schema_version()) +
                  " in one transaction: on a large store this takes a while, and stopping it "
                  "leaves the store as it was");
    }
    void done() const {
        if (!tell_) return;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - began_)
                            .count();
        tell_("the store " + where_ + " is at schema " + std::to_string(latest_schema_version()) +
              " (upgraded in " + std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) +
              " s)");
    }

  private:
    std::function<void(const std::string&)> tell_;
    std::string where_;
    std::chrono::steady_clock::time_point began_;
};

// The first tables of the database's current schema, for a message; "" when it has none.
std::string postgres_table_names(Connection& db) {
    CachedStatement st(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                           "current_schema() ORDER BY table_name LIMIT 6");
    std::string names;
    for (int n = 0; st.executeStep(); ++n) {
        if (n == 5) return names + ", ...";
        names += (names.empty() ? "" : ", ") + st.getColumn(0).getString();
    }
    return names;
}

std::unique_ptr<Connection> open_postgres_store(const StoreOptions& o) {
    const auto where = redacted_postgres_url(o.postgres_url);
    std::unique_ptr<Connection> db;
    try {
        db = connect_store(o);
    } catch (const StoreError& e) {
        throw std::runtime_error("cannot open database " + where + ": " + e.what());
    }
    const std::string untouched = "; the database was left untouched";
    // Instances starting together on an empty database: one applies the schema, the others wait
    // for its commit on the transaction's write lock and find it applied.
    Transaction tx(*db);
    const int have = db->schema_version();
    if (have == 0) {
        if (const auto tables = postgres_table_names(*db); !tables.empty())
            throw std::runtime_error(where + " is a database of another application (tables " +
                                     tables + "), not a dunning store" + untouched);
    }
    if (have > latest_schema_version())
        throw std::runtime_error(where + " has schema version " + std::to_string(have) +
                                 ", newer than this binary knows (" +
                                 std::to_string(latest_schema_version()) + "); upgrade dunning" +
                                 untouched);
    const UpgradeReport upgrade(o, where, have);
    migrate(*db, latest_schema_version());
    tx.commit();
    upgrade.done();
    return db;
}

} // namespace

void migrate(Connection& db, int to_version) {
    if (db.backend() == Backend::postgresql) return migrate_postgres(db, to_version);
    for (int v = db.schema_version(); v < to_version; ++v)
        db.exec(migrations().at(static_cast<std::size_t>(v)));
    db.set_schema_version(to_version);
}

std::unique_ptr<Connection> connect_store(const StoreOptions& o) {
    if (!o.postgres_url.empty()) return connect_postgres(o.postgres_url, o);
    return connect_sqlite(o);
}

std::unique_ptr<Connection> open_store(const StoreOptions& o) {
    if (!o.postgres_url.empty()) return open_postgres_store(o);
    const auto dir = std::filesystem::path(o.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    check_sqlite_file(o.path);
    std::unique_ptr<Connection> db;
    try {
        db = connect_store(o);
    } catch (const StoreError& e) {
        throw std::runtime_error("cannot open database " + o.path + ": " + e.what());
    }
    Transaction tx(*db);
    const int have = db->schema_version();
    if (have > latest_schema_version())
        throw std::runtime_error(o.path + " has schema version " + std::to_string(have) +
                                 ", newer than this binary knows (" +
                                 std::to_string(latest_schema_version()) + "); upgrade dunning");
    const UpgradeReport upgrade(o, o.path, have);
    migrate(*db, latest_schema_version());
    // Every save since schema 15 writes the case's figures: only older stores lack some.
    constexpr int first_with_case_figures = 15;
    if (have < first_with_case_figures) fill_missing_case_figures(*db);
    tx.commit();
    upgrade.done();
    return db;
}

} // namespace dunning::store
