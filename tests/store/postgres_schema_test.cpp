// PostgreSQL's baseline schema (store/postgres_schema.cpp) against SQLite's (store/migrations.cpp),
// on a real PostgreSQL server that this binary starts (tests/support/postgres.hpp): every table,
// column (name, type class, NOT NULL, default), primary key, unique constraint, index (columns in
// order, uniqueness, partial predicate), foreign key and seeded row must be the same in both, and
// PostgreSQL's recorded version must be SQLite's latest. A migration added to one and not the
// other fails here. CHECK constraints are not compared.
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/postgres_schema.hpp"
#include "support/postgres.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

using dunning::testing::postgres_cluster;
using dunning::testing::PostgresEnvironment;
using dunning::testing::ScratchDatabase;
using Schema = std::set<std::string>;

const auto* const postgres_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// A partial index's predicate in a form both databases' spellings reach: lower case, PostgreSQL's
// `= ANY (ARRAY[…])` as IN (…), no casts, no parentheses, no blanks.
std::string normalized_predicate(const std::string& predicate) {
    auto s = lower(predicate);
    s = std::regex_replace(s, std::regex(R"(=\s*any\s*\(\s*array\[([^\]]*)\]\s*\))"), "in ($1)");
    s = std::regex_replace(s, std::regex(R"(::[a-z_]+(\[\])?)"), "");
    s.erase(std::remove_if(s.begin(), s.end(),
                           [](unsigned char c) { return c == '(' || c == ')' || std::isspace(c); }),
            s.end());
    return s;
}

// A default as written, without PostgreSQL's casts ('pending'::text -> 'pending').
std::string normalized_default(const std::string& value) {
    return std::regex_replace(value, std::regex(R"(::[a-z_ ]+$)"), "");
}

// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html, 3.1).
std::string sqlite_type_class(const std::string& declared) {
    const auto t = lower(declared);
    if (t.find("int") != std::string::npos) return "integer";
    if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos ||
        t.find("text") != std::string::npos)
        return "text";
    if (t.empty() || t.find("blob") != std::string::npos) return "blob";
    if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos ||
        t.find("doub") != std::string::npos)
        return "real";
    return "numeric";
}

std::string postgres_type_class(const std::string& type) {
    if (type == "bigint" || type == "integer" || type == "smallint") return "integer";
    if (type == "text" || type == "character varying" || type == "character") return "text";
    if (type == "double precision" || type == "real") return "real";
    if (type == "bytea") return "blob";
    if (type == "numeric") return "numeric";
    return type; // boolean, jsonb, …: no SQLite counterpart, so a difference
}

std::string column_line(const std::string& table, const std::string& column,
                        const std::string& type_class, bool not_null, const std::string& dflt) {
    return "column " + table + "." + column + " " + type_class +
           (not_null ? " not null" : " null") + (dflt.empty() ? "" : " default " + dflt);
}

std::string join(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items)
        s += (s.empty() ? "" : ", ") + i;
    return s;
}

// A store's schema as SQLite has it: every migration applied to an empty database, as
// store::open_store does.
SQLite::Database fresh_sqlite_store() {
    SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const char* m : dunning::store::migrations())
        db.exec(m);
    db.exec("PRAGMA user_version = " + std::to_string(dunning::store::migrations().size()));
    return db;
}

Schema describe_sqlite(SQLite::Database& db) {
    Schema s;
    std::vector<std::string> tables;
    SQLite::Statement t(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite_%' ORDER BY name");
    while (t.executeStep())
        tables.push_back(t.getColumn(0).getString());
    for (const auto& table : tables) {
        s.insert("table " + table);
        std::map<int, std::string> key;
        SQLite::Statement cols(db, "SELECT name, type, \"notnull\", dflt_value, pk "
                                   "FROM pragma_table_info(?)");
        cols.bind(1, table);
        while (cols.executeStep()) {
            const auto name = cols.getColumn(0).getString();
            const int pk = cols.getColumn(4).getInt();
            if (pk > 0) key[pk] = name;
            s.insert(column_line(table, name, sqlite_type_class(cols.getColumn(1).getString()),
                                 cols.getColumn(2).getInt() != 0 || pk > 0,
                                 cols.getColumn(3).isNull() ? "" : cols.getColumn(3).getString()));
        }
        std::vector<std::string> key_columns;
        for (const auto& [_, name] : key)
            key_columns.push_back(name);
        if (!key_columns.empty()) s.insert("primary key " + table + " (" + join(key_columns) + ")");

        SQLite::Statement indexes(db, "SELECT il.name, il.\"unique\", il.origin, il.partial, "
                                      "m.sql FROM pragma_index_list(?) il "
                                      "LEFT JOIN sqlite_master m ON m.name = il.name");
        indexes.bind(1, table);
        while (indexes.executeStep()) {
            const auto name = indexes.getColumn(0).getString();
            const auto origin = indexes.getColumn(2).getString();
            if (origin == "pk") continue; // the primary key, above
            std::vector<std::string> columns;
            SQLite::Statement info(db, "SELECT name FROM pragma_index_info(?) ORDER BY seqno");
            info.bind(1, name);
            while (info.executeStep())
                columns.push_back(info.getColumn(0).isNull() ? "<expression>"
                                                             : info.getColumn(0).getString());
            if (origin == "u") {
                s.insert("unique " + table + " (" + join(columns) + ")");
                continue;
            }
            std::string line = "index " + name + " on " + table + " (" + join(columns) + ")";
            if (indexes.getColumn(1).getInt() != 0) line += " unique";
            if (indexes.getColumn(3).getInt() != 0) {
                const auto sql = indexes.getColumn(4).getString();
                std::smatch where;
                std::regex_search(sql, where, std::regex(R"(\bwhere\b)", std::regex::icase));
                line += " where " + normalized_predicate(where.suffix().str());
            }
            s.insert(line);
        }

        std::map<int, std::pair<std::string,
                                std::pair<std::vector<std::string>, std::vector<std::string>>>>
            foreign;
        SQLite::Statement fks(db, "SELECT id, \"table\", \"from\", \"to\" "
                                  "FROM pragma_foreign_key_list(?) ORDER BY id, seq");
        fks.bind(1, table);
        while (fks.executeStep()) {
            auto& fk = foreign[fks.getColumn(0).getInt()];
            fk.first = fks.getColumn(1).getString();
            fk.second.first.push_back(fks.getColumn(2).getString());
            fk.second.second.push_back(fks.getColumn(3).isNull() ? "<primary key>"
                                                                 : fks.getColumn(3).getString());
        }
        for (const auto& [_, fk] : foreign)
            s.insert("foreign key " + table + " (" + join(fk.second.first) + ") references " +
                     fk.first + " (" + join(fk.second.second) + ")");

        s.insert("rows " + table + " " +
                 std::to_string(db.execAndGet("SELECT count(*) FROM \"" + table + "\"").getInt()));
    }
    return s;
}

// The same description of a PostgreSQL database's public schema, without schema_version.
Schema describe_postgres(pqxx::connection& c) {
    Schema s;
    pqxx::work tx(c);
    std::vector<std::string> tables;
    for (const auto& row :
         tx.exec("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> "
                 "'schema_version' ORDER BY 1"))
        tables.push_back(row[0].as<std::string>());
    const std::set<std::string> wanted(tables.begin(), tables.end());
    for (const auto& table : tables) {
        s.insert("table " + table);
        s.insert("rows " + table + " " +
                 tx.exec1("SELECT count(*) FROM " + tx.quote_name(table))[0].as<std::string>());
    }

    for (const auto& row : tx.exec("SELECT table_name, column_name, data_type, is_nullable, "
                                   "coalesce(column_default, '') FROM information_schema.columns "
                                   "WHERE table_schema = 'public'")) {
        const auto table = row[0].as<std::string>();
        if (!wanted.count(table)) continue;
        s.insert(column_line(
            table, row[1].as<std::string>(), postgres_type_class(row[2].as<std::string>()),
            row[3].as<std::string>() == "NO", normalized_default(row[4].as<std::string>())));
    }

    // Every index: the primary key's, a unique constraint's, or one of its own.
    for (const auto& row : tx.exec(R"sql(
        SELECT t.relname, i.relname, ix.indisunique, coalesce(con.contype, ''),
               coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''),
               array_to_string(ARRAY(
                   SELECT coalesce(a.attname, '<expression>')
                   FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                   LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                   ORDER BY k.ord), ', ')
        FROM pg_index ix
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.contype IN ('p', 'u')
        WHERE n.nspname = 'public')sql")) {
        const auto table = row[0].as<std::string>();
        if (!wanted.count(table)) continue;
        const auto kind = row[3].as<std::string>();
        const auto columns = row[5].as<std::string>();
        if (kind == "p") {
            s.insert("primary key " + table + " (" + columns + ")");
        } else if (kind == "u") {
            s.insert("unique " + table + " (" + columns + ")");
        } else {
            std::string line =
                "index " + row[1].as<std::string>() + " on " + table + " (" + columns + ")";
            if (row[2].as<bool>()) line += " unique";
            const auto predicate = row[4].as<std::string>();
            if (!predicate.empty()) line += " where " + normalized_predicate(predicate);
            s.insert(line);
        }
    }

    for (const auto& row : tx.exec(R"sql(
        SELECT t.relname, r.relname,
               array_to_string(ARRAY(
                   SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                   ORDER BY k.ord), ', '),
               array_to_string(ARRAY(
                   SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                   ORDER BY k.ord), ', ')
        FROM pg_constraint con
        JOIN pg_class t ON t.oid = con.conrelid
        JOIN pg_class r ON r.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public')sql")) {
        const auto table = row[0].as<std::string>();
        if (!wanted.count(table)) continue;
        s.insert("foreign key " + table + " (" + row[2].as<std::string>() + ") references " +
                 row[1].as<std::string>() + " (" + row[3].as<std::string>() + ")");
    }
    tx.commit();
    return s;
}

// What one side has and the other lacks, one line each; empty when they agree.
std::string differences(const Schema& sqlite, const Schema& postgres) {
    std::string out;
    for (const auto& line : sqlite)
        if (!postgres.count(line)) out += "  only in SQLite:     " + line + "\n";
    for (const auto& line : postgres)
        if (!sqlite.count(line)) out += "  only in PostgreSQL: " + line + "\n";
    return out;
}

// The baseline and the PostgreSQL migrations after it, as the store applies them to an empty
// database.
void apply_baseline(pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec(dunning::store::postgres_baseline_schema());
    for (const auto* migration : dunning::store::postgres_migrations())
        tx.exec(migration);
    tx.exec("UPDATE schema_version SET version = " +
            std::to_string(dunning::store::postgres_baseline_version() +
                           static_cast<int>(dunning::store::postgres_migrations().size())));
    tx.commit();
}

TEST(PostgresSchema, TheBaselineIsSQLitesLatestSchema) {
    ScratchDatabase database(postgres_cluster());
    pqxx::connection c(database.url());
    apply_baseline(c);

    auto sqlite = fresh_sqlite_store();
    const auto sqlite_schema = describe_sqlite(sqlite);
    const auto postgres_schema = describe_postgres(c);
    EXPECT_EQ(differences(sqlite_schema, postgres_schema), "")
        << "store/postgres_schema.cpp and store/migrations.cpp describe different schemas";
    // Not two empty descriptions agreeing.
    EXPECT_TRUE(sqlite_schema.count("index jobs_due on jobs (kind, due_at, id) "
                                    "where state='pending'"));
    EXPECT_GT(sqlite_schema.size(), 200u);

    pqxx::work tx(c);
    const auto version = tx.exec1("SELECT version FROM schema_version")[0].as<int>();
    EXPECT_EQ(version, static_cast<int>(dunning::store::migrations().size()))
        << "SQLite's migrations are at another version than PostgreSQL's schema";
    EXPECT_EQ(version, dunning::store::latest_schema_version());
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM schema_version")[0].as<int>(), 1);
}

TEST(PostgresSchema, AStoreAtTheBaselineIsMigratedToTheLatestVersionWhenItOpens) {
    ScratchDatabase database(postgres_cluster());
    {
        pqxx::connection c(database.url());
        pqxx::work tx(c);
        tx.exec(dunning::store::postgres_baseline_schema());
        tx.exec("INSERT INTO jobs (kind, payload, idempotency_key, due_at, created_at) "
                "VALUES ('email', '{}', 'k', 1, 1)");
        tx.commit();
    }
    dunning::store::StoreOptions options;
    options.postgres_url = database.url();
    dunning::store::open_store(options);

    pqxx::connection c(database.url());
    pqxx::work tx(c);
    EXPECT_EQ(tx.exec1("SELECT version FROM schema_version")[0].as<int>(),
              dunning::store::latest_schema_version());
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM jobs WHERE claimed_until IS NULL")[0].as<int>(), 1)
        << "the job stored before the migration is kept";
}

TEST(PostgresSchema, AChangeToOneSideOnlyIsReported) {
    ScratchDatabase database(postgres_cluster());
    pqxx::connection c(database.url());
    apply_baseline(c);
    {
        pqxx::work tx(c);
        tx.exec("CREATE INDEX jobs_by_state ON jobs (state)");
        tx.exec("DROP INDEX jobs_due");
        tx.exec("CREATE INDEX jobs_due ON jobs (kind, due_at, id) WHERE state = 'done'");
        tx.exec("ALTER TABLE cards ALTER COLUMN reminded DROP DEFAULT");
        tx.commit();
    }
    auto sqlite = fresh_sqlite_store();
    sqlite.exec("ALTER TABLE cases ADD COLUMN note TEXT");
    sqlite.exec("CREATE TABLE extra (id INTEGER PRIMARY KEY, x REAL NOT NULL UNIQUE)");

    const auto diff = differences(describe_sqlite(sqlite), describe_postgres(c));
    for (const auto* expected :
         {"only in PostgreSQL: index jobs_by_state on jobs (state)",
          "only in PostgreSQL: index jobs_due on jobs (kind, due_at, id) where state='done'",
          "only in SQLite:     index jobs_due on jobs (kind, due_at, id) where state='pending'",
          "only in SQLite:     column cards.reminded integer not null default 0",
          "only in SQLite:     column cases.note text null", "only in SQLite:     table extra",
          "only in SQLite:     unique extra (x)"})
        EXPECT_NE(diff.find(expected), std::string::npos) << expected << "\nin:\n" << diff;
}

TEST(PostgresHarness, OneServerNotAsRootWithADatabasePerTest) {
    auto& cluster = postgres_cluster();
    std::cout << "[ PostgreSQL ] initdb " << cluster.initdb_time.count() << " ms, start "
              << cluster.start_time.count() << " ms, in " << cluster.directory() << "\n";
    std::string name;
    {
        ScratchDatabase database(cluster);
        name = database.name();
        pqxx::connection c(database.url());
        pqxx::work tx(c);
        const auto data = tx.exec1("SELECT current_setting('data_directory')")[0].as<std::string>();
        EXPECT_EQ(data, (cluster.directory() / "data").string());
        struct stat st {};
        ASSERT_EQ(stat(data.c_str(), &st), 0);
        if (geteuid() == 0)
            EXPECT_NE(st.st_uid, 0u) << "the server's files belong to root";
        else
            EXPECT_EQ(st.st_uid, geteuid());
        EXPECT_EQ(tx.exec1("SELECT current_database()")[0].as<std::string>(), name);
        EXPECT_EQ(tx.exec1("SHOW listen_addresses")[0].as<std::string>(), "");
    }
    pqxx::connection admin(cluster.url());
    pqxx::work tx(admin);
    EXPECT_EQ(
        tx.exec1("SELECT count(*) FROM pg_database WHERE datname = " + tx.quote(name))[0].as<int>(),
        0)
        << "the test's database was not dropped";
}

} // namespace
