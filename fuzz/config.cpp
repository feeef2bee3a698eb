// The configuration loader on any text: never a crash or an escaping exception; a refusal is
// one "file:line: key: problem" line per problem and never shows a value read from the
// environment (secrets are written as ${ENV}); an accepted file holds what the service relies on.
#include "config/config.hpp"
#include "check.hpp"

#include <set>
#include <string>

using namespace dunning;
using dunning::fuzz::check;

namespace {

constexpr std::string_view secret = "FUZZ-ENV-SECRET";

bool is_problem_line(const std::string& line) {
    const std::string prefix = "fuzz.toml:";
    if (!line.starts_with(prefix)) return false;
    std::size_t i = prefix.size();
    const std::size_t digits = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9')
        ++i;
    return i > digits && i < line.size() && line[i] == ':';
}

void check_accepted(const config::Config& c) {
    // With the admin API on, the creators may all be made through it.
    check(!c.creators.empty() || !c.platform.admin_token.empty(),
          "an accepted file has a creator, or the admin API to make them");
    check(c.server.port >= 0 && c.server.port <= 65535, "the port is a port");
    check(c.server.threads > 0, "the server has threads");
    std::set<std::string> ids, tokens;
    for (const auto& creator : c.creators) {
        check(ids.insert(creator.id).second, "creator ids are unique", creator.id);
        check(tokens.insert(creator.api_token).second, "api tokens are unique");
        check(creator.api_token.size() >= 16, "an api token has 16 characters or more");
        check(c.find_creator(creator.id) == &creator, "a creator is found by its id", creator.id);
        check(!creator.webhook_secrets.empty() ||
                  (!creator.stripe_account.empty() && !c.stripe.connect_webhook_secrets.empty()),
              "a creator can receive its webhooks", creator.id);
        for (const auto& s : creator.webhook_secrets)
            check(s.starts_with("whsec_"), "webhook secrets are whsec_", creator.id);
        check(creator.locale == "de" || creator.locale == "en", "the locale is de or en");
        check(!creator.dunning.stages.empty() && creator.dunning.stages.size() <= 10,
              "1 to 10 stages", creator.id);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name.empty() || name[0] == 'X') return std::nullopt; // some names are unset
        return "whsec_" + std::string(secret) + "-0123456789";
    };
    const auto loaded = config::parse_config(text, "fuzz.toml", DUNNING_CONFIG_DIR, env);
    if (loaded) {
        check_accepted(loaded.value());
        return 0;
    }
    check(!loaded.error().empty(), "a refusal says why");
    const bool input_has_secret = text.find(secret) != std::string_view::npos;
    for (const auto& line : loaded.error()) {
        check(is_problem_line(line), "every problem is file:line: …", line);
        check(input_has_secret || line.find(secret) == std::string::npos,
              "no problem shows a value from the environment", line);
    }
    return 0;
}
