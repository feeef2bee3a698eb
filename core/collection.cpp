#include "core/collection.hpp"

namespace dunning {

namespace {

using Kind = CollectionReport::Kind;

CollectionStep step_of(const CollectionReport& r, const char* what, Timestamp now) {
    return {what, now, r.batch, r.amount_minor.value_or(0), r.date, r.reference, r.note};
}

} // namespace

std::optional<std::string> collection_refusal(const CaseState& s, const CollectionReport& r) {
    const std::string status = status_of(s);
    if (r.kind == Kind::handed_over) {
        if (status == "escalated" || status == "handover_pending") return std::nullopt;
        return "is " + status + ": only escalated or handover_pending cases can be handed over";
    }
    // With the agency, whatever stands over it: an objection raised since stops dunning, not the
    // agency's report of what it already collected.
    if (!s.is_open() || !s.collection.handed_over_at)
        return "is " + status + ": only a handed_over case takes a collection result";
    return std::nullopt;
}

bool record_collection(CaseState& s, const CollectionReport& r, Timestamp now) {
    if (collection_refusal(s, r)) return false;
    auto& c = s.collection;
    if (!r.reference.empty()) c.agency_reference = r.reference;
    switch (r.kind) {
    case Kind::handed_over:
        c.handed_over_at = now;
        c.batch = r.batch;
        c.steps.push_back(step_of(r, "handed_over", now));
        return false;
    case Kind::returned:
        c.handed_over_at.reset();
        c.batch.clear();
        s.handover_pending_at.reset(); // back with the creator, who decides again
        c.steps.push_back(step_of(r, "returned", now));
        return false;
    case Kind::uncollectible:
        c.handed_over_at.reset();
        c.steps.push_back(step_of(r, "uncollectible", now));
        s.resolution = Resolution::uncollectible;
        s.resolved_at = now;
        s.resolution_reason = collection_agency_reason;
        return false;
    case Kind::paid: {
        const auto open = s.open_amount_minor();
        auto step = step_of(r, "paid", now);
        // What the agency collected beyond the open amount is not the creditor's claim: the step
        // keeps the reported amount, the claim counts at most what was open.
        step.amount_minor = r.amount_minor.value_or(open);
        const bool full = step.amount_minor >= open;
        c.collected_minor += full ? open : step.amount_minor;
        if (!full) step.what = "partial_payment";
        c.steps.push_back(std::move(step));
        if (full) c.handed_over_at.reset();
        return full;
    }
    }
    return false;
}

} // namespace dunning
