#pragma once
// The base-rate table (Basiszinssatz, § 247 BGB) as data: config/base_rates.toml → the sorted
// entries core's default_interest expects. core/ never reads files; this is where they are read.
#include "core/interest.hpp"
#include "core/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace dunning::config {

// [[base_rate]] tables with `valid_from` (a TOML date on 1 January or 1 July) and `percent`
// (at most two decimals), dates strictly increasing. Every problem is reported, one per line,
// as "file:line: base_rate[i].key: problem"; `name` is the file name used in those messages.
Result<std::vector<BaseRate>, std::string> parse_base_rates(std::string_view toml_text,
                                                            const std::string& name);

// Reads and parses the file at `path` ("path: cannot read the file: …" when it cannot).
Result<std::vector<BaseRate>, std::string> load_base_rates(const std::string& path);

} // namespace dunning::config
