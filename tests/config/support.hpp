#pragma once
// Shared by the configuration tests: environments, the sender every creator needs, a creator,
// parsing inline TOML, and the example file.
#include "config/config.hpp"
#include "tests/support/files.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace dunning::config::testing {

using Problems = std::vector<std::string>;

inline EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

inline const EnvLookup no_env = env_of({});

inline std::string joined(const Problems& problems) {
    std::string out;
    for (const auto& problem : problems)
        out += problem + "\n";
    return out;
}

// A creator needs [mail] from (the sender of its emails). Appended after the text under test
// unless it has its own [mail] table, which then brings `from` itself.
inline const std::string sender = "from = \"Acme <billing@acme.example>\"\n";
inline std::string with_sender(const std::string& text) {
    if (text.find("[mail]") != std::string::npos) return text;
    return text + "\n[mail]\n" + sender;
}

// "[[creators]]" on line 1, then id, name, webhook_secrets and api_token (lines 2-5), then
// `extra` from line 6.
inline std::string creator(const std::string& id, const std::string& extra = "") {
    return "[[creators]]\nid = \"" + id + "\"\nname = \"" + id + " Courses\"\n" +
           "webhook_secrets = [\"whsec_" + id + "\"]\napi_token = \"" + id +
           "-token-0123456789\"\n" + extra;
}

// The problems `text` (as "t.toml", with a sender) has; empty when it loads.
inline Problems problems_in(const std::string& text, const std::string& base_dir,
                            const EnvLookup& env) {
    auto result = parse_config(with_sender(text), "t.toml", base_dir, env);
    if (result.ok()) return {};
    return result.error();
}

// The configuration `text` gives; a test failure when it does not load.
inline Config parsed_in(const std::string& text, const std::string& base_dir,
                        const EnvLookup& env) {
    auto result = parse_config(with_sender(text), "t.toml", base_dir, env);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : joined(result.error()));
    return result.ok() ? result.value() : Config{};
}

inline const std::string example = std::string(DUNNING_SOURCE_DIR) + "/config/example.toml";
inline const EnvLookup demo_env =
    env_of({{"DUNNING_DEMO_WEBHOOK_SECRET", "whsec_demo"},
            {"DUNNING_DEMO_API_TOKEN", "demo-token-0123456789"},
            {"DUNNING_DEMO_ADMIN_TOKEN", "demo-admin-token-0123456789"}});

inline std::string read_example() {
    return dunning::testing::read_file(example);
}

// From the line that starts with `header` (itself uncommented) to the next line that does not
// start with "#": uncomments "# key = …" and "# [table]" lines; returns the keys uncommented.
inline std::set<std::string> uncomment_from(std::string& text, const std::string& header) {
    static const std::regex key_line(R"(^# ([a-z_]+) = .*)");
    std::istringstream in(text);
    std::string out, line;
    std::set<std::string> keys;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.rfind(header, 0) == 0) {
            inside = true;
            if (line.rfind("# ", 0) == 0) line = line.substr(2);
        } else if (inside && line.rfind("#", 0) != 0) {
            inside = false;
        } else if (std::smatch match; inside && std::regex_match(line, match, key_line)) {
            keys.insert(match[1]);
            line = line.substr(2);
        } else if (inside && line.rfind("# [", 0) == 0) {
            line = line.substr(2);
        }
        out += line + "\n";
    }
    text = out;
    return keys;
}

} // namespace dunning::config::testing
