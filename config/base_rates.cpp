#include "config/base_rates.hpp"

#include "config/reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace dunning::config {
namespace {

using detail::Problems;
using detail::Reader;

std::string iso(Date d) {
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return text;
}

std::optional<Date> read_valid_from(Reader& entry) {
    const toml::node* node = entry.get("valid_from");
    if (!node) {
        entry.problem_here("missing key \"valid_from\" (a date such as 2025-07-01)");
        return std::nullopt;
    }
    const auto* value = node->as_date();
    if (!value) {
        entry.problem("valid_from", "must be a TOML date such as 2025-07-01 (no quotes)");
        return std::nullopt;
    }
    const toml::date& d = value->get();
    const Date date{std::chrono::year{d.year}, std::chrono::month{d.month},
                    std::chrono::day{d.day}};
    if (d.day != 1 || (d.month != 1 && d.month != 7)) {
        entry.problem("valid_from", "the base rate changes only on 1 January and 1 July");
        return std::nullopt;
    }
    return date;
}

std::optional<double> read_percent(Reader& entry) {
    const toml::node* node = entry.get("percent");
    if (!node) {
        entry.problem_here("missing key \"percent\" (a number such as 1.27 or -0.88)");
        return std::nullopt;
    }
    const std::optional<double> value =
        node->is_number() ? node->value<double>() : std::optional<double>{};
    if (!value || !std::isfinite(*value)) {
        entry.problem("percent", "must be a number such as 1.27 or -0.88");
        return std::nullopt;
    }
    if (*value < -20.0 || *value > 20.0) {
        entry.problem("percent", "must be between -20 and 20 (percent, not a fraction)");
        return std::nullopt;
    }
    if (std::abs(*value * 100.0 - std::round(*value * 100.0)) > 1e-6) {
        entry.problem("percent", "has more than two decimals; the Bundesbank publishes two");
        return std::nullopt;
    }
    return value;
}

std::vector<BaseRate> read_entries(Reader& root, Problems& problems) {
    std::vector<BaseRate> rates;
    root.allow_only({"base_rate"});
    auto entries = root.tables("base_rate");
    if (!entries) {
        if (!root.contains("base_rate"))
            problems.add(1, "base_rate", "missing: add [[base_rate]] tables");
        return rates;
    }
    if (entries->empty()) problems.add(1, "base_rate", "must contain at least one entry");
    for (auto& entry : *entries) {
        entry.allow_only({"valid_from", "percent"});
        const auto valid_from = read_valid_from(entry);
        const auto percent = read_percent(entry);
        if (!valid_from || !percent) continue;
        if (!rates.empty() && *valid_from <= rates.back().valid_from) {
            entry.problem("valid_from", "must be after the previous entry's " +
                                            iso(rates.back().valid_from) +
                                            " (entries are sorted by date, each date once)");
            continue;
        }
        rates.push_back({*valid_from, *percent});
    }
    return rates;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines)
        out += (out.empty() ? "" : "\n") + line;
    return out;
}

} // namespace

Result<std::vector<BaseRate>, std::string> parse_base_rates(std::string_view toml_text,
                                                            const std::string& name) {
    toml::table table;
    try {
        table = toml::parse(toml_text, std::string_view{name});
    } catch (const toml::parse_error& e) {
        const auto line = std::max<std::uint32_t>(1, e.source().begin.line);
        return err(name + ":" + std::to_string(line) + ": syntax: " + std::string(e.description()));
    }
    Problems problems(name);
    const EnvLookup no_env = [](const std::string&) { return std::optional<std::string>{}; };
    Reader root(problems, no_env, table, "");
    std::vector<BaseRate> rates = read_entries(root, problems);
    if (!problems.empty()) return err(joined(problems.sorted()));
    return rates;
}

Result<std::vector<BaseRate>, std::string> load_base_rates(const std::string& path) {
    auto text = detail::read_text_file(path);
    if (!text.ok()) return err(text.error());
    return parse_base_rates(text.value(), path);
}

} // namespace dunning::config
