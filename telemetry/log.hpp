#pragma once
// One line per message on stderr: time, level, text. Callers never pass secrets.
#include <string>
#include <string_view>

namespace dunning::telemetry {

void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_error(const std::string& message);
void set_quiet(bool quiet); // info lines off (tests, replay progress)

// The message as it is written: on one line whatever it holds. A control character (a line
// break in a database's error, a byte a client sent) becomes an escape: \n, \r, \t or \xNN.
std::string one_line(std::string_view message);

} // namespace dunning::telemetry
