#pragma once
// "${NAME}" references outside the configuration file (a command's arguments), expanded by the
// file's rules.
#include "config/config.hpp"
#include "core/result.hpp"

#include <string>
#include <string_view>

namespace dunning::config {

// `text` with each "${NAME}" replaced by the variable's value and "$${" by "${", as the file's
// values are read ([storage] postgres_url among them). The error names every variable that is not
// set; it never holds the text, which may carry a password.
Result<std::string, std::string> expand_environment(std::string_view text,
                                                    const EnvLookup& env = process_env);

} // namespace dunning::config
