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
    const auto line = one_line(message);
    std::lock_guard lock(out_mutex);
    std::fprintf(stderr, "%s %s %.*s\n", stamp, level, static_cast<int>(line.size()), line.data());
}

} // namespace

std::string one_line(std::string_view message) {
    const auto control = [](unsigned char c) { return c < 0x20 || c == 0x7f; };
    std::string out;
    out.reserve(message.size());
    for (const char ch : message) {
        const auto c = static_cast<unsigned char>(ch);
        if (!control(c)) {
            out += ch;
            continue;
        }
        switch (c) {
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default: {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
        }
    }
    return out;
}

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
