#include "store/notifications.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace dunning::store {

namespace {

std::string random_notification_id() {
    std::array<unsigned char, 12> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "dn_";
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 0x0f];
    }
    return id;
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
