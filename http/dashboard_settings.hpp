#pragma once
// The dashboard's settings page (/dashboard/settings): the form's fields, named by the keys of a
// [[creators]] table ("dunning.stages[0].after_days", "retry.mode", "access.min_amount", …), and
// the change a sent form asks for.
#include "config/config.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace dunning::http {

using SettingsValues = std::map<std::string, std::string>; // field name → text shown

// The creator's ladder, retry and access settings in force, written for the locale.
SettingsValues settings_values(const config::CreatorConfig& c, const std::string& locale);
// The fields a sent form holds.
SettingsValues settings_sent(const httplib::Request& req);
// How many ladder rows the values hold.
std::size_t stage_rows(const SettingsValues& v);
// The body of PATCH /v1/creators/{c} for what `sent` changes of `current`: only changed keys
// (the ladder as a whole, as a creator's `stages` replaces the list); numbers as numbers, text
// that is no number as text, for the configuration's reader to refuse with its message.
nlohmann::json settings_patch(const SettingsValues& sent, const SettingsValues& current);

// The configuration's problems with "dunning.stages[n]" renamed to the form's row of stage n
// (rows left empty are no stages, so the two may differ).
std::vector<std::string> problems_by_row(std::vector<std::string> problems,
                                         const SettingsValues& sent);

const std::vector<std::string>& settings_messages(); // the ladder's emails
std::size_t settings_max_stages();

} // namespace dunning::http
