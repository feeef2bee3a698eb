#include "core/recovery.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>

namespace dunning {

std::string year_month(Timestamp t) {
    const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(t)};
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()));
    return out;
}

std::string recovery_source(const CaseState& s) {
    const Timestamp paid_at = s.resolved_at.value_or(Timestamp::max());
    if (s.resolution_reason == paid_reason::marked_paid) return "marked_paid";
    if (std::any_of(s.collection.steps.begin(), s.collection.steps.end(),
                    [](const CollectionStep& step) { return step.what == "paid"; }))
        return "collection";
    if (s.promise && s.promise->made_at <= paid_at) return "promise";
    if (std::any_of(s.attempts.begin(), s.attempts.end(), [](const ChargeAttempt& a) {
            return a.outcome == ChargeAttempt::Outcome::succeeded;
        }))
        return "retry";
    if (s.final_notice_at && *s.final_notice_at <= paid_at) return "after_final_notice";
    if (s.stage_sent > 0) return "stage_" + std::to_string(s.stage_sent);
    return "before_reminder";
}

namespace {

void count(CurrencyFigures& f, const CaseState& s, std::string_view status) {
    f.failed.add(s.invoice.amount_due);
    if (status == "paid")
        f.recovered.add(s.invoice.amount_due);
    else if (claim_outstanding(s))
        f.open.add(s.open_amount_minor());
    else if (status == "written_off" || status == "uncollectible")
        f.written_off.add(s.open_amount_minor());
}

} // namespace

RecoverySummary summarize_recovery(const std::vector<const CaseState*>& cases, Timestamp from,
                                   Timestamp to) {
    RecoverySummary out;
    for (const CaseState* s : cases) {
        if (!s->failed || !s->opened_at || *s->opened_at < from || *s->opened_at >= to) continue;
        const std::string status = status_of(*s);
        const auto& currency = s->invoice.currency;
        count(out.by_currency[currency], *s, status);
        count(out.cohorts[year_month(*s->opened_at)][currency], *s, status);
        ++out.by_status[status];
        if (claim_outstanding(*s)) ++out.outstanding_by_stage[s->stage_sent];
        if (status == "paid") {
            if (s->resolved_at)
                out.recovered_by_month[year_month(*s->resolved_at)][currency].add(
                    s->invoice.amount_due);
            out.recovered_by_source[recovery_source(*s)][currency].add(s->invoice.amount_due);
        }
    }
    return out;
}

} // namespace dunning
