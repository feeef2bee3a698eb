#pragma once
// A creator's case as the API shows it and a creator's decision on it: the API's routes and the
// dashboard's pages both go through these, so a page shows what the API answers and an action
// taken on a page is the API's.
#include "core/case_engine.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dunning::http {

// GET /v1/creators/{c}/cases/{id}: the case with its events, actions and the creator's decisions
// on it (creator_actions: action, actor, note, at); nothing when the creator has no such case.
// Read as one moment of the store; the second reads through the caller's connection (a page
// that shows more of that moment).
std::optional<nlohmann::json> case_detail(Services& m, const std::string& creator, std::int64_t id);
std::optional<nlohmann::json> case_detail(store::Connection& db, const std::string& creator,
                                          std::int64_t id);

// Runs the command on the case through the engine and records who asked (`by`) and why
// (command.note) in one transaction, and wakes the background work; the case as it is then (the
// API's view of it), or nothing when the creator has no such case. The engine decides what a
// command means in the case's state.
std::optional<nlohmann::json> run_creator_command(Services& m, const std::string& creator,
                                                  std::int64_t id, const CreatorCommand& command,
                                                  const std::string& by);
// The name of a command as in the API's paths: "pause", "mark-paid", …
std::string command_name(CreatorCommand::Kind kind);

// "pause", "mark-paid", … as in the API's paths.
std::optional<CreatorCommand::Kind> command_named(const std::string& name);

} // namespace dunning::http
