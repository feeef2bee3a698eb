#include "config/reader.hpp"
#include "core/base64.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace dunning::config::detail {

void Problems::add(std::uint32_t line, std::string_view key, std::string_view problem) {
    const auto where = file_.empty() ? std::string() : file_ + ":" + std::to_string(line) + ": ";
    const auto what = key.empty() ? std::string() : std::string(key) + ": ";
    list_.push_back({line, where + what + std::string(problem)});
    keys_.emplace(key);
}

std::vector<std::string> Problems::sorted() const {
    auto entries = list_;
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.line < b.line; });
    std::vector<std::string> out;
    out.reserve(entries.size());
    for (auto& entry : entries)
        out.push_back(std::move(entry.text));
    return out;
}

namespace {

std::string quoted_list(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
        out += "\"" + items[i] + "\"";
    }
    return out;
}

bool is_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

// Levenshtein distance with adjacent transpositions ("lsiten" is one typo away from "listen").
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

// "creators[0].products" → "creators.products", as the TOML header spells it.
std::string header_name(std::string key) {
    for (auto open = key.find('['); open != std::string::npos; open = key.find('['))
        key.erase(open, key.find(']', open) - open + 1);
    return key;
}

bool has_control_character(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// The address of "address" or "Name <address>", when the text is one; CR, LF and other control
// characters are refused anywhere, since the value ends up in a mail header.
std::optional<std::string_view> address_of(std::string_view text) {
    if (has_control_character(text)) return std::nullopt;
    text = trimmed(text);
    if (!text.empty() && text.back() == '>') {
        const auto open = text.rfind('<');
        if (open == std::string_view::npos) return std::nullopt;
        text = text.substr(open + 1, text.size() - open - 2);
    }
    const auto at = text.rfind('@');
    if (at == std::string_view::npos || at == 0) return std::nullopt;
    const auto local = text.substr(0, at);
    if (local.find_first_of(" <>()[]\\,;:\"@") != std::string_view::npos) return std::nullopt;
    if (!is_domain(text.substr(at + 1))) return std::nullopt;
    return text;
}

} // namespace

bool is_domain(std::string_view text) {
    if (text.empty() || text.size() > 253 || text.find('.') == std::string_view::npos) return false;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('.', start);
        if (end == std::string_view::npos) end = text.size();
        const auto label = text.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
        start = end + 1;
    }
    return true;
}

std::string mailbox_domain(std::string_view mailbox) {
    const auto address = address_of(mailbox);
    if (!address) return {};
    return std::string(address->substr(address->rfind('@') + 1));
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
    if (base_dir.empty() || path.empty() || path == ":memory:" ||
        std::filesystem::path(path).is_absolute())
        return path;
    return (std::filesystem::path(base_dir) / path).string();
}

std::optional<std::string> path_problem(const std::string& path, bool want_directory) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) return path + " does not exist";
    if (want_directory && !std::filesystem::is_directory(status))
        return path + " is not a directory";
    if (!want_directory && !std::filesystem::is_regular_file(status))
        return path + " is not a file";
    return std::nullopt;
}

Check one_of(std::vector<std::string> allowed) {
    return [allowed = std::move(allowed)](const std::string& value) -> std::optional<std::string> {
        if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return std::nullopt;
        return "must be " + quoted_list(allowed);
    };
}

Check starts_with(std::vector<std::string> prefixes, bool allow_empty) {
    return [prefixes = std::move(prefixes),
            allow_empty](const std::string& value) -> std::optional<std::string> {
        if (allow_empty && value.empty()) return std::nullopt;
        for (const auto& prefix : prefixes)
            if (value.starts_with(prefix)) return std::nullopt;
        return std::string(allow_empty ? "must be empty or start with " : "must start with ") +
               quoted_list(prefixes);
    };
}

Check not_empty() {
    return [](const std::string& value) -> std::optional<std::string> {
        if (value.empty()) return "must not be empty";
        return std::nullopt;
    };
}

Check secrets_key() {
    return [](const std::string& value) -> std::optional<std::string> {
        const auto key = base64_decode(value);
        if (!key)
            return "must be standard base64 (A-Z a-z 0-9 + / and = padding) of 32 bytes, e.g. "
                   "from `openssl rand -base64 32`";
        if (key->size() != 32)
            return "must be 32 bytes (44 base64 characters); this one is " +
                   std::to_string(key->size()) + " bytes";
        return std::nullopt;
    };
}

Check mailbox(bool allow_empty) {
    return [allow_empty](const std::string& value) -> std::optional<std::string> {
        if ((allow_empty && value.empty()) || address_of(value)) return std::nullopt;
        return std::string(allow_empty ? "must be empty, " : "must be ") +
               R"(an email address or "Name <address>", e.g. "Acme Courses <billing@acme.example>")";
    };
}

Check http_url(bool allow_empty) {
    return [allow_empty](const std::string& value) -> std::optional<std::string> {
        if (allow_empty && value.empty()) return std::nullopt;
        std::string_view rest = value;
        bool ok = false;
        for (std::string_view scheme : {"https://", "http://"}) {
            if (rest.starts_with(scheme)) {
                rest.remove_prefix(scheme.size());
                ok = !rest.empty() && rest.front() != '/' && rest.front() != '?' &&
                     rest.front() != '#' && rest.find(' ') == std::string_view::npos &&
                     !has_control_character(rest);
                break;
            }
        }
        if (ok) return std::nullopt;
        return std::string(allow_empty ? "must be empty or " : "must be ") +
               R"(an "https://" or "http://" URL, e.g. "https://courses.example.com/billing")";
    };
}

std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::vector<std::string>& problems) {
    std::string out;
    bool ok = true;
    for (std::size_t i = 0; i < text.size();) {
        if (text.substr(i, 3) == "$${") {
            out += "${";
            i += 3;
            continue;
        }
        if (text.substr(i, 2) != "${") {
            out += text[i++];
            continue;
        }
        const auto close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            problems.push_back(R"(unterminated "${" (write "$${" for a literal "${"))");
            return std::nullopt;
        }
        const auto name = std::string(text.substr(i + 2, close - i - 2));
        i = close + 1;
        if (!is_env_name(name)) {
            // The text between the braces may be part of a secret, so it is not echoed.
            problems.push_back("invalid environment variable reference: a name is letters, "
                               R"(digits and "_" (write "$${" for a literal "${"))");
            ok = false;
        } else if (auto value = env(name)) {
            out += *value;
        } else {
            problems.push_back("environment variable " + name + " is not set");
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::string> suggest(std::string_view key,
                                   std::initializer_list<std::string_view> candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    for (auto candidate : candidates) {
        const auto distance = edit_distance(key, candidate);
        if (distance < best_distance && distance < key.size()) {
            best = std::string(candidate);
            best_distance = distance;
        }
    }
    return best;
}

std::uint32_t line_of(const toml::node& node) {
    return std::max<std::uint32_t>(1, node.source().begin.line);
}

std::string Reader::key(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

void Reader::allow_only(std::initializer_list<std::string_view> names) {
    for (auto&& [name, node] : table_) {
        if (std::find(names.begin(), names.end(), name.str()) != names.end()) continue;
        std::string text =
            node.is_table() || node.is_array_of_tables() ? "unknown table" : "unknown key";
        if (auto hint = suggest(name.str(), names)) text += ", did you mean \"" + *hint + "\"?";
        problems_.add(std::max<std::uint32_t>(1, name.source().begin.line), key(name.str()), text);
    }
}

void Reader::problem(std::string_view name, std::string_view text) {
    const toml::node* node = table_.get(name);
    problems_.add(node ? line_of(*node) : line(), key(name), text);
}

void Reader::problem_here(std::string_view text) {
    problems_.add(line(), path_, text);
}

void Reader::problem_at(const toml::node& node, std::string_view name, std::string_view text) {
    problems_.add(line_of(node), key(name), text);
}

std::optional<std::string> Reader::expand(const toml::node& node, std::string_view name) {
    std::vector<std::string> found;
    auto value = expand_env(node.as_string()->get(), env_, found);
    for (const auto& text : found)
        problems_.add(line_of(node), key(name), text);
    return value;
}

bool Reader::string(std::string_view name, std::string& out, const Check& check) {
    const toml::node* node = table_.get(name);
    if (!node) return false;
    if (!node->is_string()) {
        problem(name, "must be a string");
        return true;
    }
    auto value = expand(*node, name);
    if (!value) return true;
    if (check) {
        if (auto text = check(*value)) {
            problem(name, *text);
            return true;
        }
    }
    out = std::move(*value);
    return true;
}

void Reader::required_string(std::string_view name, std::string& out, const Check& check) {
    if (!string(name, out, check)) problem(name, "is required");
}

bool Reader::strings(std::string_view name, std::vector<std::string>& out, const Check& check) {
    const toml::node* node = table_.get(name);
    if (!node) return false;
    const toml::array* array = node->as_array();
    if (!array) {
        problem(name, "must be an array of strings");
        return true;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const toml::node& element : *array) {
        std::optional<std::string> value;
        if (!element.is_string()) {
            problems_.add(line_of(element), key(name), "must be an array of strings");
        } else if ((value = expand(element, name)) && check) {
            if (auto text = check(*value)) {
                problems_.add(line_of(element), key(name), *text);
                value.reset();
            }
        }
        if (value) values.push_back(std::move(*value));
        ok = ok && value.has_value();
    }
    if (ok) out = std::move(values);
    return true;
}

bool Reader::integer(std::string_view name, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const toml::node* node = table_.get(name);
    if (!node) return false;
    const auto* value = node->as_integer();
    if (!value) {
        problem(name, "must be an integer");
    } else if (value->get() < min || value->get() > max) {
        problem(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    } else {
        out = value->get();
    }
    return true;
}

bool Reader::boolean(std::string_view name, bool& out) {
    const toml::node* node = table_.get(name);
    if (!node) return false;
    if (const auto* value = node->as_boolean())
        out = value->get();
    else
        problem(name, "must be true or false");
    return true;
}

std::optional<Reader> Reader::table(std::string_view name) {
    const toml::node* node = table_.get(name);
    if (!node) return std::nullopt;
    if (!node->is_table()) {
        problem(name, "must be a table ([" + header_name(key(name)) + "])");
        return std::nullopt;
    }
    return Reader(problems_, env_, *node->as_table(), key(name));
}

std::optional<std::vector<Reader>> Reader::tables(std::string_view name,
                                                  std::string_view type_problem) {
    const toml::node* node = table_.get(name);
    if (!node) return std::nullopt;
    const toml::array* array = node->as_array();
    if (!array) {
        if (!type_problem.empty())
            problem(name, type_problem);
        else
            problem(name, "must be an array of tables ([[" + header_name(key(name)) + "]])");
        return std::nullopt;
    }
    std::vector<Reader> readers;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto item = key(name) + "[" + std::to_string(i) + "]";
        if (const toml::table* table = (*array)[i].as_table())
            readers.emplace_back(problems_, env_, *table, item);
        else
            problems_.add(line_of((*array)[i]), item, "must be a table");
    }
    return readers;
}

} // namespace dunning::config::detail
