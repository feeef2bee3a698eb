#pragma once
// Instants in the domain are whole seconds since the Unix epoch, UTC (Stripe's own unit).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace dunning {

using Timestamp = std::chrono::sys_seconds;

inline Timestamp from_unix(std::int64_t seconds) {
    return Timestamp{std::chrono::seconds{seconds}};
}
inline std::int64_t to_unix(Timestamp t) {
    return t.time_since_epoch().count();
}

// "2026-03-03T10:00:00Z": how every answer, email and log shows an instant.
std::string iso8601(Timestamp t);

// The only way code below plugin/ learns the time; plugin/ owns the real one.
struct Clock {
    virtual ~Clock() = default;
    virtual Timestamp now() const = 0;
};

// A settable clock for tests and for `serve --test-clock`. Safe to read from many threads.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(Timestamp start) : now_(to_unix(start)) {}
    Timestamp now() const override { return from_unix(now_.load()); }
    void set(Timestamp t) { now_.store(to_unix(t)); }
    void advance(std::chrono::seconds by) { now_.fetch_add(by.count()); }

  private:
    std::atomic<std::int64_t> now_;
};

} // namespace dunning
