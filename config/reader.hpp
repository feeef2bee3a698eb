#pragma once
// Internal to config/: reads one toml++ table into plain values and collects every problem as
// "file:line: key: problem". Values are never echoed into messages, so secrets stay out of logs.
#include "config/config.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

namespace dunning::config::detail {

class Problems {
  public:
    // An empty `file`: problems read "key: problem", for a table that is no file's.
    explicit Problems(std::string file) : file_(std::move(file)) {}

    void add(std::uint32_t line, std::string_view key, std::string_view problem);
    // Any problem reported under `key` (exactly that dotted path).
    bool has(std::string_view key) const { return keys_.find(key) != keys_.end(); }
    bool empty() const { return list_.empty(); }
    // Ordered by line, then in the order they were found.
    std::vector<std::string> sorted() const;

  private:
    struct Entry {
        std::uint32_t line;
        std::string text;
    };
    std::string file_;
    std::vector<Entry> list_;
    std::set<std::string, std::less<>> keys_;
};

// A check returns the problem with the value, or nothing when the value is fine.
using Check = std::function<std::optional<std::string>(const std::string&)>;

Check one_of(std::vector<std::string> allowed);
// `prefixes` joined as `"a" or "b"`; with `allow_empty`, "" passes too.
Check starts_with(std::vector<std::string> prefixes, bool allow_empty = false);
Check not_empty();
// An email address, or "Name <address>"; with `allow_empty`, "" passes too.
Check mailbox(bool allow_empty = false);
// An "https://" or "http://" URL with a host; with `allow_empty`, "" passes too.
Check http_url(bool allow_empty = false);

// A 32-byte key in standard base64 (44 characters, e.g. `openssl rand -base64 32`).
Check secrets_key();

// Host names with at least one dot: "mail.example.com", not "localhost".
bool is_domain(std::string_view text);
// The domain of a mailbox's address ("Acme <billing@acme.example>" → "acme.example"), or ""
// when it has none.
std::string mailbox_domain(std::string_view mailbox);
// Relative to the config file's directory, so the service finds its files whatever directory it
// starts in; absolute paths, ":memory:" and an empty base_dir leave `path` as it is.
std::string resolve_path(const std::string& base_dir, const std::string& path);
// Why `path` is not a usable directory (want_directory) or regular file; nothing when it is.
std::optional<std::string> path_problem(const std::string& path, bool want_directory);

// The whole file, or "PATH: cannot read the file: REASON" (config.cpp).
Result<std::string, std::string> read_text_file(const std::string& path);

// "${NAME}" → env(NAME), "$${" → "${". Problems (unset or malformed names) go to `problems`.
std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::vector<std::string>& problems);

// The closest of `candidates` within edit distance 2, if any.
std::optional<std::string> suggest(std::string_view key,
                                   std::initializer_list<std::string_view> candidates);

std::uint32_t line_of(const toml::node& node);

class Reader {
  public:
    Reader(Problems& problems, const EnvLookup& env, const toml::table& table, std::string path)
        : problems_(problems), env_(env), table_(table), path_(std::move(path)) {}

    // "server" + "listen" → "server.listen"; the root reader has an empty path.
    std::string key(std::string_view name) const;
    std::uint32_t line() const { return line_of(table_); }
    const std::string& path() const { return path_; }
    bool contains(std::string_view name) const { return table_.contains(name); }
    // The raw value under `name`, or nullptr when absent; for readers of structured values.
    const toml::node* get(std::string_view name) const { return table_.get(name); }
    const toml::table& raw() const { return table_; }

    void allow_only(std::initializer_list<std::string_view> names);
    // Reports at the key's line when it is present, otherwise at the table's line.
    void problem(std::string_view name, std::string_view text);
    void problem_here(std::string_view text);
    // Reports under `name` at `node`'s line, e.g. one element of the array `name`.
    void problem_at(const toml::node& node, std::string_view name, std::string_view text);

    // Each reader leaves `out` as it was unless the key is present and valid.
    // Returns false when the key is absent.
    bool string(std::string_view name, std::string& out, const Check& check = {});
    void required_string(std::string_view name, std::string& out, const Check& check = {});
    bool strings(std::string_view name, std::vector<std::string>& out, const Check& check = {});
    bool integer(std::string_view name, std::int64_t& out, std::int64_t min, std::int64_t max);
    bool boolean(std::string_view name, bool& out);

    // A sub-table; absent or the wrong type (reported) → nothing.
    std::optional<Reader> table(std::string_view name);
    // An array of tables ([[name]], or an array of inline tables); absent or the wrong type
    // (reported, as `type_problem` when given) → nothing.
    std::optional<std::vector<Reader>> tables(std::string_view name,
                                              std::string_view type_problem = {});

  private:
    std::optional<std::string> expand(const toml::node& node, std::string_view name);

    Problems& problems_;
    const EnvLookup& env_;
    const toml::table& table_;
    std::string path_;
};

// The sections that more than one file reads (config.cpp, creators.cpp). read_retry (retry.cpp),
// read_dunning (dunning.cpp), read_access (access.cpp) and read_escalation (escalation.cpp)
// start from `out`, so a [creators.retry], [creators.dunning], [creators.access] or
// [creators.escalation] table overrides the global one key by key. Paths are resolved against
// `base_dir`.
void read_retry(Reader& table, RetryConfig& out);
void read_dunning(Reader& table, const Problems& problems, const std::string& base_dir,
                  DunningConfig& out);
void read_access(Reader& table, const Problems& problems, AccessConfig& out);
void read_escalation(Reader& table, EscalationConfig& out);
void read_creators(Reader& root, const Problems& problems, const std::string& base_dir,
                   Config& config);
// One creator's table; `from_api`: no api_token required (the admin API makes one).
CreatorConfig read_creator(Reader& creator, const Problems& problems, const std::string& base_dir,
                           const Config& config, bool from_api);

} // namespace dunning::config::detail
