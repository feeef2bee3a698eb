#include "store/database.hpp"

#include <sqlite3.h>

namespace dunning::store {

Savepoint::Savepoint(Connection& db) : db_(db) {
    db_.exec("SAVEPOINT unit");
}

Savepoint::~Savepoint() {
    try {
        db_.exec("RELEASE unit");
    } catch (...) {
        // The enclosing transaction is gone (its own error rolled it back): nothing to release.
    }
}

void Savepoint::rollback() {
    db_.exec("ROLLBACK TO unit");
}

bool store_in_trouble(const std::exception& e) {
    const auto* sql = dynamic_cast<const SQLite::Exception*>(&e);
    if (!sql) return false;
    const int code = sql->getErrorCode();
    return code == SQLITE_BUSY || code == SQLITE_FULL || code == SQLITE_IOERR ||
           code == SQLITE_LOCKED;
}

} // namespace dunning::store
