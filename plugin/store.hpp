#pragma once
// The SQLite file: opening it with the durability we promise, and the versioned schema.
// Each thread that writes or reads opens its own connection (SQLite connections are not
// shared across threads here); WAL lets readers go on while one writer commits.
#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

namespace dunning::plugin {

struct StoreOptions {
    std::string path;
    std::string synchronous = "full"; // "full": an fsync per commit; "normal": crash-safe, not power-safe
};

// Opens (creating if needed) and applies pending migrations. Throws std::runtime_error with a
// clear message when the file cannot be opened or is newer than this binary.
std::unique_ptr<SQLite::Database> open_store(const StoreOptions& options);

// Opens another connection to a store that open_store already prepared.
std::unique_ptr<SQLite::Database> connect_store(const StoreOptions& options);

int schema_version(SQLite::Database& db);
int latest_schema_version();

} // namespace dunning::plugin
