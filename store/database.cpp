#include "store/database.hpp"

#include "store/case_figures.hpp"
#include "store/migrations.hpp"

#include <SQLiteCpp/Transaction.h>

#include <sqlite3.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace dunning::store {

namespace {

// SQLite's own busy timeout sleeps up to 100 ms at a time; the writers here are threads of one
// process holding the lock for a millisecond or two, so short waits keep latency low. Gives up
// once the connection's lock wait has passed, measured by the clock (a loaded machine stretches
// each sleep).
int wait_for_lock(void* arg, int count) {
    auto& wait = *static_cast<Connection::LockWait*>(arg);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) wait.deadline = now + wait.limit;
    if (now >= wait.deadline) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(count < 10 ? 50 : 500));
    return 1;
}

// SQLite frees its page buffers and statement journals at every savepoint release and commit,
// and allocates them again for the next. glibc hands the top of the heap back to the kernel
// whenever more than 128 KiB lies free there and takes it again at the next allocation: a pair of
// brk calls, the shrinking one with a TLB flush on every core (measured: 15% of the worker's time
// in bench/scheduler's lifecycle benchmark on a 2-core VM). The process keeps up to 32 MiB of
// freed memory for reuse instead.
void keep_freed_memory() {
#ifdef __GLIBC__
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_TRIM_THRESHOLD, 32 << 20);
        mallopt(M_MMAP_THRESHOLD, 4 << 20); // fixed too (else glibc moves it, and the trim with it)
    });
#endif
}

void set_pragmas(Connection& db, const StoreOptions& o) {
    if (o.synchronous != "full" && o.synchronous != "normal")
        throw std::runtime_error("storage.synchronous must be \"full\" or \"normal\"");
    db.lock_wait.limit = o.lock_wait;
    sqlite3_busy_handler(db.getHandle(), wait_for_lock, &db.lock_wait);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(o.synchronous == "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    // A checkpoint copies the WAL's pages into the file and syncs both. Every 10,000 pages (the
    // WAL file grows to about 40 MB) rather than SQLite's 1,000: a page that many commits rewrite
    // (an index's, a busy table's last) is copied once per 10,000, and the syncs are a tenth.
    db.exec("PRAGMA wal_autocheckpoint = 10000");
}

std::string table_names(SQLite::Database& db) {
    SQLite::Statement st(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    std::string names;
    for (int n = 0; st.executeStep(); ++n) {
        if (n == 5) return names + ", ...";
        names += (names.empty() ? "" : ", ") + st.getColumn(0).getString();
    }
    return names;
}

// Reads the file without writing a byte (not even WAL mode) and refuses it unless it is empty
// or a dunning database this binary knows.
void check_existing_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) return;
    const std::string untouched = "; the file was left untouched";
    try {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        const int version = schema_version(db);
        const auto tables = table_names(db);
        if (version == 0 && !tables.empty())
            throw std::runtime_error(path +
                                     " is a SQLite database of another application (tables " +
                                     tables + "), not a dunning store" + untouched);
        if (version > 0 && !db.tableExists("inbox"))
            throw std::runtime_error(path +
                                     " is a SQLite database of another application (schema "
                                     "version " +
                                     std::to_string(version) + ", tables " + tables +
                                     "), not a dunning store" + untouched);
        if (version > latest_schema_version())
            throw std::runtime_error(path + " has schema version " + std::to_string(version) +
                                     ", newer than this binary knows (" +
                                     std::to_string(latest_schema_version()) +
                                     "); upgrade dunning" + untouched);
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error(path + " is not a usable dunning database: " + e.what() +
                                 untouched);
    }
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
    keep_freed_memory();
    auto db = std::make_unique<Connection>(o.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    set_pragmas(*db, o);
    return db;
}

std::unique_ptr<Connection> open_store(const StoreOptions& o) {
    const auto dir = std::filesystem::path(o.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    check_existing_file(o.path);
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
    if (have < latest_schema_version()) fill_missing_case_figures(*db);
    tx.commit();
    return db;
}

} // namespace dunning::store
