#include "store/migrate_store.hpp"

#include "crypto/crypto.hpp"
#include "store/statement.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

namespace {

// An identifier as SQL takes it whatever it holds: in double quotes, inner ones doubled.
std::string quoted(std::string_view name) {
    std::string out = "\"";
    for (const char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

std::string quoted_list(const std::vector<std::string>& names, std::string_view prefix = "") {
    std::string out;
    for (const auto& name : names)
        out += (out.empty() ? "" : ", ") + std::string(prefix) + quoted(name);
    return out;
}

std::vector<std::string> strings_of(Connection& db, std::string_view sql,
                                    const std::string& bound = "") {
    CachedStatement st(db, sql);
    if (!bound.empty()) st.bind(1, bound);
    std::vector<std::string> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getString());
    return out;
}

void describe_sqlite_table(Connection& db, TableSchema& t) {
    std::vector<std::pair<std::int64_t, std::string>> key;
    {
        CachedStatement st(db, "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid");
        st.bind(1, t.name);
        while (st.executeStep()) {
            t.columns.push_back(st.getColumn(0).getString());
            t.types.push_back(st.getColumn(1).getString());
            if (const auto position = st.getColumn(2).getInt64(); position > 0)
                key.emplace_back(position, t.columns.back());
        }
    }
    std::sort(key.begin(), key.end());
    for (auto& [position, name] : key)
        t.primary_key.push_back(std::move(name));
    for (auto& parent : strings_of(
             db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?) ORDER BY 1", t.name))
        if (parent != t.name) t.references.push_back(std::move(parent));
}

void describe_postgres_table(Connection& db, TableSchema& t) {
    {
        CachedStatement st(db, "SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = current_schema() AND table_name = ? "
                               "ORDER BY ordinal_position");
        st.bind(1, t.name);
        while (st.executeStep()) {
            t.columns.push_back(st.getColumn(0).getString());
            t.types.push_back(st.getColumn(1).getString());
        }
    }
    t.primary_key = strings_of(db,
                               "SELECT k.column_name FROM information_schema.table_constraints c "
                               "JOIN information_schema.key_column_usage k "
                               "ON k.constraint_schema = c.constraint_schema "
                               "AND k.constraint_name = c.constraint_name "
                               "AND k.table_name = c.table_name "
                               "WHERE c.table_schema = current_schema() AND c.table_name = ? "
                               "AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position",
                               t.name);
    t.references = strings_of(db,
                              "SELECT DISTINCT p.relname FROM pg_constraint k "
                              "JOIN pg_class c ON c.oid = k.conrelid "
                              "JOIN pg_class p ON p.oid = k.confrelid "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE k.contype = 'f' AND c.relname = ? AND p.oid <> c.oid "
                              "AND n.nspname = current_schema() ORDER BY 1",
                              t.name);
}

// The tables in an order where each comes after those it references (ties by name).
std::vector<const TableSchema*> in_dependency_order(const std::vector<TableSchema>& tables) {
    std::map<std::string, const TableSchema*> left;
    for (const auto& t : tables)
        left.emplace(t.name, &t);
    std::vector<const TableSchema*> order;
    while (!left.empty()) {
        const auto ready = std::find_if(left.begin(), left.end(), [&](const auto& entry) {
            return std::none_of(entry.second->references.begin(), entry.second->references.end(),
                                [&](const std::string& parent) { return left.contains(parent); });
        });
        if (ready == left.end()) {
            std::string names;
            for (const auto& [name, t] : left)
                names += (names.empty() ? "" : ", ") + name;
            throw std::runtime_error("the foreign keys of tables " + names +
                                     " form a cycle: no order to copy them in");
        }
        order.push_back(ready->second);
        left.erase(ready);
    }
    return order;
}

std::string hex_bytea(std::string_view bytes) {
    return "\\x" +
           crypto::hex({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

// How a source value is given to the target: as the source's text (integers as their decimal
// digits, text byte for byte), except where the target's column is a floating-point number (the
// shortest text that reads back as the same double) or bytes (bytea's hex form).
enum class Carry { text, floating, bytes };

Carry carry_for(const std::string& target_type) {
    if (target_type == "double precision" || target_type == "real" || target_type == "numeric")
        return Carry::floating;
    if (target_type == "bytea") return Carry::bytes;
    return Carry::text;
}

// INSERT of `rows` rows; a row whose key is there already is updated where a value differs.
std::string upsert_sql(const TableSchema& t, const std::vector<std::string>& columns,
                       std::size_t rows) {
    std::string one = "(";
    for (std::size_t i = 0; i < columns.size(); ++i)
        one += i ? ", ?" : "?";
    one += ')';
    std::string sql = "INSERT INTO " + quoted(t.name) + " (" + quoted_list(columns) + ") VALUES ";
    for (std::size_t r = 0; r < rows; ++r)
        sql += (r ? ", " : "") + one;
    sql += " ON CONFLICT (" + quoted_list(t.primary_key) + ") DO ";
    std::vector<std::string> rest;
    for (const auto& c : columns)
        if (std::find(t.primary_key.begin(), t.primary_key.end(), c) == t.primary_key.end())
            rest.push_back(c);
    if (rest.empty()) return sql + "NOTHING";
    sql += "UPDATE SET ";
    for (std::size_t i = 0; i < rest.size(); ++i)
        sql += (i ? ", " : "") + quoted(rest[i]) + " = excluded." + quoted(rest[i]);
    return sql + " WHERE ROW(" + quoted_list(rest, quoted(t.name) + ".") +
           ") IS DISTINCT FROM ROW(" + quoted_list(rest, "excluded.") + ")";
}

// Rows per INSERT: a few hundred, within PostgreSQL's 65,535 parameters.
std::size_t rows_per_statement(std::size_t columns) {
    return std::max<std::size_t>(
        1, std::min<std::size_t>(250, 30000 / std::max<std::size_t>(1, columns)));
}

// A row's primary key as one text, the same whether made here from the source's values or by
// key_sql in PostgreSQL from the target's: each value as text, led by its length.
std::string key_text(const std::vector<std::string_view>& values) {
    std::string k;
    for (const auto v : values) {
        k += std::to_string(v.size());
        k += ':';
        k += v;
    }
    return k;
}
std::string key_sql(const TableSchema& t) {
    std::string sql;
    for (const auto& c : t.primary_key) {
        const auto value = "CAST(" + quoted(t.name) + "." + quoted(c) + " AS TEXT)";
        sql += (sql.empty() ? "" : " || ") + std::string("CAST(octet_length(") + value +
               ") AS TEXT) || ':' || " + value;
    }
    return sql;
}

// The source's keys, table by table, kept in a temporary table of the copy's transaction: what
// the target must hold no more than.
void keep_keys(Connection& to, const std::string& table, const std::vector<std::string>& keys) {
    for (std::size_t at = 0; at < keys.size();) {
        const auto n = std::min<std::size_t>(500, keys.size() - at);
        std::string sql = "INSERT INTO migrate_keep (tbl, k) VALUES ";
        for (std::size_t i = 0; i < n; ++i)
            sql += i ? ", (?, ?)" : "(?, ?)";
        CachedStatement st(to, sql);
        for (std::size_t i = 0; i < n; ++i) {
            st.bindNoCopy(static_cast<int>(2 * i + 1), table);
            st.bindNoCopy(static_cast<int>(2 * i + 2), keys[at + i]);
        }
        st.exec();
        at += n;
    }
}

// Rows of the target whose key the source does not hold (deleted in the source since an earlier
// run), in this table: counted, and deleted when `remove`.
std::int64_t rows_not_in_source(Connection& to, const TableSchema& t, bool remove) {
    const auto missing =
        " WHERE NOT EXISTS (SELECT 1 FROM migrate_keep WHERE tbl = ? AND k = " + key_sql(t) + ")";
    if (!remove) {
        CachedStatement st(to, "SELECT count(*) FROM " + quoted(t.name) + missing);
        st.bind(1, t.name);
        st.executeStep();
        return st.getColumn(0).getInt64();
    }
    CachedStatement st(to, "DELETE FROM " + quoted(t.name) + missing);
    st.bind(1, t.name);
    return st.exec();
}

// Copies one table's rows; returns the rows read and sets `written`; the source's keys go to
// `keys`.
std::int64_t copy_table(Connection& from, Connection& to, const TableSchema& source,
                        const TableSchema& target, std::int64_t& written,
                        std::vector<std::string>& keys) {
    const auto& columns = source.columns;
    std::vector<Carry> carry;
    for (const auto& c : columns) {
        const auto at = std::find(target.columns.begin(), target.columns.end(), c);
        carry.push_back(
            carry_for(target.types[static_cast<std::size_t>(at - target.columns.begin())]));
    }
    const auto batch = rows_per_statement(columns.size());
    std::vector<std::optional<std::string>> cells;
    cells.reserve(batch * columns.size());
    const auto flush = [&] {
        if (cells.empty()) return;
        const auto rows = cells.size() / columns.size();
        CachedStatement insert(to, upsert_sql(target, columns, rows));
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const int index = static_cast<int>(i) + 1;
            if (cells[i])
                insert.bindNoCopy(index, *cells[i]);
            else
                insert.bind(index);
        }
        written += insert.exec();
        cells.clear();
    };
    std::vector<int> key_columns;
    for (const auto& k : target.primary_key)
        key_columns.push_back(
            static_cast<int>(std::find(columns.begin(), columns.end(), k) - columns.begin()));
    CachedStatement read(from, "SELECT " + quoted_list(columns) + " FROM " + quoted(source.name));
    std::int64_t rows = 0;
    std::vector<std::string_view> key;
    while (read.executeStep()) {
        key.clear();
        for (const auto index : key_columns)
            key.push_back(read.getColumn(index).text());
        keys.push_back(key_text(key));
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const int index = static_cast<int>(i);
            if (read.isColumnNull(index)) {
                cells.emplace_back();
                continue;
            }
            const auto column = read.getColumn(index);
            switch (carry[i]) {
            case Carry::text:
                cells.emplace_back(std::string(column.text()));
                break;
            case Carry::floating: {
                char buffer[64];
                const auto r = std::to_chars(buffer, buffer + sizeof buffer, column.getDouble());
                cells.emplace_back(std::string(buffer, r.ptr));
                break;
            }
            case Carry::bytes:
                cells.emplace_back(hex_bytea(column.text()));
                break;
            }
        }
        ++rows;
        if (cells.size() >= batch * columns.size()) flush();
    }
    flush();
    return rows;
}

// After ids were copied as they were: each identity (or serial) column's sequence continues
// after the largest id, so the target's next insert takes a fresh one.
void advance_sequences(Connection& to, const TableSchema& t) {
    for (const auto& column :
         strings_of(to,
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = ? "
                    "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
                    t.name)) {
        CachedStatement st(to, "SELECT setval(pg_get_serial_sequence(?, ?), m) FROM (SELECT max(" +
                                   quoted(column) + ") AS m FROM " + quoted(t.name) +
                                   ") AS ids WHERE m IS NOT NULL");
        st.bind(1, quoted(t.name));
        st.bind(2, column);
        st.executeStep();
    }
}

std::int64_t count_rows(Connection& db, const std::string& table) {
    CachedStatement st(db, "SELECT count(*) FROM " + quoted(table));
    st.executeStep();
    return st.getColumn(0).getInt64();
}

} // namespace

std::vector<TableSchema> store_tables(Connection& db) {
    const bool sqlite = db.backend() == Backend::sqlite;
    std::vector<TableSchema> tables;
    for (auto& name : strings_of(
             db, sqlite ? "SELECT name FROM sqlite_master WHERE type = 'table' "
                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                        : "SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")) {
        if (name == "schema_version") continue;
        TableSchema t;
        t.name = std::move(name);
        if (sqlite)
            describe_sqlite_table(db, t);
        else
            describe_postgres_table(db, t);
        tables.push_back(std::move(t));
    }
    std::sort(tables.begin(), tables.end(),
              [](const TableSchema& a, const TableSchema& b) { return a.name < b.name; });
    return tables;
}

std::vector<std::string> CopyReport::short_tables() const {
    std::vector<std::string> out;
    for (const auto& t : tables)
        if (t.target != t.source) out.push_back(t.table);
    return out;
}

CopyReport copy_store(Connection& from, Connection& to,
                      const std::function<void(const TableCopy&)>& progress) {
    if (from.backend() != Backend::sqlite || to.backend() != Backend::postgresql)
        throw std::runtime_error("a store is copied from SQLite into PostgreSQL only");
    const int from_version = from.schema_version();
    const int to_version = to.schema_version();
    if (from_version != to_version)
        throw std::runtime_error("the SQLite store has schema version " +
                                 std::to_string(from_version) + ", the PostgreSQL store " +
                                 std::to_string(to_version) + ": they must be the same");

    ReadSnapshot snapshot(from); // one moment of every table
    const auto source_tables = store_tables(from);
    // The store's write lock (Transaction): no instance's write transaction runs meanwhile, and
    // two copies into this database run one after the other. Instances' appends and lease
    // renewals do not take it: the target is meant to be a database no instance uses yet.
    Transaction tx(to);
    const auto target_tables = store_tables(to);
    std::map<std::string, const TableSchema*> target_by_name;
    for (const auto& t : target_tables)
        target_by_name.emplace(t.name, &t);

    // Same tables, same columns (in any order): else the two schemas differ whatever their
    // versions say, and nothing is copied.
    for (const auto& s : source_tables) {
        const auto it = target_by_name.find(s.name);
        if (it == target_by_name.end())
            throw std::runtime_error("table " + s.name +
                                     " of the SQLite store is not in the PostgreSQL store");
        const std::set<std::string> a(s.columns.begin(), s.columns.end());
        const std::set<std::string> b(it->second->columns.begin(), it->second->columns.end());
        if (a != b)
            throw std::runtime_error("table " + s.name + " has columns (" + quoted_list(s.columns) +
                                     ") in the SQLite store but (" +
                                     quoted_list(it->second->columns) +
                                     ") in the PostgreSQL store");
        if (it->second->primary_key.empty())
            throw std::runtime_error("table " + s.name +
                                     " has no primary key in the PostgreSQL store: its rows "
                                     "cannot be matched on a second run");
    }
    std::vector<TableSchema> to_copy;
    for (const auto& s : source_tables)
        to_copy.push_back(*target_by_name.at(s.name));

    CopyReport report;
    to.exec("CREATE TEMPORARY TABLE migrate_keep (tbl TEXT NOT NULL, k TEXT NOT NULL, "
            "PRIMARY KEY (tbl, k)) ON COMMIT DROP");
    const auto order = in_dependency_order(to_copy);
    for (const auto* t : order) {
        const auto& source = *std::find_if(source_tables.begin(), source_tables.end(),
                                           [&](const TableSchema& s) { return s.name == t->name; });
        TableCopy copy;
        copy.table = t->name;
        std::vector<std::string> keys;
        copy.source = copy_table(from, to, source, *t, copy.written, keys);
        keep_keys(to, t->name, keys);
        advance_sequences(to, *t);
        report.tables.push_back(copy);
        if (progress) progress(copy);
    }
    // Events only the target holds were received by a service running on it: deleting them
    // would lose them, so nothing is written.
    const auto& inbox = **std::find_if(order.begin(), order.end(),
                                       [](const TableSchema* t) { return t->name == "inbox"; });
    report.events_only_in_target = rows_not_in_source(to, inbox, false);
    if (report.events_only_in_target > 0) return report; // rolled back
    // What the source deleted since an earlier run goes from the target too (a logged-out
    // session, a used login link, a revoked secret): referencing tables first.
    for (auto t = order.rbegin(); t != order.rend(); ++t) {
        auto& copy = *std::find_if(report.tables.begin(), report.tables.end(),
                                   [&](const TableCopy& c) { return c.table == (*t)->name; });
        copy.deleted = rows_not_in_source(to, **t, true);
        copy.target = count_rows(to, (*t)->name);
    }
    if (!report.short_tables().empty()) return report; // rolled back
    tx.commit();
    report.committed = true;
    return report;
}

} // namespace dunning::store
