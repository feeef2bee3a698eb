#pragma once
// `dunning migrate-store`: a SQLite store copied into PostgreSQL (store/migrate_store.hpp).
#include "config/environment.hpp"

#include <iosfwd>
#include <string>

namespace dunning::plugin {

struct MigrateStoreOptions {
    std::string from; // sqlite:PATH
    std::string to;   // postgresql://… or postgres://…, "${NAME}" taken from the environment
};

// Opens both stores with open_store (the SQLite file brought to the latest schema, an empty
// PostgreSQL database given the schema), copies every table, prints "table: N rows" on `err` as
// each is done and the table of counts on `out`. No message shows the URL's password. Returns
// the exit code: 0 copied (every table of PostgreSQL holds at least the source's rows), 1 the
// copy failed or came out short (PostgreSQL left as it was), 2 bad arguments (--from not
// sqlite:PATH or no such file, --to not a PostgreSQL URL or naming an unset variable).
int migrate_store_command(const MigrateStoreOptions& options, std::ostream& out, std::ostream& err,
                          const config::EnvLookup& env = config::process_env);

} // namespace dunning::plugin
