#pragma once
// A statement from the connection's cache, keyed by its SQL text: prepared on first use, then
// reused. The handle resets it and clears its bindings when it goes, so that between calls the
// connection holds no read snapshot open. A statement already in use (a nested call with the
// same SQL) is prepared afresh for the inner user.
#include "store/database.hpp"

#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string_view>
#include <utility>

namespace dunning::store {

class CachedStatement {
  public:
    CachedStatement(Connection& db, std::string_view sql);
    ~CachedStatement();
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;

    template <class... A> void bind(A&&... args) { st_->bind(std::forward<A>(args)...); }
    bool executeStep() { return st_->executeStep(); }
    int exec() { return st_->exec(); }
    void reset() { st_->reset(); }
    SQLite::Column getColumn(int index) const { return st_->getColumn(index); }
    bool isColumnNull(int index) const { return st_->isColumnNull(index); }
    SQLite::Statement& get() { return *st_; }

  private:
    Connection::Slot* slot_ = nullptr;     // the cache's, when it was free
    std::optional<SQLite::Statement> own_; // otherwise
    SQLite::Statement* st_ = nullptr;
};

} // namespace dunning::store
