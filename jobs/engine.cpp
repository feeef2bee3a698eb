#include "jobs/engine.hpp"

#include "core/limitation.hpp"
#include "core/overloaded.hpp"

#include "retry/stripe_client.hpp"
#include "store/case_json.hpp"
#include "store/job_queue.hpp"
#include "store/json_time.hpp"
#include "store/notifications.hpp"

namespace dunning::jobs {

using store::CaseRecord;
using store::save_case;

namespace {

// The job an effect becomes, with the key the other side dedupes on; none for NotifyHost (a
// host notification of its own, Engine::notify_case).
std::optional<store::NewJob> job_for(std::int64_t case_id, const CaseState& s,
                                     const Effect& effect) {
    const std::string prefix = "case-" + std::to_string(case_id) + "-";
    return std::visit(
        overloaded{
            [&](const ChargeInvoice& c) -> std::optional<store::NewJob> {
                return store::NewJob{
                    .payload = store::ChargeJob{c.attempt, c.invoice_id, c.payment_method_id},
                    .idempotency_key = retry::charge_idempotency_key(c.invoice_id, c.attempt),
                    .case_id = case_id};
            },
            [&](const SendEmail& e) -> std::optional<store::NewJob> {
                return store::NewJob{.payload = store::EmailJob{e.message, e.stage},
                                     .idempotency_key =
                                         prefix + e.message + "-" +
                                         (e.stage ? std::to_string(e.stage) : s.failure_notified),
                                     .case_id = case_id};
            },
            [&](const EndOfSchedule& e) -> std::optional<store::NewJob> {
                return store::NewJob{
                    .payload = store::EndOfScheduleJob{e.action, e.invoice_id, e.subscription_id},
                    .idempotency_key = "dunning-end-" + e.invoice_id,
                    .case_id = case_id};
            },
            [&](const MarkPaidOutOfBand& m) -> std::optional<store::NewJob> {
                return store::NewJob{.payload = store::PaidOutOfBandJob{m.invoice_id},
                                     .idempotency_key =
                                         retry::paid_out_of_band_idempotency_key(case_id),
                                     .case_id = case_id};
            },
            [](const NotifyHost&) -> std::optional<store::NewJob> { return std::nullopt; }},
        effect);
}

nlohmann::json id_or_null(const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

// When the claim becomes time-barred, and which warning this is.
nlohmann::json limitation_view(const CaseState& s, const NotifyHost& n) {
    const auto arose = claim_arose_on(s);
    if (!arose) return nullptr;
    return {{"arose_on", iso_date(*arose)},
            {"limitation_date", iso_date(limitation_date(*arose))},
            {"days_before", n.days_before}};
}

} // namespace

CasePolicy policy_from_config(const config::CreatorConfig& creator) {
    CasePolicy p;
    p.module_charges = creator.retry.mode == config::RetryMode::plugin;
    p.retry = creator.retry.policy;
    p.stages = creator.dunning.stages;
    p.final_notice_deadline = creator.dunning.final_notice_deadline;
    p.escalation = creator.escalation.policy;
    p.stripe_disconnected = creator.stripe_disconnected;
    return p;
}

Engine::Engine(const config::Config& config, config::CreatorRegistry& creators, const Clock& clock)
    : clock_(clock), creators_(creators), notifies_host_(!config.host.webhook_url.empty()) {}

Engine::Engine(const config::Config& config, const Clock& clock)
    : clock_(clock), own_creators_(std::make_unique<config::CreatorRegistry>(config)),
      creators_(*own_creators_), notifies_host_(!config.host.webhook_url.empty()) {}

std::shared_ptr<const Engine::CreatorRules> Engine::rules_for(const std::string& creator) const {
    auto snapshot = creators_.find(creator);
    if (!snapshot) return fallback_;
    std::lock_guard lock(cache_mutex_);
    auto& cached = cache_[creator];
    if (cached.from != snapshot) {
        auto rules = std::make_shared<CreatorRules>(
            CreatorRules{policy_from_config(*snapshot), snapshot->access.policy, {}});
        for (const auto& m : snapshot->products)
            rules->courses.add(m.stripe_product, m.courses);
        cached = {std::move(snapshot), std::move(rules)};
    }
    return cached.rules;
}

void Engine::note_connection_change(const std::string& creator) const {
    std::lock_guard lock(changes_mutex_);
    connection_changes_.push_back(creator);
}

std::vector<std::string> Engine::take_connection_changes() const {
    std::lock_guard lock(changes_mutex_);
    return std::exchange(connection_changes_, {});
}

CasePolicy Engine::policy_for(const std::string& creator) const {
    return rules_for(creator)->cases;
}

AccessPolicy Engine::access_policy_for(const std::string& creator) const {
    return rules_for(creator)->access;
}

access::CourseMap Engine::courses_for(const std::string& creator) const {
    return rules_for(creator)->courses;
}

void Engine::run_case(store::Connection& db, CaseRecord& c, const CaseInput& input) const {
    const auto now = clock_.now();
    const auto rules = rules_for(c.state.creator_id);
    auto decision = decide(std::move(c.state), input, now, rules->cases);
    c.state = std::move(decision.next);
    save_case(db, c, to_unix(now));
    for (const auto& effect : decision.effects)
        if (auto job = job_for(c.id, c.state, effect)) store::enqueue(db, *job, now);
    for (const auto& effect : decision.effects)
        if (const auto* n = std::get_if<NotifyHost>(&effect)) notify_case(db, c, *n);
    // An invoice paid without ever failing concerns no entitlement; one that failed, or whose
    // payment was disputed, does.
    if ((c.state.failed || c.state.dispute) && !c.state.invoice.customer_id.empty()) {
        auto products = case_products(db, c.state);
        if (!products.empty())
            refresh_access(db, c.state.creator_id, c.state.invoice.customer_id, std::move(products),
                           &c);
    }
}

void Engine::notify_case(store::Connection& db, const CaseRecord& c, const NotifyHost& n) const {
    if (!notifies_host_) return;
    const CaseState& s = c.state;
    const auto& i = s.invoice;
    nlohmann::json products = i.products;
    nlohmann::json data = {
        {"case",
         {{"id", c.id},
          {"status", status_of(s)},
          {"invoice", i.invoice_id},
          {"invoice_number", i.number.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.number)},
          {"subscription",
           i.subscription_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.subscription_id)},
          {"amount_due", i.amount_due},
          {"amount_remaining", i.amount_remaining},
          {"currency", i.currency},
          {"stage", s.stage_sent},
          {"products", products},
          {"opened_at", store::time_or_null(s.opened_at)},
          {"resolution", to_string(s.resolution)},
          {"resolution_reason", id_or_null(s.resolution_reason)},
          {"handover_pending_at", store::time_or_null(s.handover_pending_at)}}}};
    if (n.type == "claim.limitation_approaching") data["limitation"] = limitation_view(s, n);
    if (n.type == "case.promise_to_pay" && s.promise)
        data["promise_to_pay"] = {{"until", iso8601(s.promise->until)},
                                  {"made_at", iso8601(s.promise->made_at)}};
    if (n.type.starts_with("case.objection") || n.type == "case.objected")
        if (const auto& o = s.objection)
            data["objection"] = {{"at", iso8601(o->at)},
                                 {"note", o->note},
                                 {"actor", id_or_null(o->actor)},
                                 {"withdrawn_at", store::time_or_null(o->withdrawn_at)}};
    store::queue_notification(db, s.creator_id, i.customer_id, n.type, data, clock_.now());
}

} // namespace dunning::jobs
