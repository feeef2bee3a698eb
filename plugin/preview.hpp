#pragma once
// `dunning preview`: renders a message for a creator and locale with sample data, so a creator
// can read what a member would receive before anything is sent.
#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace dunning::plugin {

struct PreviewOptions {
    std::string creator;
    std::string stage;     // 1-based ladder stage ("1", "2", "3") or a message name
    std::string locale;    // empty: the creator's
    std::string html_path; // write the HTML part there, when set
};

// Prints the headers and the text part to `out`. Throws std::runtime_error for an unknown
// creator, stage or locale.
void preview(const config::Config& config, const PreviewOptions& options, std::ostream& out);

} // namespace dunning::plugin
