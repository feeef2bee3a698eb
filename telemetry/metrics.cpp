#include "telemetry/metrics.hpp"

#include <sstream>

namespace dunning::telemetry {

void Metrics::event_received(const std::string& endpoint) {
    std::lock_guard lock(mutex_);
    ++received_[endpoint];
}

void Metrics::event_accepted(bool duplicate) {
    std::lock_guard lock(mutex_);
    ++(duplicate ? duplicates_ : accepted_);
}

void Metrics::event_rejected(const std::string& reason) {
    std::lock_guard lock(mutex_);
    ++rejected_[reason];
}

void Metrics::event_processed(const std::string& outcome, std::int64_t lag_ms) {
    std::lock_guard lock(mutex_);
    ++processed_[outcome];
    for (std::size_t i = 0; i < lag_buckets_ms.size(); ++i)
        if (static_cast<double>(lag_ms) <= lag_buckets_ms[i]) ++lag_counts_[i];
    ++lag_count_;
    lag_sum_ms_ += static_cast<double>(lag_ms);
}

namespace {

void family(std::ostringstream& o, const char* name, const char* type, const char* help) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void labelled(std::ostringstream& o, const char* name, const char* label,
              const std::map<std::string, std::uint64_t>& values) {
    for (const auto& [key, n] : values)
        o << name << '{' << label << "=\"" << key << "\"} " << n << '\n';
}

} // namespace

std::string Metrics::render(std::int64_t pending, std::int64_t oldest_age_ms,
                            std::int64_t poison) const {
    std::lock_guard lock(mutex_);
    std::ostringstream o;
    family(o, "dunning_webhook_events_received_total", "counter", "Webhook deliveries received.");
    labelled(o, "dunning_webhook_events_received_total", "endpoint", received_);
    family(o, "dunning_webhook_events_accepted_total", "counter",
           "Deliveries stored (new events).");
    o << "dunning_webhook_events_accepted_total " << accepted_ << '\n';
    family(o, "dunning_webhook_events_duplicate_total", "counter",
           "Deliveries of events already stored, acknowledged without change.");
    o << "dunning_webhook_events_duplicate_total " << duplicates_ << '\n';
    family(o, "dunning_webhook_events_rejected_total", "counter", "Deliveries refused, by reason.");
    labelled(o, "dunning_webhook_events_rejected_total", "reason", rejected_);
    family(o, "dunning_events_processed_total", "counter", "Inbox rows processed, by outcome.");
    labelled(o, "dunning_events_processed_total", "outcome", processed_);
    family(o, "dunning_event_processing_lag_seconds", "histogram",
           "Time from receipt to processing of an event.");
    for (std::size_t i = 0; i < lag_buckets_ms.size(); ++i)
        o << "dunning_event_processing_lag_seconds_bucket{le=\"" << lag_buckets_ms[i] / 1000.0
          << "\"} " << lag_counts_[i] << '\n';
    o << "dunning_event_processing_lag_seconds_bucket{le=\"+Inf\"} " << lag_count_ << '\n'
      << "dunning_event_processing_lag_seconds_sum " << lag_sum_ms_ / 1000.0 << '\n'
      << "dunning_event_processing_lag_seconds_count " << lag_count_ << '\n';
    family(o, "dunning_inbox_pending", "gauge", "Stored events not processed yet.");
    o << "dunning_inbox_pending " << pending << '\n';
    family(o, "dunning_inbox_oldest_pending_age_seconds", "gauge",
           "Age of the oldest unprocessed event (processing lag now).");
    o << "dunning_inbox_oldest_pending_age_seconds " << oldest_age_ms / 1000.0 << '\n';
    family(o, "dunning_inbox_poison", "gauge", "Events that could not be processed.");
    o << "dunning_inbox_poison " << poison << '\n';
    return o.str();
}

} // namespace dunning::telemetry
