#pragma once
// The database behind the store, whichever engine it is: a connection, its prepared statements,
// transactions and savepoints, and opening a store with the durability we promise and the
// versioned schema. Each thread that writes or reads opens its own connection (connections are
// not shared across threads here). SQLite (store/sqlite_connection.cpp) is the engine today; the
// SQL in store/ is written so that another engine runs it after translating the placeholders.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dunning::store {

class CachedStatement;

enum class Backend { sqlite, postgresql };

// An error of the database. `trouble`: the store's own trouble (busy, locked, disk full, I/O
// error) rather than something wrong with the data being written.
class StoreError : public std::runtime_error {
  public:
    StoreError(const std::string& message, bool trouble)
        : std::runtime_error(message), trouble_(trouble) {}
    bool trouble() const { return trouble_; }

  private:
    bool trouble_;
};

// One prepared statement of an engine. Parameters count from 1, columns from 0. Throws
// StoreError.
class PreparedStatement {
  public:
    virtual ~PreparedStatement() = default;
    virtual void bind(int index, std::int64_t value) = 0;
    virtual void bind(int index, double value) = 0;
    virtual void bind(int index, std::string_view text) = 0; // copied
    // The text must stay as it is until the index is bound again or the statement is released
    // (a reset keeps the bindings).
    virtual void bind_no_copy(int index, std::string_view text) = 0;
    virtual void bind_null(int index) = 0;
    virtual bool step() = 0; // true: a row is there to read
    virtual int exec() = 0;  // runs a statement that returns no rows; the rows it changed
    virtual void reset() = 0;
    virtual void release() noexcept = 0; // reset and bindings cleared; errors were thrown before
    virtual int column_count() const = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::int64_t int64_at(int column) const = 0;
    virtual double double_at(int column) const = 0;
    virtual std::string_view text_at(int column) const = 0; // NUL-terminated; "" for NULL
};

// A column of the current row; valid until the statement steps again.
class Column {
  public:
    Column(const PreparedStatement& st, int index) : st_(&st), index_(index) {}
    bool isNull() const { return st_->is_null(index_); }
    int getInt() const { return static_cast<int>(st_->int64_at(index_)); }
    std::int64_t getInt64() const { return st_->int64_at(index_); }
    double getDouble() const { return st_->double_at(index_); }
    std::string getString() const { return std::string(st_->text_at(index_)); }
    std::string_view text() const { return st_->text_at(index_); }
    const char* getText() const { return st_->text_at(index_).data(); }
    int getBytes() const { return static_cast<int>(st_->text_at(index_).size()); }

  private:
    const PreparedStatement* st_;
    int index_;
};

// What the other rooms see of the database: a connection to pass along and a write transaction.
// They never write SQL (scripts/include-graph.txt keeps the engines' headers inside store/).
// A connection keeps the statements store/ prepared on it (CachedStatement): parsing the SQL
// again on every call cost more than running it.
class Connection {
  public:
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    virtual ~Connection(); // engines clear statements_ before they close

    virtual Backend backend() const = 0;
    // Runs parameterless SQL (one statement or several); the rows the last one changed.
    virtual int exec(const std::string& sql) = 0;
    virtual std::unique_ptr<PreparedStatement> prepare(std::string_view sql) = 0;

    // The write transaction (Transaction below): the store's one write lock taken at once, held
    // until commit or rollback. SQLite: BEGIN IMMEDIATE. PostgreSQL: BEGIN and a transaction-level
    // advisory lock that every instance on the database takes, released by the server at the end
    // of the transaction or when the session dies with its instance.
    virtual void begin_immediate() = 0;
    // A transaction that only inserts rows whose conflicts the database settles by itself
    // (INSERT … ON CONFLICT DO NOTHING: the inbox's appends) and reads nothing it writes after:
    // it need not wait for the write lock where the engine can do without it. PostgreSQL: a plain
    // BEGIN, so instances take webhooks side by side. SQLite cannot: as begin_immediate().
    virtual void begin_appends() { begin_immediate(); }
    // A write transaction for units of work that each concern one key (one member's events) and
    // take its lock first (try_lock_key). PostgreSQL: BEGIN with the write lock taken shared, so
    // instances decide for different members side by side, while begin_immediate waits until no
    // such transaction is open and keeps them out while it runs. SQLite: as begin_immediate().
    virtual void begin_keyed() { begin_immediate(); }
    // True when begin_keyed's transactions run side by side and try_lock_key can refuse.
    virtual bool locks_keys() const { return false; }
    // In begin_keyed's transaction: the lock of `key` until the transaction ends, or false at once
    // when another transaction holds it. SQLite: always true (its one writer holds everything).
    virtual bool try_lock_key(std::int32_t key) {
        (void)key;
        return true;
    }
    // A read-only transaction that sees the store as it was at one moment (ReadSnapshot below).
    // SQLite: BEGIN, whose snapshot is taken at its first read. PostgreSQL: REPEATABLE READ,
    // READ ONLY; under its default READ COMMITTED each statement would see a moment of its own.
    virtual void begin_snapshot() { exec("BEGIN"); }
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    // A write that reaches the disk and changes nothing (the inbox writer's health probe).
    virtual void write_nothing() = 0;
    virtual int schema_version() = 0;
    virtual void set_schema_version(int version) = 0;

    // How long a statement waits for another connection's (or process's) write lock before it
    // fails as the store's trouble.
    struct LockWait {
        std::chrono::milliseconds limit{10000};
        std::chrono::steady_clock::time_point deadline;
    };
    LockWait lock_wait;
    // How long a claim on a job lasts before another instance may take the job over
    // (store/job_queue.hpp): StoreOptions::claim_lease on PostgreSQL; zero on SQLite, which one
    // instance uses, so a restarted run takes over the claims of the run before it at once.
    std::chrono::milliseconds claim_lease{0};

    // The SQL of every statement the cache holds, and the engine's steps they have run since
    // the last reset (SQLite's virtual-machine steps): what a test or benchmark reads to show
    // that a unit of work costs the same however much is stored. An engine that cannot count
    // them says so in counts_statement_steps(), and statement_steps() throws.
    std::vector<std::string> cached_sql() const;
    virtual bool counts_statement_steps() const = 0;
    virtual std::int64_t statement_steps(bool reset = false) = 0;

    // Commits and pages written to the engine's log since the last reset: what a benchmark
    // reports as the work a run asked of the database, which the machine's load does not change.
    // -1 where an engine does not count them.
    struct EngineWork {
        std::int64_t commits = -1;
        std::int64_t pages_written = -1;
        std::int64_t pages_read = -1; // pages not found in the connection's page cache
    };
    virtual EngineWork engine_work(bool reset = false) {
        (void)reset;
        return {};
    }

    // store/cases.cpp's memo of case states read or written on this connection, each with the
    // JSON text it came from: a row whose text is unchanged is not parsed again.
    struct CaseMemo;
    CaseMemo& case_memo();
    // After a rollback: the memo's texts are still checked against the rows, but the figures it
    // remembers as written may have gone with the rolled-back writes, so they are forgotten.
    void forget_written_figures() noexcept;

  protected:
    friend class CachedStatement;
    struct Slot {
        std::unique_ptr<PreparedStatement> statement;
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

// Takes the store's write lock at once (Connection::begin_immediate), so two writers never
// deadlock upgrading a read, and a read-then-write inside sees every write committed before it:
// on PostgreSQL too, where several instances share the database, one of them writes at a time.
// Rolled back unless commit() is called.
class Transaction {
  public:
    explicit Transaction(Connection& db) : db_(db) { db_.begin_immediate(); }
    // Only appends (Connection::begin_appends).
    struct AppendsOnly {};
    static constexpr AppendsOnly appends_only{};
    Transaction(Connection& db, AppendsOnly) : db_(db) { db_.begin_appends(); }
    // Units that each take their key's lock first (Connection::begin_keyed, try_lock_key).
    struct Keyed {};
    static constexpr Keyed keyed{};
    Transaction(Connection& db, Keyed) : db_(db) { db_.begin_keyed(); }
    ~Transaction() {
        if (done_) return;
        db_.rollback();
        db_.forget_written_figures();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        db_.commit();
        done_ = true;
    }

  private:
    Connection& db_;
    bool done_ = false;
};

// A view made of several reads (a case with its events, a page with its totals) shows one
// moment of the store, not a case as one event left it beside the events the next one added.
// Outside any transaction; ended with a rollback, as it writes nothing.
class ReadSnapshot {
  public:
    explicit ReadSnapshot(Connection& db) : db_(db) { db_.begin_snapshot(); }
    ~ReadSnapshot() { db_.rollback(); }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  private:
    Connection& db_;
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
    std::string path; // SQLite's file; unused when postgres_url is set
    std::string synchronous =
        "full"; // "full": an fsync per commit; "normal": crash-safe, not power-safe
    std::chrono::milliseconds lock_wait{10000}; // then the store is in trouble (SQLITE_BUSY)
    // Set: the store is this PostgreSQL database (a postgresql:// URL or libpq's key=value
    // string, the password in it already expanded) instead of SQLite's file.
    std::string postgres_url{};
    // PostgreSQL: how long a claim on a job lasts ([storage] claim_lease_seconds).
    std::chrono::milliseconds claim_lease{std::chrono::minutes{5}};
    // Told a line before open_store upgrades a store that holds data to a newer schema, and one
    // once the upgrade is committed: it runs in the opening transaction, and on a large store it
    // takes a while (an upgrade may rewrite every event or case).
    std::function<void(const std::string&)> on_upgrade{};
};

// Opens (creating if needed) and applies pending migrations. Throws std::runtime_error with a
// clear message naming the file when it cannot be opened, is not a dunning database (another
// application's SQLite file, random bytes, text: never written to then) or is newer than this
// binary. With options.postgres_url, the same for that PostgreSQL database (named by its URL
// without the password): an empty one gets the whole schema (store/postgres_schema.hpp) in one
// transaction; one with tables but no schema_version is another application's and left alone.
std::unique_ptr<Connection> open_store(const StoreOptions& options);

// Opens another connection to a store that open_store already prepared.
std::unique_ptr<Connection> connect_store(const StoreOptions& options);

int schema_version(Connection& db);

// One connection used by many threads in turn (the HTTP API's reads and creator commands): each
// use() holds it for the whole call, so a transaction begun inside is the caller's alone.
class SharedConnection {
  public:
    explicit SharedConnection(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
    template <class F> auto use(F&& f) {
        std::lock_guard lock(mutex_);
        return f(*db_);
    }
    // use() with f's reads in one ReadSnapshot: for a view made of more than one read.
    template <class F> auto read(F&& f) {
        return use([&](Connection& db) {
            ReadSnapshot snapshot(db);
            return f(db);
        });
    }

  private:
    std::unique_ptr<Connection> db_;
    std::mutex mutex_;
};
int latest_schema_version();
// Applies the migrations that bring `db` up to `to_version`, in the caller's transaction
// (open_store's; tests build stores of earlier versions with it).
void migrate(Connection& db, int to_version);

} // namespace dunning::store
