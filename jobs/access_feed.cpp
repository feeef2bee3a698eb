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
    const auto rows = store::history_after(db, store::listener_cursor(db), 256);
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
