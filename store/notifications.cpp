#include "store/notifications.hpp"

#include "crypto/crypto.hpp"

namespace dunning::store {

namespace {

std::string random_notification_id() {
    return "dn_" + crypto::random_hex(12);
}

} // namespace

std::string queue_notification(Connection& db, const std::string& creator,
                               const std::string& customer, const std::string& type,
                               const nlohmann::json& data, Timestamp now) {
    PlatformNotificationJob n{random_notification_id(),
                              type,
                              creator,
                              customer,
                              static_cast<std::int64_t>(to_unix(now)),
                              data};
    const auto id = n.id;
    enqueue(db,
            {.payload = std::move(n), .idempotency_key = id, .order_key = creator + "/" + customer},
            now);
    return id;
}

NotificationCounts notification_counts(Connection& db) {
    const auto p = pending_jobs(db, JobKind::platform_notification);
    return {p.count, p.oldest};
}

} // namespace dunning::store
