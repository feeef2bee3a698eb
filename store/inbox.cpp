#include "store/inbox.hpp"

#include "store/statement.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace dunning::store {

namespace {

constexpr std::size_t max_batch = 512;

// Only the event's own key counts as "stored already": any other conflict (an id taken by a copy
// of another store) is an error, answered 503, never a 200 for an event not stored.
// The body goes into a table of its own (schema 20), only with a row inserted: the worker's update
// of the row's state then rewrites a row of a hundred bytes, not the event's kilobytes.
// SQLite: the row, then its body under the rowid just given, two statements of the caller's
// transaction. PostgreSQL: one statement, the body inserted from the row's RETURNING (one round
// trip; a conflict returns no id and inserts no body).
const char* insert_sql =
    "INSERT INTO inbox (creator_id, event_id, type, account, created, received_at, "
    "source) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (creator_id, event_id) DO NOTHING";
const char* body_sql = "INSERT INTO inbox_bodies (inbox_id, body) VALUES (last_insert_rowid(), ?)";
const char* insert_with_body_sql =
    "WITH appended AS (INSERT INTO inbox (creator_id, event_id, type, account, created, "
    "received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (creator_id, event_id) DO NOTHING RETURNING id) "
    "INSERT INTO inbox_bodies (inbox_id, body) SELECT id, CAST(? AS TEXT) FROM appended";

class Appender {
  public:
    explicit Appender(Connection& db)
        : two_statements_(db.backend() == Backend::sqlite),
          row_(db, two_statements_ ? insert_sql : insert_with_body_sql) {
        if (two_statements_) body_.emplace(db, body_sql);
    }

    AppendOutcome append(const InboxRow& row) {
        row_.bindNoCopy(1, row.creator_id);
        row_.bindNoCopy(2, row.event_id);
        row_.bindNoCopy(3, row.type);
        row_.bindNoCopy(4, row.account);
        row_.bind(5, static_cast<std::int64_t>(row.created));
        row_.bind(6, static_cast<std::int64_t>(row.received_at_ms));
        row_.bindNoCopy(7, row.source);
        if (!two_statements_) row_.bindNoCopy(8, row.body);
        const bool inserted = row_.exec() == 1;
        row_.reset();
        if (!inserted) return AppendOutcome::duplicate;
        if (two_statements_) {
            body_->bindNoCopy(1, row.body);
            body_->exec();
            body_->reset();
        }
        return AppendOutcome::inserted;
    }

  private:
    bool two_statements_;
    CachedStatement row_;
    std::optional<CachedStatement> body_;
};

} // namespace

AppendOutcome insert_inbox_row(Connection& db, const InboxRow& row) {
    return Appender(db).append(row);
}

std::optional<std::int64_t> newest_event_created(Connection& db, const std::string& creator,
                                                 std::int64_t received_before_ms) {
    // Imported invoices carry the time of the import, not of an event Stripe sent: they say
    // nothing about which events arrived.
    CachedStatement st(db, "SELECT MAX(created) FROM inbox WHERE creator_id = ? "
                           "AND source <> 'import' AND received_at < ?");
    st.bind(1, creator);
    st.bind(2, static_cast<std::int64_t>(received_before_ms));
    if (!st.executeStep() || st.getColumn(0).isNull()) return std::nullopt;
    return st.getColumn(0).getInt64();
}

std::vector<InboxRecord> pending_inbox_rows(Connection& db, int limit) {
    // A row without its body (none is written so) would read as an empty event, and the worker
    // would mark it poison: seen, not passed over for ever.
    CachedStatement st(db, "SELECT i.id, i.creator_id, coalesce(b.body, ''), i.received_at "
                           "FROM inbox i LEFT JOIN inbox_bodies b ON b.inbox_id = i.id "
                           "WHERE i.state = 'pending' ORDER BY i.id LIMIT ?");
    st.bind(1, limit);
    std::vector<InboxRecord> out;
    while (st.executeStep()) {
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                       st.getColumn(2).getString(), st.getColumn(3).getInt64()});
    }
    return out;
}

bool inbox_row_pending(Connection& db, std::int64_t id) {
    // PostgreSQL: the row stays locked to this transaction; a row another one holds is passed by.
    CachedStatement st(db, db.locks_keys()
                               ? "SELECT 1 FROM inbox WHERE id = ? AND state = 'pending' "
                                 "FOR UPDATE SKIP LOCKED"
                               : "SELECT 1 FROM inbox WHERE id = ? AND state = 'pending'");
    st.bind(1, static_cast<std::int64_t>(id));
    return st.executeStep();
}

void mark_inbox_row(Connection& db, std::int64_t id, const std::string& state,
                    const std::string& note, std::int64_t processed_at_ms) {
    CachedStatement st(db, "UPDATE inbox SET state = ?, note = ?, processed_at = ? WHERE id = ?");
    st.bind(1, state);
    if (!note.empty()) st.bind(2, note);
    st.bind(3, static_cast<std::int64_t>(processed_at_ms));
    st.bind(4, static_cast<std::int64_t>(id));
    st.exec();
}

InboxGauges inbox_gauges(Connection& db) {
    CachedStatement st(db, "SELECT (SELECT count(*) FROM inbox WHERE state = 'pending'), "
                           "(SELECT min(received_at) FROM inbox WHERE state = 'pending'), "
                           "(SELECT count(*) FROM inbox WHERE state = 'poison')");
    st.executeStep();
    return {st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64()};
}

void remember_unlinked(Connection& db, const std::string& creator, const std::string& payment_key,
                       std::int64_t inbox_id) {
    CachedStatement st(db, "INSERT INTO unlinked_payments (creator_id, payment_key, "
                           "inbox_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    st.bind(1, creator);
    st.bind(2, payment_key);
    st.bind(3, static_cast<std::int64_t>(inbox_id));
    st.exec();
}

std::vector<UnlinkedEvent> take_unlinked(Connection& db, const std::string& creator,
                                         const std::string& payment_intent,
                                         const std::string& charge) {
    // Each key by itself: `payment_key IN (?, ?)` made SQLite build a temporary B-tree of the
    // two values on every call, and every invoice event of the worker asks. An empty key names no
    // payment (invoices of current API versions have no charge id), so nothing waits under it.
    std::vector<const std::string*> keys;
    for (const auto* key : {&payment_intent, &charge})
        if (!key->empty() && (keys.empty() || *keys.front() != *key)) keys.push_back(key);
    std::vector<UnlinkedEvent> out;
    if (keys.empty()) return out;
    // On PostgreSQL a list costs nothing extra, and each statement is a round trip.
    const bool one_by_one = db.backend() == Backend::sqlite || keys.size() == 1;
    static const std::string select = "SELECT u.inbox_id, b.body FROM unlinked_payments u "
                                      "JOIN inbox_bodies b ON b.inbox_id = u.inbox_id "
                                      "WHERE u.creator_id = ? AND u.payment_key ";
    static const std::string select_one = select + "= ?", select_two = select + "IN (?, ?)";
    static const std::string del_one =
        "DELETE FROM unlinked_payments WHERE creator_id = ? AND payment_key = ?";
    static const std::string del_two =
        "DELETE FROM unlinked_payments WHERE creator_id = ? AND payment_key IN (?, ?)";
    for (std::size_t k = 0; k < keys.size(); k += one_by_one ? 1 : 2) {
        CachedStatement st(db, one_by_one ? select_one : select_two);
        st.bind(1, creator);
        st.bind(2, *keys[k]);
        if (!one_by_one) st.bind(3, *keys[k + 1]);
        while (st.executeStep())
            out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString()});
    }
    if (out.empty()) return out;
    // The rows just read, by their key (inbox_id alone is not one: that would scan the table).
    for (std::size_t k = 0; k < keys.size(); k += one_by_one ? 1 : 2) {
        CachedStatement del(db, one_by_one ? del_one : del_two);
        del.bind(1, creator);
        del.bind(2, *keys[k]);
        if (!one_by_one) del.bind(3, *keys[k + 1]);
        del.exec();
    }
    // In the order they arrived in, whichever key they waited under.
    std::sort(out.begin(), out.end(), [](const UnlinkedEvent& a, const UnlinkedEvent& b) {
        return a.inbox_id < b.inbox_id;
    });
    return out;
}

namespace {
StoreOptions with_lock_wait(StoreOptions o) {
    o.lock_wait = std::min(o.lock_wait, inbox_lock_wait);
    return o;
}

// Deliveries not stored on a ride go back to the front of the writer's queue, in their order: the
// items of `from` after its first `keep`.
template <typename Pending>
void hand_back(std::deque<Pending>& from, std::size_t keep, std::deque<Pending>& to) {
    while (from.size() > keep) {
        to.push_front(std::move(from.back()));
        from.pop_back();
    }
}
} // namespace

InboxWriter::InboxWriter(const StoreOptions& store, std::function<void()> on_commit)
    : db_(connect_store(with_lock_wait(store))), on_commit_(std::move(on_commit)),
      thread_([this] { run(); }) {}

InboxWriter::~InboxWriter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

AppendOutcome InboxWriter::append(InboxRow row) {
    std::future<AppendOutcome> result;
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw std::runtime_error("the inbox is shutting down");
        queue_.push_back(Pending{std::move(row), {}});
        result = queue_.back().done.get_future();
        wake = !riding_; // a ride boards it, or wakes the thread when it ends
    }
    if (wake) wake_.notify_one();
    return result.get();
}

void InboxWriter::open_ride() {
    std::lock_guard lock(mutex_);
    riding_ = true;
}

std::size_t InboxWriter::waiting() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::size_t InboxWriter::board(Connection& db) {
    std::size_t first = 0;
    {
        std::lock_guard lock(mutex_);
        first = aboard_.size();
        while (!queue_.empty()) {
            aboard_.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
    }
    if (first == aboard_.size()) return 0;
    // Under a savepoint: a delivery that cannot be stored costs the caller's transaction nothing;
    // the writer's thread tries those boarded here on its own and answers their error.
    try {
        Savepoint boarding(db);
        try {
            Appender appender(db);
            for (auto i = first; i < aboard_.size(); ++i)
                aboard_[i].outcome = appender.append(aboard_[i].row);
        } catch (...) {
            boarding.rollback();
            throw;
        }
    } catch (const std::exception& e) {
        {
            std::lock_guard lock(mutex_);
            hand_back(aboard_, first, queue_);
        }
        if (store_in_trouble(e)) throw; // the caller's transaction fails too, with the cause
        return 0;
    }
    return aboard_.size() - first;
}

void InboxWriter::close_ride(bool committed) {
    std::deque<Pending> boarded;
    {
        std::lock_guard lock(mutex_);
        riding_ = false;
        boarded.swap(aboard_);
        if (!committed) hand_back(boarded, 0, queue_); // not stored: the writer's thread tries them
    }
    wake_.notify_one();
    if (boarded.empty()) return;
    set_trouble("");
    for (auto& p : boarded)
        p.done.set_value(p.outcome);
    if (on_commit_) on_commit_();
}

void InboxWriter::run() {
    std::deque<Pending> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            // While a ride is open its transaction holds the write lock: what is queued boards it.
            const auto ready = [&] { return stopping_ || (!queue_.empty() && !riding_); };
            if (trouble().empty()) {
                wake_.wait(lock, ready);
            } else if (!wake_.wait_for(lock, std::chrono::seconds(1), ready)) {
                // A ride holds the write lock (the probe would find it locked) and clears the
                // trouble itself when it commits a delivery.
                const bool riding = riding_;
                lock.unlock();
                if (!riding && !trouble().empty()) probe();
                continue;
            }
            if (queue_.empty()) return; // stopping, nothing left
            while (!queue_.empty() && batch.size() < max_batch) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        commit_batch(batch);
        batch.clear();
        if (on_commit_) on_commit_();
    }
}

void InboxWriter::commit_batch(std::deque<Pending>& batch) {
    std::vector<AppendOutcome> outcomes;
    outcomes.reserve(batch.size());
    try {
        Transaction tx(*db_, Transaction::appends_only); // instances append side by side
        Appender appender(*db_);
        for (auto& p : batch)
            outcomes.push_back(appender.append(p.row));
        tx.commit();
    } catch (const std::exception& e) {
        set_trouble(e.what());
        const auto error = std::make_exception_ptr(
            std::runtime_error(std::string("storage unavailable: ") + e.what()));
        for (auto& p : batch)
            p.done.set_exception(error);
        return;
    }
    set_trouble("");
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].done.set_value(outcomes[i]);
}

// A write that reaches the disk (the header's user_version, rewritten with its own value) and
// changes nothing. It does not wait for a lock: deliveries arriving meanwhile would wait behind it.
// (PostgreSQL: the row of schema_version, outside the write lock as the appends are; the
// session's lock_timeout stays as the connection was made.)
void InboxWriter::probe() {
    const auto wait = db_->lock_wait.limit;
    db_->lock_wait.limit = std::chrono::milliseconds(0);
    struct Restore {
        Connection& db;
        std::chrono::milliseconds wait;
        ~Restore() { db.lock_wait.limit = wait; }
    } restore{*db_, wait};
    try {
        Transaction tx(*db_, Transaction::appends_only);
        db_->write_nothing();
        tx.commit();
        set_trouble("");
    } catch (const std::exception&) {
        // Still in trouble, with the error the failed commit gave. (A ride may have cleared the
        // trouble since the probe was decided on, and then hold the lock the probe found taken.)
    }
}

std::string InboxWriter::trouble() const {
    std::lock_guard lock(trouble_mutex_);
    return trouble_;
}

void InboxWriter::on_trouble_change(std::function<void(const std::string&)> listener) {
    std::lock_guard lock(trouble_mutex_);
    on_trouble_ = std::move(listener);
}

void InboxWriter::set_trouble(const std::string& error) {
    std::function<void(const std::string&)> listener;
    {
        std::lock_guard lock(trouble_mutex_);
        if (trouble_.empty() == error.empty()) {
            trouble_ = error;
            return;
        }
        trouble_ = error;
        listener = on_trouble_;
    }
    if (listener) listener(error);
}

} // namespace dunning::store
