// A creator made through the admin API: its table read by the [[creators]] rules.
#include "config/reader.hpp"

#include <filesystem>

namespace dunning::config {

namespace {

// Keys the admin API does not take: secrets never reach the store in clear text, and paths on
// the server's disk are the operator's to set in the file.
void refuse(toml::table& table, detail::Problems& problems) {
    for (const char* secret : {"api_token", "webhook_secrets", "stripe_secret_key"})
        if (table.erase(secret))
            problems.add(1, secret, "is a secret and cannot be set through the admin API");
    auto* dunning = table.get_as<toml::table>("dunning");
    if (!dunning) return;
    for (const char* path : {"template_dir", "base_rates_file"})
        if (dunning->erase(path))
            problems.add(1, std::string("dunning.") + path,
                         "is a path on the server and can only be set in the configuration file");
}

} // namespace

Result<CreatorConfig, std::vector<std::string>> parse_api_creator(std::string_view toml_text,
                                                                  const Config& base) {
    toml::table table;
    try {
        table = toml::parse(toml_text, std::string_view{"request"});
    } catch (const toml::parse_error& e) {
        return err(std::vector<std::string>{"body: " + std::string(e.description())});
    }
    detail::Problems problems("");
    refuse(table, problems);
    // Values are taken as written: "${NAME}" in a request names no variable of the server.
    const EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
    const auto base_dir = std::filesystem::path(base.path).parent_path().string();
    detail::Reader reader(problems, no_env, table, "");
    auto creator = detail::read_creator(reader, problems, base_dir, base, true);
    if (!problems.empty()) return err(problems.sorted());
    return creator;
}

} // namespace dunning::config
