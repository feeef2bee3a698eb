#pragma once
// A statement from the connection's cache, keyed by its SQL text: prepared on first use, then
// reused. The handle resets it and clears its bindings when it goes, so that between calls the
// connection holds no read snapshot open. A statement already in use (a nested call with the
// same SQL) is prepared afresh for the inner user.
#include "store/database.hpp"

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dunning::store {

class CachedStatement {
  public:
    CachedStatement(Connection& db, std::string_view sql);
    ~CachedStatement();
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;

    template <std::integral T> void bind(int index, T value) {
        st_->bind(index, static_cast<std::int64_t>(value));
    }
    void bind(int index, double value) { st_->bind(index, value); }
    void bind(int index, std::string_view text) { st_->bind(index, text); }
    void bind(int index, const std::string& text) { st_->bind(index, std::string_view(text)); }
    void bind(int index, const char* text) { st_->bind(index, std::string_view(text)); }
    void bind(int index) { st_->bind_null(index); } // NULL
    // The text must stay until the index is bound again or the statement is released.
    void bindNoCopy(int index, std::string_view text) { st_->bind_no_copy(index, text); }
    bool executeStep() { return st_->step(); }
    int exec() { return st_->exec(); }
    void reset() { st_->reset(); }
    Column getColumn(int index) const { return Column(*st_, index); }
    bool isColumnNull(int index) const { return st_->is_null(index); }

  private:
    Connection::Slot* slot_ = nullptr;       // the cache's, when it was free
    std::unique_ptr<PreparedStatement> own_; // otherwise
    PreparedStatement* st_ = nullptr;
};

} // namespace dunning::store
