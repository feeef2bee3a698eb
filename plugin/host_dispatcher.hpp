#pragma once
// Delivers queued notifications (access.locked, access.restored, case.*) to the host platform:
// POST [host] webhook_url with the JSON body and `Dunning-Signature: t=…,v1=…` (Stripe's
// scheme: hex HMAC-SHA256 of "<t>.<body>" keyed with [host] webhook_secret). A 2xx answer
// delivers; anything else is retried with backoff, forever, one member at a time in order.
#include "config/config.hpp"
#include "core/time.hpp"

#include <SQLiteCpp/Database.h>
#include <httplib.h>

#include <memory>
#include <optional>

namespace dunning::plugin {

class HostDispatcher {
  public:
    explicit HostDispatcher(const config::HostConfig& host);
    ~HostDispatcher();

    bool enabled() const { return !url_.empty(); }
    // Sends what is due; returns how many notifications were delivered or rescheduled.
    std::size_t dispatch_due(SQLite::Database& db, const Clock& clock);

  private:
    bool post(const std::string& body, Timestamp now, std::string& result);

    std::string url_, origin_, path_, secret_;
    std::unique_ptr<httplib::Client> client_; // kept alive between notifications
    // Set after a delivery failed without an answer (the host is down): no calls until then,
    // so a dead host does not cost a connect timeout per member.
    std::optional<Timestamp> pause_until_;
    int failures_in_a_row_ = 0;
};

} // namespace dunning::plugin
