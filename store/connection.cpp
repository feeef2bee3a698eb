#include "store/database.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

namespace dunning::store {

Connection::~Connection() {
    statements_.clear();
}

std::vector<std::string> Connection::cached_sql() const {
    std::vector<std::string> out;
    out.reserve(statements_.size());
    for (const auto& [sql, slot] : statements_)
        out.push_back(sql);
    return out;
}

std::int64_t Connection::statement_steps(bool reset) {
    std::int64_t steps = 0;
    for (sqlite3_stmt* st = sqlite3_next_stmt(getHandle(), nullptr); st;
         st = sqlite3_next_stmt(getHandle(), st))
        steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, reset ? 1 : 0);
    return steps;
}

CachedStatement::CachedStatement(Connection& db, std::string_view sql) {
    auto it = db.statements_.find(sql);
    if (it == db.statements_.end())
        it = db.statements_
                 .emplace(std::string(sql), Connection::Slot{std::make_unique<SQLite::Statement>(
                                                db, std::string(sql))})
                 .first;
    if (it->second.in_use) {
        own_.emplace(db, std::string(sql));
        st_ = &*own_;
        return;
    }
    slot_ = &it->second;
    slot_->in_use = true;
    st_ = slot_->statement.get();
}

CachedStatement::~CachedStatement() {
    if (!slot_) return;
    st_->tryReset(); // its error, if any, was thrown to the user already
    try {
        st_->clearBindings();
    } catch (...) {
        // Clearing cannot fail on a valid statement; the next user binds every value it needs.
    }
    slot_->in_use = false;
}

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
