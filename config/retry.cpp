// [retry] and [creators.retry]: who charges a failed invoice again (mode) and, when this module
// does (mode = "plugin"), on which schedule (dunning::RetryPolicy). Whatever card_schedule_days
// says, the card networks' caps apply on top when a retry is planned (Visa: at most 15 retries
// in 30 days; Mastercard: 10 in 24 hours, 35 in 30 days; dunning::earliest_allowed_by_network),
// so a dense schedule is stretched, never obeyed beyond them.
#include "config/reader.hpp"

#include <chrono>
#include <cmath>
#include <optional>
#include <string>

namespace dunning::config::detail {

namespace {

constexpr std::size_t max_card_retries = 30;
constexpr double max_card_day = 60;
constexpr std::int64_t seconds_per_day = 24 * 60 * 60;

const char* const card_schedule_type =
    "must be an array of numbers: days after the first failure, e.g. [1, 3, 5, 7, 10, 14]";

// Days (integers or fractions) → offsets in whole seconds. Every entry's problem is reported at
// its own line; the schedule is taken only when all of them are fine.
void read_card_schedule(Reader& table, std::vector<std::chrono::seconds>& out) {
    const std::string_view name = "card_schedule_days";
    const toml::node* node = table.get(name);
    if (!node) return;
    const toml::array* array = node->as_array();
    if (!array) {
        table.problem(name, card_schedule_type);
        return;
    }
    bool ok = true;
    if (array->size() > max_card_retries) {
        table.problem(name, "must have at most 30 entries (the card networks' caps apply on top "
                            "anyway: Visa 15 retries in 30 days, Mastercard 10 in 24 hours and "
                            "35 in 30 days)");
        ok = false;
    }
    std::vector<std::chrono::seconds> schedule;
    for (const toml::node& element : *array) {
        std::optional<double> days;
        if (const auto* integer = element.as_integer())
            days = static_cast<double>(integer->get());
        else if (const auto* floating = element.as_floating_point())
            days = floating->get();
        const char* problem = nullptr;
        std::chrono::seconds offset{0};
        if (!days) {
            problem = card_schedule_type;
        } else if (!(*days > 0)) { // NaN too
            problem = "entries must be greater than 0";
        } else if (*days > max_card_day) {
            problem = "entries must be at most 60 (days)";
        } else {
            offset = std::chrono::seconds(std::llround(*days * seconds_per_day));
            if (offset <= std::chrono::seconds(0))
                problem = "entries must be greater than 0";
            else if (!schedule.empty() && offset <= schedule.back())
                problem = "entries must be strictly increasing";
        }
        if (problem) {
            table.problem_at(element, name, problem);
            ok = false;
        } else {
            schedule.push_back(offset);
        }
    }
    if (ok) out = std::move(schedule);
}

// An integer key in [min, max], handed to `apply` when present and valid.
template <typename Apply>
void read_int(Reader& table, std::string_view name, std::int64_t min, std::int64_t max,
              Apply apply) {
    const std::int64_t unset = min - 1; // out of range, so integer() never stores it
    std::int64_t value = unset;
    table.integer(name, value, min, max);
    if (value != unset) apply(value);
}

const char* end_action_name(EndAction action) {
    switch (action) {
    case EndAction::cancel_subscription:
        return "cancel_subscription";
    case EndAction::mark_uncollectible:
        return "mark_uncollectible";
    case EndAction::leave:
        break;
    }
    return "leave";
}

} // namespace

void read_retry(Reader& table, RetryConfig& out) {
    table.allow_only({"mode", "card_schedule_days", "sepa_max_retries", "sepa_min_gap_days",
                      "sepa_prefer_paydays", "sepa_max_payday_wait_days", "sepa_retry_hour_utc",
                      "new_payment_method_delay_minutes", "end_action"});
    std::string mode = out.mode == RetryMode::plugin ? "plugin" : "stripe";
    table.string("mode", mode, one_of({"stripe", "plugin"}));
    out.mode = mode == "plugin" ? RetryMode::plugin : RetryMode::stripe;

    RetryPolicy& policy = out.policy;
    read_card_schedule(table, policy.card_schedule);
    read_int(table, "sepa_max_retries", 0, 5,
             [&](std::int64_t v) { policy.sepa_max_retries = static_cast<int>(v); });
    read_int(table, "sepa_min_gap_days", 1, 30,
             [&](std::int64_t v) { policy.sepa_min_gap = std::chrono::days(v); });
    table.boolean("sepa_prefer_paydays", policy.sepa_prefer_paydays);
    read_int(table, "sepa_max_payday_wait_days", 0, 31,
             [&](std::int64_t v) { policy.sepa_max_payday_wait = std::chrono::days(v); });
    read_int(table, "sepa_retry_hour_utc", 0, 23,
             [&](std::int64_t v) { policy.sepa_retry_hour_utc = std::chrono::hours(v); });
    read_int(table, "new_payment_method_delay_minutes", 0, 1440,
             [&](std::int64_t v) { policy.new_payment_method_delay = std::chrono::minutes(v); });

    std::string end_action = end_action_name(policy.end_action);
    table.string("end_action", end_action,
                 one_of({"leave", "cancel_subscription", "mark_uncollectible"}));
    if (end_action == "cancel_subscription")
        policy.end_action = EndAction::cancel_subscription;
    else if (end_action == "mark_uncollectible")
        policy.end_action = EndAction::mark_uncollectible;
    else
        policy.end_action = EndAction::leave;
}

} // namespace dunning::config::detail
