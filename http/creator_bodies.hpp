#pragma once
// The admin API's creator body (JSON) read by the [[creators]] rules of config/: the JSON becomes
// a TOML table and config::parse_api_creator reads it, so a creator made through the API is held
// to the same checks, with the same messages, as one in the file.
#include "config/config.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dunning::http {

// A JSON object as the text of one TOML table, a line per key; strings are taken literally
// ("${" is written "$${"). Problems for what TOML cannot hold (null, numbers beyond 64 bits).
Result<std::string, std::vector<std::string>> toml_of(const nlohmann::json& object);

// The creator those settings describe over `base`'s globals, its settings_json the settings;
// every problem found, as "key: problem".
Result<config::CreatorConfig, std::vector<std::string>>
creator_from_settings(const nlohmann::json& settings, const config::Config& base);

} // namespace dunning::http
