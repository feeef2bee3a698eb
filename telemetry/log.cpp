#include "telemetry/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace dunning::telemetry {

namespace {

std::atomic<bool> quiet{false};
std::mutex out_mutex;

void write(const char* level, const std::string& message) {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard lock(out_mutex);
    std::fprintf(stderr, "%s %s %s\n", stamp, level, message.c_str());
}

} // namespace

void log_info(const std::string& m) {
    if (!quiet) write("info", m);
}
void log_warn(const std::string& m) {
    write("warn", m);
}
void log_error(const std::string& m) {
    write("error", m);
}
void set_quiet(bool q) {
    quiet = q;
}

} // namespace dunning::telemetry
