#include "plugin/secrets.hpp"

#include "core/base64.hpp"
#include "plugin/module.hpp"
#include "store/database.hpp"
#include "store/secrets.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>

namespace dunning::plugin {

namespace {

std::optional<store::SecretKey> key_of(const std::string& raw) {
    return store::secret_key_from_bytes(raw);
}

// The new key's base64 text, from the environment or a file (surrounding whitespace dropped).
Result<std::string, std::string> new_key_text(const RotateKeyOptions& o) {
    if (o.new_key_env.empty() == o.new_key_file.empty())
        return err(std::string("give the new key with exactly one of --new-key-env NAME and "
                               "--new-key-file PATH"));
    std::string text;
    if (!o.new_key_env.empty()) {
        const char* value = std::getenv(o.new_key_env.c_str());
        if (!value) return err("environment variable " + o.new_key_env + " is not set");
        text = value;
    } else {
        std::ifstream in(o.new_key_file, std::ios::binary);
        if (!in) return err("cannot read " + o.new_key_file);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

Result<store::SecretKey, std::string> read_new_key(const RotateKeyOptions& o) {
    auto text = new_key_text(o);
    if (!text) return err(text.error());
    const auto where = o.new_key_env.empty() ? o.new_key_file : "$" + o.new_key_env;
    const auto raw = base64_decode(text.value());
    const auto key = raw ? key_of(*raw) : std::nullopt;
    if (!key)
        return err("the new key in " + where +
                   " must be 32 bytes in standard base64, e.g. from `openssl rand -base64 32`");
    return *key;
}

void print_next_steps(const config::Config& config, const std::string& new_kid, std::ostream& out) {
    const bool current = !config.storage.secrets_key.empty() &&
                         store::key_id(*key_of(config.storage.secrets_key)) == new_kid;
    if (current) {
        out << "Next: [storage] secrets_key already is this key. Once no value is left under an "
               "old key (this run re-sealed them all), remove the old keys from "
               "previous_secrets_keys and restart the service.\n";
        return;
    }
    out << "Next:\n"
        << "  1. Set [storage] secrets_key to the new key (key id " << new_kid
        << ") and move the old one into previous_secrets_keys; restart the service.\n"
        << "  2. Run this command again: it re-seals what a running service stored under the old "
           "key meanwhile, and skips the rest.\n"
        << "  3. Then remove the old key from previous_secrets_keys and restart.\n";
}

} // namespace

store::SecretBox secret_box(const config::StorageConfig& storage) {
    std::vector<store::SecretKey> previous;
    for (const auto& raw : storage.previous_secrets_keys)
        if (auto key = key_of(raw)) previous.push_back(*key);
    return store::SecretBox(key_of(storage.secrets_key), std::move(previous));
}

int rotate_key(const config::Config& config, const RotateKeyOptions& options, std::ostream& out,
               std::ostream& err) {
    auto key = read_new_key(options);
    if (!key) {
        err << "dunning: " << key.error() << '\n';
        return 2;
    }
    const auto path = store_name(config.storage);
    if (config.storage.postgres_url.empty() && !std::filesystem::exists(path)) {
        err << "dunning: no database at " << path << ": nothing to re-seal\n";
        return 1;
    }
    const store::SecretBox to(key.value());
    const auto kid = to.sealing_key_id();
    out << "Re-sealing the secrets in " << path << " under key " << kid << '\n';
    auto db = store::open_store(store_options(config.storage));
    std::size_t shown = 0;
    const auto report = store::rotate_secrets(
        *db, secret_box(config.storage), to, SystemClock().now(),
        [&](std::size_t done, std::size_t todo) {
            if (done == todo || done >= shown + std::max<std::size_t>(1, todo / 20)) {
                out << "  " << done << "/" << todo << '\n' << std::flush;
                shown = done;
            }
        });
    if (!report.failed.empty()) {
        for (const auto& failure : report.failed)
            err << "dunning: " << failure << '\n';
        err << "dunning: " << report.failed.size()
            << " secret(s) did not open with [storage] secrets_key or previous_secrets_keys; "
               "nothing was changed\n";
        return 1;
    }
    out << report.total << " secret(s): " << report.resealed << " re-sealed under key " << kid
        << ", " << report.skipped << " already under it\n";
    print_next_steps(config, kid, out);
    return 0;
}

} // namespace dunning::plugin
