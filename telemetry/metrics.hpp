#pragma once
// Counters and one latency histogram, rendered in the Prometheus text format.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace dunning::telemetry {

class Metrics {
  public:
    void event_received(const std::string& endpoint); // "connect" | "direct"
    void event_accepted(bool duplicate);
    void event_rejected(const std::string& reason); // "too_old", "unknown_creator", …
    void event_processed(const std::string& outcome, std::int64_t lag_ms);

    // Gauges are read from the store at scrape time and passed in.
    std::string render(std::int64_t inbox_pending, std::int64_t oldest_pending_age_ms,
                       std::int64_t inbox_poison) const;

  private:
    static constexpr std::array<double, 12> lag_buckets_ms = {
        1, 5, 10, 25, 50, 100, 250, 1000, 5000, 30000, 60000, 300000};
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> received_;
    std::uint64_t accepted_ = 0;
    std::uint64_t duplicates_ = 0;
    std::map<std::string, std::uint64_t> rejected_;
    std::map<std::string, std::uint64_t> processed_;
    std::array<std::uint64_t, lag_buckets_ms.size()> lag_counts_{};
    std::uint64_t lag_count_ = 0;
    double lag_sum_ms_ = 0;
};

} // namespace dunning::telemetry
