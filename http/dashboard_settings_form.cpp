// The settings page's form: a creator's ladder, retry mode and schedule and access rules as
// fields (the keys of a [[creators]] table as their names), and the change a sent form asks for
// as the body of PATCH /v1/creators/{c}: only the tables' keys whose value the form changed, so
// a creator keeps inheriting the file's [dunning], [retry] and [access] where it changed nothing.
#include "http/dashboard_settings.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

namespace dunning::http {

namespace {

using nlohmann::json;

const std::vector<std::string> messages = {"reminder", "formal_reminder", "final_notice"};
const std::vector<std::string> access_keys = {"reminder",        "formal_reminder",
                                              "final_notice",    "after_final_deadline",
                                              "on_lost_dispute", "on_subscription_ended"};
constexpr std::size_t max_stages = 10;

std::string decimal(double v, const std::string& locale, int places) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(places) << v;
    auto s = out.str();
    if (s.find('.') != std::string::npos) {
        while (s.ends_with('0'))
            s.pop_back();
        if (s.ends_with('.')) s.pop_back();
    }
    if (locale == "de")
        for (auto& c : s)
            if (c == '.') c = ',';
    return s;
}

std::string days_of(std::chrono::seconds s, const std::string& locale) {
    return decimal(static_cast<double>(s.count()) / 86400.0, locale, 2);
}

std::string major_of(std::int64_t minor, const std::string& locale) {
    if (minor == 0) return "";
    std::ostringstream out;
    out << minor / 100 << (locale == "de" ? ',' : '.') << std::setw(2) << std::setfill('0')
        << std::llabs(minor % 100);
    return out.str();
}

std::string trimmed(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// A number as the configuration file would hold it (a decimal comma taken as a point); text
// that is no number stays text, so the configuration's reader says what is wrong with it.
json number_of(const std::string& raw) {
    const auto s = trimmed(raw);
    if (s.empty()) return nullptr;
    auto dotted = s;
    for (auto& c : dotted)
        if (c == ',') c = '.';
    char* end = nullptr;
    const long long whole = std::strtoll(dotted.c_str(), &end, 10);
    if (end == dotted.c_str() + dotted.size()) return whole;
    const double v = std::strtod(dotted.c_str(), &end);
    if (end == dotted.c_str() + dotted.size() && std::isfinite(v)) return v;
    return s;
}

// "1, 3, 5" or "1 3 5": a comma before a space (or at the end) separates, one between digits is
// a decimal comma.
json day_list_of(const std::string& raw) {
    json out = json::array();
    std::string item;
    auto flush = [&] {
        if (const auto n = number_of(item); !n.is_null()) out.push_back(n);
        item.clear();
    };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        const bool separator = c == ' ' || c == ';' || c == '\t' ||
                               (c == ',' && (i + 1 == raw.size() || raw[i + 1] == ' '));
        if (separator)
            flush();
        else
            item += c;
    }
    flush();
    return out;
}

std::string stage_key(std::size_t i, const char* field) {
    return "dunning.stages[" + std::to_string(i) + "]." + field;
}

std::string level_of(const AccessPolicy& p, const std::string& key) {
    if (key == "after_final_deadline") return to_string(p.after_final_deadline);
    if (key == "on_lost_dispute") return to_string(p.on_lost_dispute);
    if (key == "on_subscription_ended") return to_string(p.on_subscription_ended);
    const auto it = p.during_stage.find(key);
    return to_string(it == p.during_stage.end() ? AccessLevel::granted : it->second);
}

const char* end_action_name(EndAction a) {
    switch (a) {
    case EndAction::cancel_subscription:
        return "cancel_subscription";
    case EndAction::mark_uncollectible:
        return "mark_uncollectible";
    default:
        return "leave";
    }
}

} // namespace

SettingsValues settings_values(const config::CreatorConfig& c, const std::string& locale) {
    SettingsValues v;
    const auto& stages = c.dunning.stages;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        v[stage_key(i, "message")] = stages[i].name;
        v[stage_key(i, "after_days")] = days_of(stages[i].after, locale);
        v[stage_key(i, "fee")] = major_of(stages[i].fee_minor, locale);
    }
    v["dunning.final_notice_deadline_days"] = days_of(c.dunning.final_notice_deadline, locale);
    v["retry.mode"] = c.retry.mode == config::RetryMode::plugin ? "plugin" : "stripe";
    std::string schedule;
    for (const auto& s : c.retry.policy.card_schedule)
        schedule += (schedule.empty() ? "" : " ") + days_of(s, locale);
    v["retry.card_schedule_days"] = schedule;
    v["retry.sepa_max_retries"] = std::to_string(c.retry.policy.sepa_max_retries);
    v["retry.end_action"] = end_action_name(c.retry.policy.end_action);
    v["access.min_amount"] =
        decimal(static_cast<double>(c.access.policy.min_amount_minor) / 100.0, locale, 2);
    for (const auto& key : access_keys)
        v["access." + key] = level_of(c.access.policy, key);
    v["access.on_objection"] = c.access.policy.grant_on_objection ? "grant" : "unchanged";
    return v;
}

std::size_t stage_rows(const SettingsValues& v) {
    std::size_t n = 0;
    while (n < max_stages && v.contains(stage_key(n, "message")))
        ++n;
    return n;
}

SettingsValues settings_sent(const httplib::Request& req) {
    SettingsValues v;
    for (const auto& [name, value] : req.params)
        if (name.starts_with("dunning.") || name.starts_with("retry.") ||
            name.starts_with("access."))
            v[name] = value;
    return v;
}

json settings_patch(const SettingsValues& sent, const SettingsValues& current) {
    auto changed = [&](const std::string& key) {
        const auto s = sent.find(key);
        const auto c = current.find(key);
        return s != sent.end() && (c == current.end() || trimmed(s->second) != c->second);
    };
    json patch = json::object();
    // The ladder as the rows with an email (an emptied row is no stage), compared as written.
    auto rows_of = [](const SettingsValues& v) {
        std::vector<std::array<std::string, 3>> rows;
        auto at = [&v](const std::string& key) {
            return v.contains(key) ? trimmed(v.at(key)) : std::string{};
        };
        for (std::size_t i = 0; i < stage_rows(v); ++i)
            if (!at(stage_key(i, "message")).empty())
                rows.push_back({at(stage_key(i, "message")), at(stage_key(i, "after_days")),
                                at(stage_key(i, "fee"))});
        return rows;
    };
    const auto sent_rows = rows_of(sent);
    // A form without the ladder's rows leaves the ladder alone.
    const bool ladder_changed = stage_rows(sent) > 0 && sent_rows != rows_of(current);
    json stages = json::array();
    for (const auto& [message, after, fee] : sent_rows) {
        json stage{{"message", message}};
        if (const auto n = number_of(after); !n.is_null()) stage["after_days"] = n;
        if (const auto n = number_of(fee); !n.is_null()) stage["fee"] = n;
        stages.push_back(stage);
    }
    if (ladder_changed) patch["dunning"]["stages"] = stages;
    for (const auto& key :
         {std::string("dunning.final_notice_deadline_days"), std::string("retry.sepa_max_retries"),
          std::string("access.min_amount")})
        if (changed(key)) {
            const auto dot = key.find('.');
            patch[key.substr(0, dot)][key.substr(dot + 1)] = number_of(sent.at(key));
        }
    if (changed("retry.card_schedule_days"))
        patch["retry"]["card_schedule_days"] = day_list_of(sent.at("retry.card_schedule_days"));
    std::vector<std::string> texts = {"retry.mode", "retry.end_action", "access.on_objection"};
    for (const auto& key : access_keys)
        texts.push_back("access." + key);
    for (const auto& key : texts)
        if (changed(key)) {
            const auto dot = key.find('.');
            patch[key.substr(0, dot)][key.substr(dot + 1)] = trimmed(sent.at(key));
        }
    return patch;
}

std::vector<std::string> problems_by_row(std::vector<std::string> problems,
                                         const SettingsValues& sent) {
    std::vector<std::size_t> rows; // the form's row of each stage sent
    for (std::size_t i = 0; i < stage_rows(sent); ++i)
        if (const auto it = sent.find(stage_key(i, "message"));
            it != sent.end() && !trimmed(it->second).empty())
            rows.push_back(i);
    const std::string prefix = "dunning.stages[";
    for (auto& p : problems) {
        if (!p.starts_with(prefix)) continue;
        const auto close = p.find(']', prefix.size());
        if (close == std::string::npos) continue;
        const auto n = std::strtoull(p.c_str() + prefix.size(), nullptr, 10);
        if (n < rows.size()) p = prefix + std::to_string(rows[n]) + p.substr(close);
    }
    return problems;
}

const std::vector<std::string>& settings_messages() {
    return messages;
}

std::size_t settings_max_stages() {
    return max_stages;
}

} // namespace dunning::http
