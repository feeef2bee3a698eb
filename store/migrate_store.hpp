#pragma once
// Copying a SQLite store into a PostgreSQL store (`dunning migrate-store`): every table, found
// at run time with its columns, key and foreign keys (nothing here names a column), in one
// PostgreSQL transaction. Rows are upserted by primary key and the target's rows the source no
// longer holds are deleted, so a second run brings the target up to date with what the source
// gained, changed or deleted since; a target holding events the source does not (a service ran
// on it) is refused.
#include "store/database.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dunning::store {

// What a database says of one of its tables.
struct TableSchema {
    std::string name;
    std::vector<std::string> columns;     // in the table's order
    std::vector<std::string> types;       // each column's declared type, as the engine names it
    std::vector<std::string> primary_key; // empty: none
    std::vector<std::string> references;  // the tables its foreign keys point to (not itself)
};

// The tables of the store's schema, by name, each with its columns, primary key and the tables
// it references; SQLite's own tables (sqlite_*) and schema_version left out.
std::vector<TableSchema> store_tables(Connection& db);

// One table's rows on either side of a copy.
struct TableCopy {
    std::string table;
    std::int64_t source = 0;  // rows in the source
    std::int64_t written = 0; // rows new or changed in the target by this run
    std::int64_t deleted = 0; // rows of the target the source no longer holds, deleted
    std::int64_t target = 0;  // rows in the target after it
};

struct CopyReport {
    std::vector<TableCopy> tables; // in the order they were copied
    // Whether the copy was committed: false when the target held events the source does not,
    // or when a table of the target held another number of rows than its source after the copy
    // (then nothing was written).
    bool committed = false;
    std::int64_t events_only_in_target = 0;
    std::vector<std::string> short_tables() const; // target != source
};

// Copies every row of every table of `from` (a SQLite store) into `to` (a PostgreSQL store),
// both opened with open_store and so at the same schema version (else std::runtime_error, nothing
// written). The source is read in one read transaction (a snapshot, so a service still running
// on it may go on writing); the target is written in one transaction, tables in the order of
// their foreign keys, each row inserted, or updated where its primary key is there with other
// values, then the target's rows whose key the source does not hold are deleted (referencing
// tables first); when some of those are inbox rows, the transaction is rolled back instead.
// Every identity column's sequence is set to the largest id, and each table's rows are counted:
// when the target holds another number than the source, the transaction is rolled back.
// Values are copied as the source stores them (text byte for byte). Throws StoreError or
// std::runtime_error on failure, the target then as it was. `progress` after each table.
CopyReport copy_store(Connection& from, Connection& to,
                      const std::function<void(const TableCopy&)>& progress = {});

} // namespace dunning::store
