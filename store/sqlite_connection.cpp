#include "store/sqlite_connection.hpp"

#include <sqlite3.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace dunning::store {

namespace {

bool is_trouble(int code) {
    const int primary = code & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_FULL || primary == SQLITE_IOERR ||
           primary == SQLITE_LOCKED;
}

[[noreturn]] void fail(sqlite3* db, int code) {
    throw StoreError(db ? sqlite3_errmsg(db) : sqlite3_errstr(code), is_trouble(code));
}

class SqliteStatement final : public PreparedStatement {
  public:
    SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
        const int rc =
            sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st_, nullptr);
        if (rc != SQLITE_OK) fail(db, rc);
        columns_ = sqlite3_column_count(st_);
    }
    ~SqliteStatement() override { sqlite3_finalize(st_); }

    void bind(int index, std::int64_t value) override {
        check(sqlite3_bind_int64(st_, index, value));
    }
    void bind(int index, double value) override { check(sqlite3_bind_double(st_, index, value)); }
    void bind(int index, std::string_view text) override {
        // An empty view may have no data pointer, which SQLite would bind as NULL.
        check(sqlite3_bind_text(st_, index, text.data() ? text.data() : "",
                                static_cast<int>(text.size()), SQLITE_TRANSIENT));
    }
    void bind_no_copy(int index, std::string_view text) override {
        check(sqlite3_bind_text(st_, index, text.data() ? text.data() : "",
                                static_cast<int>(text.size()), SQLITE_STATIC));
    }
    void bind_null(int index) override { check(sqlite3_bind_null(st_, index)); }

    bool step() override {
        if (done_) throw StoreError("statement needs to be reset", false);
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return has_row_ = true;
        has_row_ = false;
        if (rc == SQLITE_DONE) {
            done_ = true;
            return false;
        }
        fail(db_, rc);
    }
    int exec() override {
        if (step()) throw StoreError("exec() does not expect results; use executeStep()", false);
        return sqlite3_changes(db_);
    }
    void reset() override {
        has_row_ = done_ = false;
        const int rc = sqlite3_reset(st_);
        if (rc != SQLITE_OK) fail(db_, rc);
    }
    void release() noexcept override {
        has_row_ = done_ = false;
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }

    int column_count() const override { return columns_; }
    bool is_null(int column) const override {
        check_column(column);
        return sqlite3_column_type(st_, column) == SQLITE_NULL;
    }
    std::int64_t int64_at(int column) const override {
        check_column(column);
        return sqlite3_column_int64(st_, column);
    }
    double double_at(int column) const override {
        check_column(column);
        return sqlite3_column_double(st_, column);
    }
    std::string_view text_at(int column) const override {
        check_column(column);
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st_, column));
        if (!text) return "";
        return {text, static_cast<std::size_t>(sqlite3_column_bytes(st_, column))};
    }

  private:
    void check(int rc) const {
        if (rc != SQLITE_OK) fail(db_, rc);
    }
    void check_column(int column) const {
        if (!has_row_) throw StoreError("no row to get a column from", false);
        if (column < 0 || column >= columns_) throw StoreError("column index out of range", false);
    }

    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
    int columns_ = 0;
    bool has_row_ = false;
    bool done_ = false;
};

// The statement journal keeps each page as it was before a savepoint (the worker and the
// dispatchers decide every event or job under a savepoint of the batch's transaction) until the
// savepoint is released. SQLite writes it to a temporary file once it passes 64 KiB: a second
// write of most pages an event touches (bench/ingest/README.md, "The statement journal in
// memory"). It stays in memory up to 1 MiB instead (255 pages with their headers; an event touches
// a few dozen); a savepoint that touches more (a creator's reconnection, which decides all of its
// open cases under one) spills to the file, which then serves the rest of that transaction. SQLite
// allocates the journal in one block of that size: 4 MiB, glibc's mmap threshold here
// (keep_freed_memory), cost an mmap and munmap per savepoint and made the worker slower than
// before. temp_store = MEMORY would keep the journal in memory too, but also every sort and
// temporary table however large (an index built by a migration). Set once per process, before
// SQLite initializes; if something initialized it first, SQLite refuses the setting and the journal
// spills at 64 KiB as before.
//
// Memory statistics are off: with them on, SQLite takes a process-wide mutex and updates its
// counters at every allocation and free (about 140 per input of a lifecycle), which the store never
// reads (no sqlite3_memory_used, no heap limit; the per-connection and per-statement counters
// that the benchmarks read are kept either way). Both settings hold for the whole process: README,
// "Linking the module in", tells a host that links the module in.
void configure_sqlite() {
    static std::once_flag once;
    std::call_once(once, [] {
        sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 1 << 20);
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    });
}

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

class SqliteConnection final : public Connection {
  public:
    SqliteConnection(const std::string& path, int flags) {
        configure_sqlite();
        const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
        if (rc != SQLITE_OK) {
            const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            throw StoreError(message, is_trouble(rc));
        }
        sqlite3_extended_result_codes(db_, 1);
        // Every connection waits for another's lock, the read-only one that looks at a file
        // before the store opens it included: a process that holds the file for a moment (the
        // sqlite3 shell, a backup) must not make the service refuse to start.
        sqlite3_busy_handler(db_, wait_for_lock, &lock_wait);
        sqlite3_commit_hook(
            db_,
            [](void* n) {
                ++*static_cast<std::int64_t*>(n);
                return 0; // 0: the commit goes ahead
            },
            &commits_);
    }
    ~SqliteConnection() override {
        statements_.clear(); // finalized before the connection closes
        for (auto& f : unit_statements_)
            sqlite3_finalize(f.statement);
        sqlite3_close_v2(db_);
    }

    Backend backend() const override { return Backend::sqlite; }
    int exec(const std::string& sql) override {
        for (auto& f : unit_statements_)
            if (sql == f.sql) return run(f);
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) fail(db_, rc);
        return sqlite3_changes(db_);
    }
    std::unique_ptr<PreparedStatement> prepare(std::string_view sql) override {
        return std::make_unique<SqliteStatement>(db_, sql);
    }
    void begin_immediate() override { exec("BEGIN IMMEDIATE"); }
    void commit() override { exec("COMMIT"); }
    void rollback() noexcept override {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); // fails only when none is open
    }
    // The header's user_version, rewritten with its own value.
    void write_nothing() override {
        exec("PRAGMA user_version = " + std::to_string(schema_version()));
    }
    int schema_version() override {
        auto st = prepare("PRAGMA user_version");
        st->step();
        return static_cast<int>(st->int64_at(0));
    }
    void set_schema_version(int version) override {
        exec("PRAGMA user_version = " + std::to_string(version));
    }
    EngineWork engine_work(bool reset) override {
        int pages = 0, misses = 0, unused = 0;
        sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_WRITE, &pages, &unused, reset ? 1 : 0);
        sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_MISS, &misses, &unused, reset ? 1 : 0);
        const EngineWork work{commits_, pages, misses};
        if (reset) commits_ = 0;
        return work;
    }
    bool counts_statement_steps() const override { return true; }
    std::int64_t statement_steps(bool reset) override {
        std::int64_t steps = 0;
        // The unit statements are left out, as when sqlite3_exec ran them and they were gone by
        // the time of the count: the figure stays comparable with those taken before.
        const auto unit = [this](sqlite3_stmt* st) {
            return std::ranges::any_of(unit_statements_,
                                       [st](const UnitStatement& f) { return f.statement == st; });
        };
        for (sqlite3_stmt* st = sqlite3_next_stmt(db_, nullptr); st;
             st = sqlite3_next_stmt(db_, st))
            if (!unit(st))
                steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, reset ? 1 : 0);
        return steps;
    }

    void set_pragmas(const StoreOptions& o) {
        lock_wait.limit = o.lock_wait;
        exec("PRAGMA journal_mode = WAL");
        exec(o.synchronous == "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        exec("PRAGMA foreign_keys = ON");
        // A checkpoint copies the WAL's pages into the file and syncs both. The service does that
        // on a thread of its own (WalCheckpointer, which starts the WAL over once it reaches
        // about 4,000 pages); a commit does it itself only past 10,000 pages (the WAL file about 40
        // MB), when that thread fell behind or does not run (the command-line tools). For those,
        // rarer than SQLite's 1,000: a page that many commits rewrite (an index's, a busy table's
        // last) is copied once per 10,000, and the syncs are a tenth.
        exec("PRAGMA wal_autocheckpoint = 10000");
        // A page cache of 16 MiB instead of SQLite's 2 MB. With 1,000,000 cases the B-trees the
        // worker walks for a due case (the cases table and its indexes) have about 1,600 interior
        // pages (6 MB): in 2 MB each case read them again from the file (9.6 pages per due case
        // against 4.7 with 200,000 cases; 3.6 with this cache, bench/scheduler/README.md). The
        // cache fills only as pages are read, and is freed with the connection.
        exec("PRAGMA cache_size = -16384");
    }

    // sqlite3_wal_checkpoint_v2 on the main database: the WAL's frames and those copied.
    int checkpoint(int mode, int& frames, int& copied) {
        return sqlite3_wal_checkpoint_v2(db_, "main", mode, &frames, &copied);
    }
    [[noreturn]] void fail_with(int code) { fail(db_, code); }

    std::string table_names() {
        auto st = prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        std::string names;
        for (int n = 0; st->step(); ++n) {
            if (n == 5) return names + ", ...";
            names += (names.empty() ? "" : ", ") + std::string(st->text_at(0));
        }
        return names;
    }
    bool has_table(const std::string& name) {
        auto st = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
        st->bind(1, std::string_view(name));
        return st->step();
    }

  private:
    // The statements around every unit of work: a transaction's begin and commit, and the
    // savepoint of each event or job in a batch (Savepoint). sqlite3_exec parses its text on
    // every call; these are prepared at their first use and kept.
    struct UnitStatement {
        const char* sql;
        sqlite3_stmt* statement = nullptr;
    };
    std::array<UnitStatement, 6> unit_statements_{{{"BEGIN IMMEDIATE"},
                                                   {"BEGIN"},
                                                   {"COMMIT"},
                                                   {"SAVEPOINT unit"},
                                                   {"RELEASE unit"},
                                                   {"ROLLBACK TO unit"}}};
    int run(UnitStatement& f) {
        if (!f.statement) {
            const int rc = sqlite3_prepare_v2(db_, f.sql, -1, &f.statement, nullptr);
            if (rc != SQLITE_OK) fail(db_, rc);
        }
        const int rc = sqlite3_step(f.statement);
        if (rc != SQLITE_DONE) {
            const std::string message = sqlite3_errmsg(db_);
            sqlite3_reset(f.statement);
            throw StoreError(message, is_trouble(rc));
        }
        sqlite3_reset(f.statement);
        return sqlite3_changes(db_);
    }

    sqlite3* db_ = nullptr;
    std::int64_t commits_ = 0;
};

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

} // namespace

std::unique_ptr<Connection> connect_sqlite(const StoreOptions& o) {
    if (o.synchronous != "full" && o.synchronous != "normal")
        throw std::runtime_error("storage.synchronous must be \"full\" or \"normal\"");
    // The store's SQL uses IS [NOT] DISTINCT FROM (SQLite 3.39) and RETURNING (3.35).
    if (sqlite3_libversion_number() < 3039000)
        throw StoreError(std::string("SQLite ") + sqlite3_libversion() +
                             " is too old for the store; it needs 3.39 or newer",
                         false);
    keep_freed_memory();
    auto db =
        std::make_unique<SqliteConnection>(o.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db->set_pragmas(o);
    return db;
}

void check_sqlite_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) return;
    const std::string untouched = "; the file was left untouched";
    try {
        SqliteConnection db(path, SQLITE_OPEN_READONLY);
        const int version = db.schema_version();
        const auto tables = db.table_names();
        if (version == 0 && !tables.empty())
            throw std::runtime_error(path +
                                     " is a SQLite database of another application (tables " +
                                     tables + "), not a dunning store" + untouched);
        if (version > 0 && !db.has_table("inbox"))
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
    } catch (const StoreError& e) {
        // Still locked after the connection's wait (another process holds the file), or the disk
        // failing: the file may well be a store.
        if (e.trouble())
            throw std::runtime_error("cannot read " + path + ": " + e.what() + untouched);
        throw std::runtime_error(path + " is not a usable dunning database: " + e.what() +
                                 untouched);
    }
}

WalCheckpointer::WalCheckpointer(const StoreOptions& store, Options options)
    : db_(connect_sqlite(store)), options_(options) {
    // Its RESTART holds writers back while it waits: only briefly.
    db_->lock_wait.limit = options_.restart_wait;
}

WalCheckpointer::Round WalCheckpointer::round() {
    auto& db = static_cast<SqliteConnection&>(*db_);
    Round done;
    // PASSIVE never waits; it reports busy only while another connection checkpoints.
    int rc = db.checkpoint(SQLITE_CHECKPOINT_PASSIVE, done.wal_frames, done.copied);
    if ((rc & 0xff) == SQLITE_BUSY) return done;
    if (rc != SQLITE_OK) db.fail_with(rc);
    // RESTART holds writers back while it copies and syncs what the PASSIVE left: only once that
    // copied everything (a reader on an old snapshot stops it short), so that what is left is the
    // few commits made meanwhile. Not again while the WAL it restarted has not been written to.
    if (done.wal_frames < options_.restart_at_frames || done.copied < done.wal_frames ||
        done.wal_frames == restarted_at_)
        return done;
    rc = db.checkpoint(SQLITE_CHECKPOINT_RESTART, done.wal_frames, done.copied);
    if ((rc & 0xff) == SQLITE_BUSY) return done; // a writer or reader outlasted restart_wait
    if (rc != SQLITE_OK) db.fail_with(rc);
    done.restarted = true;
    restarted_at_ = done.wal_frames;
    return done;
}

} // namespace dunning::store
