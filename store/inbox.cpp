#include "store/inbox.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <stdexcept>

namespace dunning::store {

namespace {

constexpr std::size_t max_batch = 512;

const char* insert_sql =
    "INSERT OR IGNORE INTO inbox (creator_id, event_id, type, account, created, received_at, "
    "source, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

AppendOutcome run_insert(SQLite::Database& db, SQLite::Statement& st, const InboxRow& row) {
    st.bindNoCopy(1, row.creator_id);
    st.bindNoCopy(2, row.event_id);
    st.bindNoCopy(3, row.type);
    st.bindNoCopy(4, row.account);
    st.bind(5, static_cast<std::int64_t>(row.created));
    st.bind(6, static_cast<std::int64_t>(row.received_at_ms));
    st.bindNoCopy(7, row.source);
    st.bindNoCopy(8, row.body);
    st.exec();
    const bool inserted = db.getChanges() == 1;
    st.reset();
    return inserted ? AppendOutcome::inserted : AppendOutcome::duplicate;
}

} // namespace

AppendOutcome insert_inbox_row(SQLite::Database& db, const InboxRow& row) {
    SQLite::Statement st(db, insert_sql);
    return run_insert(db, st, row);
}

InboxWriter::InboxWriter(const StoreOptions& store, std::function<void()> on_commit)
    : db_(connect_store(store)), on_commit_(std::move(on_commit)), thread_([this] { run(); }) {}

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
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw std::runtime_error("the inbox is shutting down");
        queue_.push_back(Pending{std::move(row), {}});
        result = queue_.back().done.get_future();
    }
    wake_.notify_one();
    return result.get();
}

void InboxWriter::run() {
    std::deque<Pending> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
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
        SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement st(*db_, insert_sql);
        for (auto& p : batch) outcomes.push_back(run_insert(*db_, st, p.row));
        tx.commit();
    } catch (const std::exception& e) {
        const auto error = std::make_exception_ptr(
            std::runtime_error(std::string("storage unavailable: ") + e.what()));
        for (auto& p : batch) p.done.set_exception(error);
        return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(outcomes[i]);
}

} // namespace dunning::store
