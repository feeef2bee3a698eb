#pragma once
// One line per message on stderr: time, level, text. Callers never pass secrets.
#include <string>

namespace dunning::telemetry {

void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_error(const std::string& message);
void set_quiet(bool quiet); // info lines off (tests, replay progress)

} // namespace dunning::telemetry
