#include "core/time.hpp"

#include <ctime>

namespace dunning {

std::string iso8601(Timestamp t) {
    const auto secs = static_cast<std::time_t>(to_unix(t));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace dunning
