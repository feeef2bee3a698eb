#include "store/postgres_connection.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

namespace {

// The advisory lock key of the store's write lock (begin_immediate): any number, the same in
// every instance.
constexpr std::int64_t writer_lock = 7418051;
// The class of the keys begin_keyed's units lock (the two-number advisory locks, a space apart
// from the one-number writer_lock).
constexpr std::int32_t key_lock_class = 7418052;

// SQLSTATE classes and codes that are the database's trouble rather than the statement's fault:
// the connection (08), a transaction the server rolled back (40: serialization failure,
// deadlock), resources (53: disk full, out of memory, too many connections), an operator's
// intervention (57: shutdown, a cancelled or timed-out statement), the system (58), a lock not
// had within lock_timeout (55P03), a server that accepts no writes (25006: a standby or a
// read-only session) and a session ended for idling in its transaction (25P03).
bool is_trouble_state(const std::string& state) {
    if (state.size() != 5) return false;
    const auto cls = state.substr(0, 2);
    return cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58" ||
           state == "55P03" || state == "25006" || state == "25P03";
}

// A transaction left idle this long ends with its session: the server rolls it back and frees
// its locks. The service never waits inside a transaction (Stripe, SMTP and the platform are
// called outside them), so only an instance that stopped in the middle of one meets this: a
// machine that died without closing its connection, or a frozen process. Without it the server
// would keep that instance's locks (a member's key, or the whole write lock that every instance
// needs) until TCP gives up on the connection, two hours by default.
constexpr int idle_in_transaction_seconds = 60;

std::string percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        int value = 0;
        if (text[i] == '%' && i + 2 < text.size() &&
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr ==
                text.data() + i + 3) {
            out += static_cast<char>(value);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

bool is_url(std::string_view url) {
    return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// Where the password is in `url`: each [begin, end) span, as written.
std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view url) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    if (is_url(url)) {
        const auto start = url.find("://") + 3;
        const auto authority_end = std::min(url.find_first_of("/?", start), url.size());
        const auto at = url.rfind('@', authority_end);
        if (at != std::string_view::npos && at >= start) {
            const auto colon = url.find(':', start);
            if (colon < at) spans.emplace_back(colon + 1, at);
        }
        const auto query = url.find('?', start);
        if (query != std::string_view::npos) {
            for (std::size_t p = query + 1; p < url.size();) {
                const auto end = std::min(url.find('&', p), url.size());
                const auto pair = url.substr(p, end - p);
                if (pair.starts_with("password=")) spans.emplace_back(p + 9, end);
                p = end + 1;
            }
        }
        return spans;
    }
    // libpq's key = value string: "password = 'a b'" or "password=secret".
    for (std::size_t p = url.find("password"); p != std::string_view::npos;
         p = url.find("password", p + 1)) {
        if (p > 0 && url[p - 1] != ' ' && url[p - 1] != '\t') continue;
        auto q = p + 8;
        while (q < url.size() && (url[q] == ' ' || url[q] == '\t'))
            ++q;
        if (q >= url.size() || url[q] != '=') continue;
        ++q;
        while (q < url.size() && (url[q] == ' ' || url[q] == '\t'))
            ++q;
        auto end = q;
        if (end < url.size() && url[end] == '\'') {
            ++end;
            while (end < url.size() && url[end] != '\'')
                end += url[end] == '\\' ? 2 : 1;
            end = std::min(end + 1, url.size());
        } else {
            while (end < url.size() && url[end] != ' ' && url[end] != '\t')
                ++end;
        }
        spans.emplace_back(q, end);
    }
    return spans;
}

// A message the store may show: no password, and the SQLSTATE's trouble.
[[noreturn]] void fail(const std::string& message, bool trouble, const std::string& url) {
    throw StoreError(without_postgres_password(message, url), trouble);
}

// Rethrows the exception being handled (from libpqxx) as a StoreError. A session lost after it
// was made says so first: libpq's own words for it ("Could not obtain client encoding: not
// connected", "server closed the connection unexpectedly") do not all name the cause.
[[noreturn]] void rethrow_as_store_error(const std::string& url, bool connecting = false) {
    try {
        throw;
    } catch (const StoreError&) {
        throw;
    } catch (const pqxx::broken_connection& e) {
        fail(connecting ? std::string(e.what())
                        : "the connection to PostgreSQL was lost: " + std::string(e.what()),
             true, url);
    } catch (const pqxx::in_doubt_error& e) {
        fail(e.what(), true, url); // the commit's outcome is unknown: try again later
    } catch (const pqxx::sql_error& e) {
        fail(e.what(), is_trouble_state(e.sqlstate()), url);
    } catch (const std::exception& e) {
        fail(e.what(), false, url);
    }
}

class PostgresConnection;

class PostgresStatement final : public PreparedStatement {
  public:
    PostgresStatement(PostgresConnection& db, std::string name, int parameters)
        : db_(db), name_(std::move(name)), params_(static_cast<std::size_t>(parameters)) {}
    ~PostgresStatement() override;

    void bind(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
    void bind(int index, double value) override {
        char buffer[64];
        const auto r = std::to_chars(buffer, buffer + sizeof buffer, value);
        slot(index) = std::string(buffer, r.ptr);
    }
    void bind(int index, std::string_view text) override { slot(index) = std::string(text); }
    void bind_no_copy(int index, std::string_view text) override { bind(index, text); }
    void bind_null(int index) override { slot(index).reset(); }

    bool step() override;
    int exec() override;
    void reset() override {
        executed_ = done_ = false;
        row_ = 0;
        result_ = pqxx::result();
    }
    void release() noexcept override {
        reset();
        for (auto& p : params_)
            p.reset();
    }

    int column_count() const override { return executed_ ? result_.columns() : 0; }
    bool is_null(int column) const override { return field(column).is_null(); }
    std::int64_t int64_at(int column) const override {
        const auto f = field(column);
        if (f.is_null()) return 0;
        const std::string_view text(f.c_str(), f.size());
        if (text == "t") return 1; // a boolean expression's value
        if (text == "f") return 0;
        std::int64_t value = 0;
        const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
        if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return value;
        return static_cast<std::int64_t>(std::strtod(f.c_str(), nullptr)); // numeric, float
    }
    double double_at(int column) const override {
        const auto f = field(column);
        return f.is_null() ? 0.0 : std::strtod(f.c_str(), nullptr);
    }
    std::string_view text_at(int column) const override {
        const auto f = field(column);
        if (f.is_null()) return "";
        return {f.c_str(), f.size()};
    }

  private:
    std::optional<std::string>& slot(int index) {
        if (index < 1 || static_cast<std::size_t>(index) > params_.size())
            throw StoreError("bind index " + std::to_string(index) + " out of range (" +
                                 std::to_string(params_.size()) + " parameters)",
                             false);
        return params_[static_cast<std::size_t>(index - 1)];
    }
    pqxx::field field(int column) const {
        if (!executed_ || row_ >= result_.size())
            throw StoreError("no row to get a column from", false);
        if (column < 0 || column >= static_cast<int>(result_.columns()))
            throw StoreError("column index out of range", false);
        return result_[static_cast<pqxx::result::size_type>(row_)]
                      [static_cast<pqxx::row::size_type>(column)];
    }
    void run();

    PostgresConnection& db_;
    std::string name_;
    std::vector<std::optional<std::string>> params_; // nullopt: NULL
    pqxx::result result_;
    std::size_t row_ = 0;
    bool executed_ = false;
    bool done_ = false;
};

// One session. Transactions are the store's own BEGIN/COMMIT sent as SQL, so libpqxx's
// automatic reconnection is switched off: after a lost connection a statement of the open
// transaction must fail, not run on a new session outside it. Outside a transaction, the next
// call reconnects and prepares the statements again.
class PostgresConnection final : public Connection {
  public:
    PostgresConnection(std::string url, std::chrono::milliseconds lock_wait_limit)
        : url_(std::move(url)), session_lock_wait_(lock_wait_limit) {
        lock_wait.limit = lock_wait_limit;
        connect();
    }
    ~PostgresConnection() override {
        statements_.clear(); // their names unprepared before the session closes
    }

    Backend backend() const override { return Backend::postgresql; }

    int exec(const std::string& sql) override {
        const auto result = run([&](pqxx::nontransaction& tx) { return tx.exec(sql); });
        return static_cast<int>(result.affected_rows());
    }
    std::unique_ptr<PreparedStatement> prepare(std::string_view sql) override {
        int parameters = 0;
        auto text = postgres_placeholders(sql, &parameters);
        auto name = "s" + std::to_string(++statement_count_);
        ensure_connected();
        try {
            conn_->prepare(name, text);
        } catch (...) {
            rethrow_as_store_error(url_);
        }
        prepared_.emplace(name, std::move(text));
        return std::make_unique<PostgresStatement>(*this, std::move(name), parameters);
    }

    // READ COMMITTED, PostgreSQL's default: each statement sees what was committed before it
    // began. The write lock (writer_lock) makes one write transaction at a time across every
    // connection and instance on the database, as SQLite's BEGIN IMMEDIATE does on one machine:
    // the store's read-then-write units (a case loaded, decided on and saved; a job finished)
    // stay correct without each taking row locks of its own. Units that lock what they change
    // themselves (a member's key, a claimed job's row) hold it shared instead (begin_keyed).
    // Waiting for it longer than
    // lock_timeout fails as the store's trouble (55P03).
    void begin_immediate() override {
        begin("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(writer_lock) + ")");
    }
    void begin_appends() override { begin("BEGIN"); }
    void begin_snapshot() override { begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); }
    // Keyed units hold the write lock shared: any number of them at once, none beside a
    // begin_immediate transaction. Their keys are transaction-level advisory locks too, freed
    // with the transaction or the session.
    void begin_keyed() override {
        begin("BEGIN; SELECT pg_advisory_xact_lock_shared(" + std::to_string(writer_lock) + ")");
    }
    bool locks_keys() const override { return true; }
    bool try_lock_key(std::int32_t key) override {
        const auto got = run([&](pqxx::nontransaction& tx) {
            return tx.exec_params("SELECT pg_try_advisory_xact_lock($1, $2)", key_lock_class, key);
        });
        return got[0][0].as<bool>();
    }
    void begin(const std::string& sql) {
        // PostgreSQL would only warn of a BEGIN inside a transaction, and the inner unit's COMMIT
        // would then commit the outer one early; SQLite refuses it, and so does this.
        if (in_transaction_) throw std::logic_error("a transaction is begun inside a transaction");
        try {
            exec(sql);
        } catch (...) {
            rollback(); // a lock not had in time leaves the transaction begun, and failed
            throw;
        }
        in_transaction_ = true;
    }
    void commit() override {
        in_transaction_ = false; // whatever COMMIT answers, the transaction is over
        exec("COMMIT");
    }
    void rollback() noexcept override {
        in_transaction_ = false;
        try {
            if (conn_ && conn_->is_open()) {
                pqxx::nontransaction tx(*conn_);
                tx.exec("ROLLBACK");
            }
        } catch (...) {
            // The session is gone, and its transaction with it.
        }
    }
    // Rewrites schema_version's row with its own value: fails unless the server takes writes.
    void write_nothing() override { exec("UPDATE schema_version SET version = version"); }
    int schema_version() override {
        const auto exists = run([](pqxx::nontransaction& tx) {
            return tx.exec("SELECT to_regclass('schema_version') IS NOT NULL");
        });
        if (exists[0][0].as<std::string>() != "t") return 0;
        const auto rows = run(
            [](pqxx::nontransaction& tx) { return tx.exec("SELECT version FROM schema_version"); });
        if (rows.size() != 1)
            throw StoreError("table schema_version has " + std::to_string(rows.size()) +
                                 " rows, not one",
                             false);
        return rows[0][0].as<int>();
    }
    void set_schema_version(int version) override {
        exec("UPDATE schema_version SET version = " + std::to_string(version));
    }
    bool counts_statement_steps() const override { return false; }
    std::int64_t statement_steps(bool) override {
        throw StoreError("PostgreSQL does not count statement steps", false);
    }

    // Runs `f` with a nontransaction on the session (reconnecting first when it was lost
    // outside a transaction); libpqxx's exceptions come out as StoreError.
    template <class F> pqxx::result run(F&& f) {
        ensure_connected();
        try {
            pqxx::nontransaction tx(*conn_);
            return f(tx);
        } catch (...) {
            rethrow_as_store_error(url_);
        }
    }

    pqxx::result exec_prepared(const std::string& name,
                               const std::vector<std::optional<std::string>>& params) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params)
            values.push_back(p ? p->c_str() : nullptr);
        return run([&](pqxx::nontransaction& tx) {
            return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
        });
    }

    void unprepare(const std::string& name) noexcept {
        prepared_.erase(name);
        try {
            if (conn_ && conn_->is_open()) conn_->unprepare(name);
        } catch (...) {
            // The session is gone, and its statements with it.
        }
    }

  private:
    void connect() {
        try {
            conn_ = std::make_unique<pqxx::connection>(url_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            conn_->inhibit_reactivation(true);
#pragma GCC diagnostic pop
            pqxx::nontransaction tx(*conn_);
            // The session's lock_timeout is the limit the connection was made with, also when
            // it reconnects while a caller has lowered lock_wait (0 would mean no limit at all).
            tx.exec("SET client_min_messages = error; SET lock_timeout = " +
                    std::to_string(std::max<std::int64_t>(1, session_lock_wait_.count())) +
                    "; SET idle_in_transaction_session_timeout = '" +
                    std::to_string(idle_in_transaction_seconds) + "s'");
            for (const auto& [name, sql] : prepared_)
                conn_->prepare(name, sql);
        } catch (...) {
            conn_.reset();
            rethrow_as_store_error(url_, true);
        }
    }
    void ensure_connected() {
        if (conn_ && conn_->is_open()) return;
        if (in_transaction_)
            throw StoreError("the connection to PostgreSQL was lost inside a transaction", true);
        connect();
    }

    std::string url_;
    std::chrono::milliseconds session_lock_wait_;
    std::unique_ptr<pqxx::connection> conn_;
    std::map<std::string, std::string> prepared_; // name -> SQL, prepared again on reconnection
    std::int64_t statement_count_ = 0;
    bool in_transaction_ = false;
};

PostgresStatement::~PostgresStatement() {
    db_.unprepare(name_);
}

void PostgresStatement::run() {
    result_ = db_.exec_prepared(name_, params_);
    executed_ = true;
    row_ = 0;
}

bool PostgresStatement::step() {
    if (done_) throw StoreError("statement needs to be reset", false);
    if (!executed_)
        run();
    else
        ++row_;
    if (row_ < result_.size()) return true;
    done_ = true;
    return false;
}

int PostgresStatement::exec() {
    if (step()) throw StoreError("exec() does not expect results; use executeStep()", false);
    return static_cast<int>(result_.affected_rows());
}

} // namespace

std::string postgres_placeholders(std::string_view sql, int* parameters) {
    std::string out;
    out.reserve(sql.size() + 8);
    int largest = 0;
    for (std::size_t i = 0; i < sql.size();) {
        const char c = sql[i];
        if (c == '\'' || c == '"') { // a literal or an identifier; doubled quotes stay inside
            const auto end = sql.find(c, i + 1);
            const auto stop = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const auto end = std::min(sql.find('\n', i), sql.size());
            out.append(sql.substr(i, end - i));
            i = end;
        } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            const auto end = sql.find("*/", i + 2);
            const auto stop = end == std::string_view::npos ? sql.size() : end + 2;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '?') {
            auto j = i + 1;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9')
                ++j;
            int number = largest + 1;
            if (j > i + 1) std::from_chars(sql.data() + i + 1, sql.data() + j, number);
            largest = std::max(largest, number);
            out += '$';
            out += std::to_string(number);
            i = j;
        } else {
            out += c;
            ++i;
        }
    }
    if (parameters) *parameters = largest;
    return out;
}

std::string redacted_postgres_url(const std::string& url) {
    std::string out = url;
    const auto spans = password_spans(url);
    for (auto it = spans.rbegin(); it != spans.rend(); ++it)
        out.replace(it->first, it->second - it->first, "***");
    return out;
}

std::string without_postgres_password(std::string message, const std::string& url) {
    for (const auto& [begin, end] : password_spans(url)) {
        auto raw = url.substr(begin, end - begin);
        if (raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'')
            raw = raw.substr(1, raw.size() - 2);
        for (const auto& secret : {raw, percent_decoded(raw)}) {
            if (secret.empty()) continue;
            for (auto p = message.find(secret); p != std::string::npos;
                 p = message.find(secret, p + 3))
                message.replace(p, secret.size(), "***");
        }
    }
    return message;
}

std::unique_ptr<Connection> connect_postgres(const std::string& url, const StoreOptions& options) {
    auto db = std::make_unique<PostgresConnection>(url, options.lock_wait);
    db->claim_lease = options.claim_lease; // several instances may share the database
    return db;
}

} // namespace dunning::store
