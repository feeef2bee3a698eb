// [dunning] and [creators.dunning]: the ladder of dunning emails (stages: which message, how many
// days after the first failure, which fee), the deadline the final notice sets, the creator's own
// templates, and statutory default interest (§ 288 BGB). A creator's table overrides the global
// one key by key; its `stages`, when given, replace the global list as a whole.
#include "config/reader.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>

namespace dunning::config::detail {

namespace {

constexpr std::int64_t seconds_per_day = 24 * 60 * 60;
constexpr double max_stage_day = 365;
constexpr double max_fee = 10;

// "creators[0].dunning.stages" → "creators.dunning.stages", as the TOML header spells it.
std::string header_name(std::string key) {
    for (auto open = key.find('['); open != std::string::npos; open = key.find('['))
        key.erase(open, key.find(']', open) - open + 1);
    return key;
}

std::optional<double> number_of(const toml::node& node) {
    if (const auto* integer = node.as_integer()) return static_cast<double>(integer->get());
    if (const auto* floating = node.as_floating_point()) return floating->get();
    return std::nullopt;
}

// after_days → seconds, or the problem with it.
Result<std::chrono::seconds, std::string> stage_offset(const toml::node& node) {
    const auto days = number_of(node);
    if (!days || std::isnan(*days))
        return err(std::string("must be a number of days, e.g. 3 or 0.5"));
    if (!(*days > 0)) return err(std::string("must be greater than 0"));
    if (*days > max_stage_day) return err(std::string("must be at most 365 (days)"));
    const auto offset = std::chrono::seconds(std::llround(*days * seconds_per_day));
    if (offset <= std::chrono::seconds(0)) return err(std::string("must be greater than 0"));
    return offset;
}

// fee → minor units, or the problem with it.
Result<std::int64_t, std::string> stage_fee(const toml::node& node, bool first) {
    const auto fee = number_of(node);
    if (!fee || std::isnan(*fee))
        return err(std::string("must be a number: the fee in the invoice currency's major unit, "
                               "e.g. 2.50"));
    if (*fee < 0) return err(std::string("must not be negative"));
    if (*fee > max_fee)
        return err(std::string("must be at most 10: German courts accept only the real material "
                               "costs of a reminder, a few euros"));
    if (first && *fee > 0)
        return err(
            std::string("the first reminder puts the member in default and may carry no fee"));
    return static_cast<std::int64_t>(std::llround(*fee * 100));
}

// Every stage's problems are reported at their own lines; the list is taken only when all of
// them are fine, so a bad creator list never leaves half of it in force.
void read_stages(Reader& table, std::vector<DunningStage>& out) {
    const toml::node* node = table.get("stages");
    auto items =
        table.tables("stages", R"(must be an array of tables: stages = [{ message = "reminder", )"
                               R"(after_days = 3 }] or [[)" +
                                   header_name(table.key("stages")) + "]]");
    if (!items) return;
    const toml::array& array = *node->as_array();
    if (array.empty()) {
        table.problem("stages", "must list at least one stage");
        return;
    }
    const std::size_t count = items->size();
    bool ok = count == array.size(); // an element that is no table was reported
    std::vector<DunningStage> stages;
    std::map<std::string, std::string> seen; // message → the stage that sent it first
    std::optional<std::chrono::seconds> previous;
    std::optional<std::size_t> final_notice;
    for (std::size_t i = 0; i < count; ++i) {
        Reader& stage = (*items)[i];
        stage.allow_only({"message", "after_days", "fee"});
        DunningStage parsed;
        const bool first = stage.path() == table.key("stages") + "[0]";
        bool stage_ok = true;

        stage.required_string("message", parsed.name,
                              one_of({"reminder", "formal_reminder", "final_notice"}));
        if (parsed.name.empty()) {
            stage_ok = false;
        } else {
            auto [it, fresh] = seen.emplace(parsed.name, stage.path());
            if (!fresh) {
                stage.problem("message", "already used by " + it->second);
                stage_ok = false;
            }
            if (parsed.name == "final_notice") final_notice = i;
        }

        if (const toml::node* after = stage.get("after_days")) {
            auto offset = stage_offset(*after);
            if (!offset.ok()) {
                stage.problem("after_days", offset.error());
                stage_ok = false;
            } else if (previous && offset.value() <= *previous) {
                stage.problem("after_days", "must be greater than the previous stage's after_days "
                                            "(stages are listed in the order they are sent)");
                stage_ok = false;
            } else {
                parsed.after = offset.value();
                previous = offset.value();
            }
        } else {
            stage.problem("after_days", "is required");
            stage_ok = false;
        }

        if (const toml::node* fee = stage.get("fee")) {
            auto minor = stage_fee(*fee, first);
            if (minor.ok()) {
                parsed.fee_minor = minor.value();
            } else {
                stage.problem("fee", minor.error());
                stage_ok = false;
            }
        }
        ok = ok && stage_ok;
        stages.push_back(std::move(parsed));
    }
    // The case engine starts the final notice's deadline when the last stage goes out.
    if (final_notice && *final_notice + 1 != count && count == array.size()) {
        (*items)[*final_notice].problem("message",
                                        R"("final_notice" must be the last stage: its deadline )"
                                        "runs from the last stage sent");
        ok = false;
    }
    if (ok) out = std::move(stages);
}

// interest = true needs the table of base rates; reported once, where it was asked for.
void check_base_rates(Reader& table, const Problems& problems, const DunningConfig& out) {
    if (!out.interest) return;
    const bool sets_file = table.contains("base_rates_file");
    if (!sets_file && !table.contains("interest")) return; // inherited: checked where it was set
    if (problems.has(table.key("base_rates_file")) || problems.has(table.key("interest"))) return;
    const auto problem = path_problem(out.base_rates_file, false);
    if (!problem) return;
    if (sets_file)
        table.problem("base_rates_file",
                      *problem + " (interest = true needs the table of base rates)");
    else
        table.problem("interest",
                      "needs the table of base rates, but " + *problem + " (set base_rates_file)");
}

} // namespace

void read_dunning(Reader& table, const Problems& problems, const std::string& base_dir,
                  DunningConfig& out) {
    table.allow_only({"stages", "final_notice_deadline_days", "template_dir", "interest", "debtor",
                      "base_rates_file"});
    read_stages(table, out.stages);

    std::int64_t deadline = 0; // out of range, so integer() stores only a valid value
    table.integer("final_notice_deadline_days", deadline, 1, 60);
    if (deadline > 0) out.final_notice_deadline = std::chrono::days(deadline);

    // "" brings back the built-in templates; any other directory must exist now, not at the
    // first email.
    std::string template_dir;
    if (table.string("template_dir", template_dir) && !problems.has(table.key("template_dir"))) {
        template_dir = resolve_path(base_dir, template_dir);
        auto problem = template_dir.empty() ? std::nullopt : path_problem(template_dir, true);
        if (problem)
            table.problem("template_dir", *problem);
        else
            out.template_dir = template_dir;
    }

    table.boolean("interest", out.interest);
    std::string debtor = out.business_debtor ? "business" : "consumer";
    table.string("debtor", debtor, one_of({"consumer", "business"}));
    out.business_debtor = debtor == "business";

    std::string base_rates_file;
    if (table.string("base_rates_file", base_rates_file, not_empty()) &&
        !problems.has(table.key("base_rates_file")))
        out.base_rates_file = resolve_path(base_dir, base_rates_file);
    check_base_rates(table, problems, out);
}

} // namespace dunning::config::detail
