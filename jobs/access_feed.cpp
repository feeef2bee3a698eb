#include "jobs/access_feed.hpp"

#include "store/access_store.hpp"
#include "telemetry/log.hpp"

namespace dunning::jobs {

using telemetry::log_error;

void AccessFeed::add(AccessListener listener) {
    std::lock_guard lock(mutex_);
    listeners_.push_back(std::move(listener));
}

std::size_t AccessFeed::deliver(store::Connection& db) {
    std::vector<AccessListener> listeners;
    {
        std::lock_guard lock(mutex_);
        listeners = listeners_;
    }
    if (listeners.empty()) return 0;
    if (store::history_after(db, store::listener_cursor(db), 1).empty())
        return 0; // no write lock for nothing
    // Read under the whole write lock: on PostgreSQL instances write history for different
    // members side by side, so a change may commit after one with a higher id; with no such
    // transaction open, every id below the highest is committed or gone and the cursor skips none.
    std::vector<store::HistoryEntry> rows;
    {
        store::Transaction tx(db);
        rows = store::history_after(db, store::listener_cursor(db), 256);
        tx.commit();
    }
    if (rows.empty()) return 0;
    std::int64_t done = 0;
    std::size_t count = 0;
    try {
        for (const auto& row : rows) {
            const AccessEvent e{row.id,
                                row.key.creator,
                                row.key.customer,
                                row.key.product,
                                courses_of_(row.key.creator, row.key.product),
                                row.change.from,
                                row.change.to,
                                row.change.reason,
                                row.change.case_id,
                                row.change.at};
            for (const auto& listener : listeners)
                listener(e);
            done = row.id;
            ++count;
        }
    } catch (const std::exception& ex) {
        log_error(std::string("access listener failed: ") + ex.what() +
                  "; will hand the change over again");
    }
    if (done == 0) return 0;
    store::Transaction tx(db);
    store::set_listener_cursor(db, done);
    tx.commit();
    return count;
}

} // namespace dunning::jobs
