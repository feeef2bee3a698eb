#include "core/open_items.hpp"

#include "core/limitation.hpp"

#include <algorithm>

namespace dunning {

namespace {

Date day_of(Timestamp t) {
    return Date(std::chrono::floor<std::chrono::days>(t));
}

int days_between(Date from, Date to) {
    return static_cast<int>((std::chrono::sys_days(to) - std::chrono::sys_days(from)).count());
}

} // namespace

std::optional<Date> interest_from(const CaseState& s, const std::vector<DunningStage>& stages) {
    if (!s.opened_at || stages.empty()) return std::nullopt;
    return day_of(s.schedule_anchor() + stages.front().after + std::chrono::days{1});
}

ClaimAmounts claim_amounts(const CaseState& s, const ClaimCharges& c, Date as_of) {
    return claim_amounts(s.open_amount_minor(), s.stage_sent, interest_from(s, c.stages),
                         s.invoice.currency, c, as_of);
}

ClaimAmounts claim_amounts(std::int64_t principal_minor, int stage_sent, std::optional<Date> from,
                           const std::string& currency, const ClaimCharges& c, Date as_of) {
    ClaimAmounts a;
    a.principal_minor = principal_minor;
    for (int i = 0; i < stage_sent && i < static_cast<int>(c.stages.size()); ++i)
        a.fees_minor += c.stages[static_cast<std::size_t>(i)].fee_minor;
    if (!c.interest || !from || std::chrono::sys_days(as_of) < std::chrono::sys_days(*from))
        return a;
    a.interest_from = from;
    a.interest_minor =
        default_interest(a.principal_minor, *from, as_of, c.base_rates, c.business_debtor)
            .total_minor;
    if (c.business_debtor && currency == "eur") a.fees_minor += b2b_flat_fee_eur_minor;
    return a;
}

const char* age_bucket(int age_days) {
    if (age_days <= 30) return "0-30";
    if (age_days <= 60) return "31-60";
    if (age_days <= 90) return "61-90";
    return "90+";
}

std::optional<OpenItem> open_item(std::int64_t case_id, const CaseState& s,
                                  const ClaimCharges& charges, Timestamp now) {
    const auto arose = claim_arose_on(s);
    if (!claim_outstanding(s) || !arose) return std::nullopt;
    const Date today = day_of(now);
    OpenItem item;
    item.case_id = case_id;
    item.status = status_of(s);
    item.stage = s.stage_sent;
    item.member = s.invoice.customer_id;
    item.member_name = s.invoice.customer_name;
    item.member_email = s.invoice.customer_email;
    item.invoice_id = s.invoice.invoice_id;
    item.invoice_number = s.invoice.number;
    item.products = s.invoice.products;
    item.payment_method = to_string(s.last_failure ? s.last_failure->method : s.paid_with);
    item.currency = s.invoice.currency;
    const auto amounts = claim_amounts(s, charges, today);
    item.principal_minor = amounts.principal_minor;
    item.fees_minor = amounts.fees_minor;
    item.interest_minor = amounts.interest_minor;
    item.arose_on = *arose;
    item.limitation_date = limitation_date(*arose);
    item.age_days = std::max(0, days_between(*arose, today));
    item.days_to_limitation = days_between(today, item.limitation_date);
    return item;
}

bool matches(const OpenItem& i, const OpenItemFilter& f) {
    auto contains = [](const auto& list, const std::string& v) {
        return std::find(list.begin(), list.end(), v) != list.end();
    };
    if (!f.statuses.empty() && !contains(f.statuses, i.status)) return false;
    if (f.stage && i.stage != *f.stage) return false;
    if (f.age_bucket && *f.age_bucket != age_bucket(i.age_days)) return false;
    if (f.amount_min_minor && i.principal_minor < *f.amount_min_minor) return false;
    if (f.amount_max_minor && i.principal_minor > *f.amount_max_minor) return false;
    if (f.payment_method && i.payment_method != *f.payment_method) return false;
    if (f.product && !contains(i.products, *f.product)) return false;
    if (f.member && i.member != *f.member) return false;
    if (f.expiring_within_days && i.days_to_limitation > *f.expiring_within_days) return false;
    return true;
}

void sort_open_items(std::vector<OpenItem>& items, OpenItemOrder order, bool descending) {
    auto key = [order](const OpenItem& i) -> std::int64_t {
        switch (order) {
        case OpenItemOrder::case_id:
            return i.case_id;
        case OpenItemOrder::arose_on:
            return std::chrono::sys_days(i.arose_on).time_since_epoch().count();
        case OpenItemOrder::amount:
            return i.principal_minor;
        case OpenItemOrder::limitation_date:
            return std::chrono::sys_days(i.limitation_date).time_since_epoch().count();
        case OpenItemOrder::stage:
            return i.stage;
        }
        return i.case_id;
    };
    std::stable_sort(items.begin(), items.end(), [&](const OpenItem& a, const OpenItem& b) {
        const auto ka = key(a), kb = key(b);
        if (ka != kb) return descending ? ka > kb : ka < kb;
        return a.case_id < b.case_id;
    });
}

std::map<std::string, CurrencyTotals> totals_by_currency(const std::vector<OpenItem>& items) {
    std::map<std::string, CurrencyTotals> out;
    for (const auto& i : items) {
        auto& t = out[i.currency];
        ++t.count;
        t.principal_minor += i.principal_minor;
        t.fees_minor += i.fees_minor;
        t.interest_minor += i.interest_minor;
    }
    return out;
}

} // namespace dunning
