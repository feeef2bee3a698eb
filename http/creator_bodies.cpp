#include "http/creator_bodies.hpp"

#include <cstdint>
#include <cstdio>
#include <limits>

namespace dunning::http {

namespace {

using nlohmann::json;

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            out += "$$"; // the config reader turns "$${" back into "${"
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string key_of(const std::string& key) {
    const bool bare = !key.empty() && key.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789_-") == std::string::npos;
    return bare ? key : quoted(key);
}

void write(const json& value, const std::string& path, std::string& out,
           std::vector<std::string>& problems) {
    switch (value.type()) {
    case json::value_t::null:
        problems.push_back(path + ": must not be null (leave the key out)");
        out += "\"\"";
        return;
    case json::value_t::boolean:
        out += value.get<bool>() ? "true" : "false";
        return;
    case json::value_t::number_unsigned:
        if (value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            problems.push_back(path + ": is too large a number");
            out += "0";
            return;
        }
        out += value.dump();
        return;
    case json::value_t::number_integer:
    case json::value_t::number_float: // dump() writes 2.0 for a whole double: a TOML float
        out += value.dump();
        return;
    case json::value_t::string:
        out += quoted(value.get<std::string>());
        return;
    case json::value_t::array: {
        out += "[";
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i > 0) out += ", ";
            write(value[i], path + "[" + std::to_string(i) + "]", out, problems);
        }
        out += "]";
        return;
    }
    case json::value_t::object: {
        out += "{";
        bool first = true;
        for (const auto& [key, item] : value.items()) {
            if (!first) out += ", ";
            first = false;
            out += key_of(key) + " = ";
            write(item, path + "." + key, out, problems);
        }
        out += "}";
        return;
    }
    default:
        problems.push_back(path + ": is not a JSON value the settings take");
        out += "\"\"";
    }
}

} // namespace

Result<std::string, std::vector<std::string>> toml_of(const json& object) {
    if (!object.is_object()) return err(std::vector<std::string>{"body: must be a JSON object"});
    std::string out;
    std::vector<std::string> problems;
    for (const auto& [key, value] : object.items()) {
        out += key_of(key) + " = ";
        write(value, key, out, problems);
        out += "\n";
    }
    if (!problems.empty()) return err(std::move(problems));
    return out;
}

Result<config::CreatorConfig, std::vector<std::string>>
creator_from_settings(const json& settings, const config::Config& base) {
    auto text = toml_of(settings);
    if (!text.ok()) return err(text.error());
    auto creator = config::parse_api_creator(text.value(), base);
    if (!creator.ok()) return err(creator.error());
    creator.value().settings_json = settings.dump();
    return std::move(creator).value();
}

} // namespace dunning::http
