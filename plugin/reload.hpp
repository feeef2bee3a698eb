#pragma once
// SIGHUP: the configuration file read again while the service runs. What a creator's snapshot
// carries (its own keys, products, templates, and the [dunning], [access], [escalation] and
// [retry] policy defaults it inherits) takes effect at once; the settings the running parts
// were built from wait for a restart.
#include "config/config.hpp"

#include <string>
#include <vector>

namespace dunning::plugin {

// The keys (as "section.key") whose new value takes effect only after a restart.
std::vector<std::string> settings_needing_restart(const config::Config& running,
                                                  const config::Config& next);

} // namespace dunning::plugin
