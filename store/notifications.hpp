#pragma once
// Notifications to the host platform (access.locked, access.restored, case.*), queued as jobs
// with the member as order key: a member's notifications are delivered in order, a later one
// waiting while an earlier one is retried.
#include "core/time.hpp"
#include "store/job_queue.hpp"

#include "store/database.hpp"
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dunning::store {

// Queues {"id", "object": "event", "type", "created", "creator", "member", "data": data};
// returns the id, unique and random ("dn_" + 24 hex): the platform dedupes on it.
std::string queue_notification(Connection& db, const std::string& creator,
                               const std::string& customer, const std::string& type,
                               const nlohmann::json& data, Timestamp now);

struct NotificationCounts {
    std::int64_t pending = 0;
    std::optional<Timestamp> oldest_pending;
};
NotificationCounts notification_counts(Connection& db);

} // namespace dunning::store
