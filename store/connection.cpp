#include "store/database.hpp"
#include "store/statement.hpp"

namespace dunning::store {

Connection::~Connection() = default;

std::vector<std::string> Connection::cached_sql() const {
    std::vector<std::string> out;
    out.reserve(statements_.size());
    for (const auto& [sql, slot] : statements_)
        out.push_back(sql);
    return out;
}

CachedStatement::CachedStatement(Connection& db, std::string_view sql) {
    auto it = db.statements_.find(sql);
    if (it == db.statements_.end())
        it = db.statements_.emplace(std::string(sql), Connection::Slot{db.prepare(sql)}).first;
    if (it->second.in_use) {
        own_ = db.prepare(sql);
        st_ = own_.get();
        return;
    }
    slot_ = &it->second;
    slot_->in_use = true;
    st_ = slot_->statement.get();
}

CachedStatement::~CachedStatement() {
    if (!slot_) return;
    st_->release(); // its error, if any, was thrown to the user already
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
    db_.forget_written_figures();
    db_.exec("ROLLBACK TO unit");
}

bool store_in_trouble(const std::exception& e) {
    const auto* error = dynamic_cast<const StoreError*>(&e);
    return error && error->trouble();
}

int schema_version(Connection& db) {
    return db.schema_version();
}

} // namespace dunning::store
