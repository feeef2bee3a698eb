#pragma once
// PostgreSQL's implementation of the store's connection (store/database.hpp), on libpqxx. The
// only place in the product that includes libpqxx: the store's SQL, written with SQLite's
// placeholders, is translated here ("?" and "?N" become "$N"), results come back as text and
// are parsed on reading, the schema version is the single row of the table schema_version.
#include "store/database.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

// Connects to `url` (a postgresql:// URL or libpq's key=value string). The session waits for a
// lock at most options.lock_wait (lock_timeout) before a statement fails as the store's trouble.
// Throws StoreError (trouble) when it cannot connect; no message carries the URL's password.
std::unique_ptr<Connection> connect_postgres(const std::string& url, const StoreOptions& options);

// The store's SQL with SQLite's placeholders turned into PostgreSQL's: "?N" -> "$N", a bare "?"
// -> one more than the largest number so far (SQLite's rule). Question marks inside '…' string
// literals, "…" identifiers and comments stay as they are. `parameters`: the largest number.
std::string postgres_placeholders(std::string_view sql, int* parameters = nullptr);

// `url` as it may be shown: its password (in the URL's user info, a "password=" query
// parameter or a key=value "password") replaced by "***".
std::string redacted_postgres_url(const std::string& url);

// `message` with every spelling of `url`'s password (as written and percent-decoded) replaced
// by "***".
std::string without_postgres_password(std::string message, const std::string& url);

} // namespace dunning::store
