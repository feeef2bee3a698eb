#pragma once
// The SQLite file: opening it with the durability we promise, and the versioned schema.
// Each thread that writes or reads opens its own connection (SQLite connections are not
// shared across threads here); WAL lets readers go on while one writer commits.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dunning::store {

class CachedStatement;

// What the other rooms see of the database: a connection to pass along and a write transaction.
// They never write SQL (scripts/include-graph.txt keeps SQLite's headers inside store/).
// A connection keeps the statements store/ prepared on it (CachedStatement): parsing the SQL
// again on every call cost more than running it.
class Connection : public SQLite::Database {
  public:
    using SQLite::Database::Database;
    ~Connection(); // the statements are finalized before the connection closes

    // How long a statement waits for another connection's (or process's) write lock before it
    // fails with SQLITE_BUSY.
    struct LockWait {
        std::chrono::milliseconds limit{10000};
        std::chrono::steady_clock::time_point deadline;
    };
    LockWait lock_wait;

    // The SQL of every statement the cache holds, and the virtual-machine steps they have run
    // since the last reset: what a test or benchmark reads to show that a unit of work costs
    // the same however much is stored (EXPLAIN QUERY PLAN of each, steps per unit).
    std::vector<std::string> cached_sql() const;
    std::int64_t statement_steps(bool reset = false);

    // store/cases.cpp's memo of case states read or written on this connection, each with the
    // JSON text it came from: a row whose text is unchanged is not parsed again.
    struct CaseMemo;
    CaseMemo& case_memo();

  private:
    friend class CachedStatement;
    struct Slot {
        std::unique_ptr<SQLite::Statement> statement;
        bool in_use = false;
    };
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const {
            return std::hash<std::string_view>{}(sql);
        }
    };
    std::unordered_map<std::string, Slot, SqlHash, std::equal_to<>> statements_;
    std::unique_ptr<CaseMemo, void (*)(CaseMemo*)> case_memo_{nullptr, nullptr};
};

// BEGIN IMMEDIATE: takes the write lock at once, so two writers never deadlock upgrading a read.
// Rolled back unless commit() is called.
class Transaction {
  public:
    explicit Transaction(Connection& db) : tx_(db, SQLite::TransactionBehavior::IMMEDIATE) {}
    void commit() { tx_.commit(); }

  private:
    SQLite::Transaction tx_;
};

// Inside a transaction: keeps one unit's writes apart, so a failed unit can be undone while the
// units around it commit.
class Savepoint {
  public:
    explicit Savepoint(Connection& db);
    ~Savepoint(); // releases; after rollback() the unit's writes are gone
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void rollback();

  private:
    Connection& db_;
};

// True when an exception is the store's own trouble (busy, locked, disk full, I/O error) rather
// than something wrong with the data being written: the work is then left to be tried again.
bool store_in_trouble(const std::exception& e);

struct StoreOptions {
    std::string path;
    std::string synchronous =
        "full"; // "full": an fsync per commit; "normal": crash-safe, not power-safe
    std::chrono::milliseconds lock_wait{10000}; // then SQLITE_BUSY
};

// Opens (creating if needed) and applies pending migrations. Throws std::runtime_error with a
// clear message naming the file when it cannot be opened, is not a dunning database (another
// application's SQLite file, random bytes, text: never written to then) or is newer than this
// binary.
std::unique_ptr<Connection> open_store(const StoreOptions& options);

// Opens another connection to a store that open_store already prepared.
std::unique_ptr<Connection> connect_store(const StoreOptions& options);

int schema_version(SQLite::Database& db);

// One connection used by many threads in turn (the HTTP API's reads and creator commands): each
// use() holds it for the whole call, so a transaction begun inside is the caller's alone.
class SharedConnection {
  public:
    explicit SharedConnection(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
    template <class F> auto use(F&& f) {
        std::lock_guard lock(mutex_);
        return f(*db_);
    }

  private:
    std::unique_ptr<Connection> db_;
    std::mutex mutex_;
};
int latest_schema_version();
// Applies the migrations that bring `db` up to `to_version`, in the caller's transaction
// (open_store's; tests build stores of earlier versions with it).
void migrate(SQLite::Database& db, int to_version);

} // namespace dunning::store
