#pragma once
// SQLite's implementation of the store's connection (store/database.hpp). The only place that
// knows the engine: its C API, its PRAGMAs (WAL, synchronous, foreign keys, user_version as the
// schema version), its busy handler and its file format.
#include "store/database.hpp"

#include <memory>
#include <string>

namespace dunning::store {

// Opens (creating) the file with the durability in `options` and the lock wait. Throws
// StoreError when it cannot.
std::unique_ptr<Connection> connect_sqlite(const StoreOptions& options);

// Reads the file without writing a byte (not even WAL mode) and throws std::runtime_error unless
// it is missing, empty or a dunning database this binary knows.
void check_sqlite_file(const std::string& path);

} // namespace dunning::store
