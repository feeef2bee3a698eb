#pragma once
// `dunning replay`: events exported from Stripe (one JSON per line, or `stripe events list`
// pages) go into the inbox and through the same processing as webhooks.
#include "config/config.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace dunning::plugin {

struct ReplayOptions {
    std::string events_path;
    std::string creator; // for events without an account; empty: route by account only
    bool progress = true;
};

struct ReplayReport {
    std::int64_t lines = 0, events = 0, inserted = 0, duplicates = 0, rejected = 0;
    std::int64_t done = 0, ignored = 0, poison = 0;
};

// Throws std::runtime_error for a file that cannot be read; bad lines are counted and
// described on `err`, they do not stop the run.
ReplayReport replay(const config::Config& config, const ReplayOptions& options, std::ostream& err);

} // namespace dunning::plugin
