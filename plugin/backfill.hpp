#pragma once
// `dunning backfill`: a creator's events that Stripe kept (30 days) go into the inbox and are
// processed exactly as their webhooks would have been; events already stored are skipped.
#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace dunning::plugin {

struct BackfillCliOptions {
    std::string creator;
    std::string since; // YYYY-MM-DD (UTC midnight); empty: from the newest stored event
    bool progress = true;
};

// Returns the exit code: 0, 1 on a Stripe error (its message on `err`), 2 on a wrong argument.
int backfill_command(const config::Config& config, const BackfillCliOptions& options,
                     std::ostream& out, std::ostream& err);

} // namespace dunning::plugin
