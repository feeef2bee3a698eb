#include "store/database.hpp"

#include "store/case_figures.hpp"
#include "store/migrations.hpp"
#include "store/sqlite_connection.hpp"

#include <filesystem>
#include <stdexcept>

namespace dunning::store {

int latest_schema_version() {
    return static_cast<int>(migrations().size());
}

void migrate(Connection& db, int to_version) {
    for (int v = db.schema_version(); v < to_version; ++v)
        db.exec(migrations().at(static_cast<std::size_t>(v)));
    db.set_schema_version(to_version);
}

std::unique_ptr<Connection> connect_store(const StoreOptions& o) {
    return connect_sqlite(o);
}

std::unique_ptr<Connection> open_store(const StoreOptions& o) {
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
    migrate(*db, latest_schema_version());
    if (have < latest_schema_version()) fill_missing_case_figures(*db);
    tx.commit();
    return db;
}

} // namespace dunning::store
