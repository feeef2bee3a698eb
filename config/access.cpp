// [access] and [creators.access]: which course access a member keeps while a payment is owed
// (dunning::AccessPolicy). The level while each dunning email is the newest one sent, the level
// once the final notice's deadline has passed, on a lost dispute and on a subscription Stripe
// ended for non-payment, and the amount up to which the deadline locks nothing. A creator's table
// overrides the global one key by key; the rules between the levels apply to the result.
//
// Proportionality: access is limited or locked only after the final notice has announced it, so
// the reminders may only keep it ("granted") or announce nothing worse than "grace"; the final
// notice may limit it at most, a full lock waits for its deadline; and access only tightens from
// one email to the next.
#include "config/reader.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::config::detail {

namespace {

constexpr double max_min_amount = 100000; // major units

// One level key: `allowed` are the levels it may take; `refused` says why a known level outside
// them does not fit (after the list of allowed ones), empty when the list says it all.
struct LevelKey {
    std::string_view name;
    std::vector<AccessLevel> allowed;
    std::string_view refused;
};

const std::string_view announced_first =
    "access is limited or locked only after the final notice has announced it";

// The dunning emails, in the order they go out (the messages of [dunning] stages): the level
// while each one is the newest sent, AccessPolicy::during_stage.
const std::array<LevelKey, 3> stage_keys = {{
    {"reminder", {AccessLevel::granted, AccessLevel::grace}, announced_first},
    {"formal_reminder", {AccessLevel::granted, AccessLevel::grace}, announced_first},
    {"final_notice",
     {AccessLevel::granted, AccessLevel::grace, AccessLevel::limited},
     "a full lock waits until the final notice's deadline has passed (after_final_deadline)"},
}};

// What content is blocked once a claim calls for it: "limited" or "locked".
struct EventKey {
    LevelKey key;
    AccessLevel AccessPolicy::*level;
};

const std::array<EventKey, 3> event_keys = {{
    {{"after_final_deadline", {AccessLevel::limited, AccessLevel::locked}, ""},
     &AccessPolicy::after_final_deadline},
    {{"on_lost_dispute", {AccessLevel::limited, AccessLevel::locked}, ""},
     &AccessPolicy::on_lost_dispute},
    {{"on_subscription_ended", {AccessLevel::limited, AccessLevel::locked}, ""},
     &AccessPolicy::on_subscription_ended},
}};

Check level_check(const LevelKey& key) {
    std::vector<std::string> names;
    for (AccessLevel level : key.allowed)
        names.emplace_back(to_string(level));
    return [refused = key.refused, list = one_of(std::move(names))](
               const std::string& value) -> std::optional<std::string> {
        auto problem = list(value);
        if (problem && !refused.empty() && access_level_from(value))
            *problem += ": " + std::string(refused);
        return problem;
    };
}

// Left as it is unless the key is present and valid.
void read_level(Reader& table, const LevelKey& key, AccessLevel& out) {
    std::string name(to_string(out));
    table.string(key.name, name, level_check(key));
    out = access_level_from(name).value_or(out);
}

// min_amount → minor units, or the problem with it.
Result<std::int64_t, std::string> min_amount_minor(const toml::node& node) {
    std::optional<double> amount;
    if (const auto* integer = node.as_integer()) amount = static_cast<double>(integer->get());
    if (const auto* floating = node.as_floating_point()) amount = floating->get();
    if (!amount || std::isnan(*amount))
        return err(std::string("must be a number: the amount in the invoice currency's major "
                               "unit, e.g. 10 or 12.50"));
    if (*amount < 0 || *amount > max_min_amount)
        return err(std::string("must be between 0 and 100000"));
    return static_cast<std::int64_t>(std::llround(*amount * 100));
}

AccessLevel stage_level(const AccessPolicy& policy, std::string_view stage) {
    const auto it = policy.during_stage.find(stage);
    return it == policy.during_stage.end() ? AccessLevel::granted : it->second;
}

std::string quoted(AccessLevel level) {
    return "\"" + std::string(to_string(level)) + "\"";
}

// Access only tightens from one email to the next. Checked on the merged levels and reported
// where this table sets one of the two (the later one when it sets both); a pair this table
// leaves alone was checked where it was set. (The final notice's level is at most "limited" and
// after_final_deadline's at least that, so the deadline never loosens access: the lists of
// allowed levels see to that.)
void check_order(Reader& table, const Problems& problems, const AccessPolicy& policy) {
    const std::string_view why = ": access only tightens from one dunning email to the next";
    for (std::size_t i = 0; i + 1 < stage_keys.size(); ++i) {
        const std::string earlier(stage_keys[i].name), later(stage_keys[i + 1].name);
        const AccessLevel first = stage_level(policy, earlier), second = stage_level(policy, later);
        if (first <= second) continue;
        if (problems.has(table.key(earlier)) || problems.has(table.key(later))) continue;
        if (table.contains(later))
            table.problem(later, "must be at least as restrictive as " + earlier + " (" +
                                     quoted(first) + ")" + std::string(why));
        else if (table.contains(earlier))
            table.problem(earlier, "must not be more restrictive than " + later + " (" +
                                       quoted(second) + ")" + std::string(why));
    }
}

// While the member's objection stands: "unchanged" (the rules apply) or "grant".
std::string policy_objection_name(const AccessPolicy& policy) {
    return policy.grant_on_objection ? "grant" : "unchanged";
}

} // namespace

void read_access(Reader& table, const Problems& problems, AccessConfig& out) {
    table.allow_only({"min_amount", "reminder", "formal_reminder", "final_notice",
                      "after_final_deadline", "on_lost_dispute", "on_subscription_ended",
                      "on_objection"});
    std::string on_objection = policy_objection_name(out.policy);
    table.string("on_objection", on_objection, one_of({"unchanged", "grant"}));
    out.policy.grant_on_objection = on_objection == "grant";
    AccessPolicy& policy = out.policy;
    if (const toml::node* node = table.get("min_amount")) {
        auto minor = min_amount_minor(*node);
        if (minor.ok())
            policy.min_amount_minor = minor.value();
        else
            table.problem("min_amount", minor.error());
    }
    for (const LevelKey& key : stage_keys) {
        if (!table.contains(key.name)) continue;
        AccessLevel level = stage_level(policy, key.name);
        read_level(table, key, level);
        policy.during_stage.insert_or_assign(std::string(key.name), level);
    }
    for (const EventKey& event : event_keys)
        read_level(table, event.key, policy.*event.level);
    check_order(table, problems, policy);
}

} // namespace dunning::config::detail
