#include "store/database.hpp"

#include "store/migrations.hpp"

#include <SQLiteCpp/Transaction.h>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace dunning::store {

namespace {

// SQLite's own busy timeout sleeps up to 100 ms at a time; the writers here are threads of one
// process holding the lock for a millisecond or two, so short waits keep latency low. Gives up
// after about ten seconds.
int wait_for_lock(void*, int count) {
    if (count >= 20000) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(count < 10 ? 50 : 500));
    return 1;
}

void set_pragmas(SQLite::Database& db, const StoreOptions& o) {
    if (o.synchronous != "full" && o.synchronous != "normal")
        throw std::runtime_error("storage.synchronous must be \"full\" or \"normal\"");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(o.synchronous == "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    sqlite3_busy_handler(db.getHandle(), wait_for_lock, nullptr);
}

} // namespace

int latest_schema_version() {
    return static_cast<int>(migrations().size());
}

void migrate(SQLite::Database& db, int to_version) {
    for (int v = schema_version(db); v < to_version; ++v)
        db.exec(migrations().at(static_cast<std::size_t>(v)));
    db.exec("PRAGMA user_version = " + std::to_string(to_version));
}

int schema_version(SQLite::Database& db) {
    return db.execAndGet("PRAGMA user_version").getInt();
}

std::unique_ptr<Connection> connect_store(const StoreOptions& o) {
    auto db = std::make_unique<Connection>(o.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    set_pragmas(*db, o);
    return db;
}

std::unique_ptr<Connection> open_store(const StoreOptions& o) {
    const auto dir = std::filesystem::path(o.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    std::unique_ptr<Connection> db;
    try {
        db = connect_store(o);
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error("cannot open database " + o.path + ": " + e.what());
    }
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
    const int have = schema_version(*db);
    if (have > latest_schema_version())
        throw std::runtime_error(o.path + " has schema version " + std::to_string(have) +
                                 ", newer than this binary knows (" +
                                 std::to_string(latest_schema_version()) + "); upgrade dunning");
    migrate(*db, latest_schema_version());
    tx.commit();
    return db;
}

} // namespace dunning::store
