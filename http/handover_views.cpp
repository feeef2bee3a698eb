#include "http/handover_views.hpp"

#include "core/csv.hpp"
#include "core/limitation.hpp"
#include "core/money.hpp"
#include "store/json_time.hpp"

namespace dunning::http {

namespace {

using nlohmann::json;

json or_null(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

json date_or_null(const std::optional<Date>& d) {
    return d ? json(iso_date(*d)) : json(nullptr);
}

std::string date_or_empty(const std::optional<Date>& d) {
    return d ? iso_date(*d) : "";
}

json address_view(const PostalAddress& a) {
    if (a.empty() && a.country.empty()) return nullptr;
    return {{"line1", or_null(a.line1)},
            {"line2", or_null(a.line2)},
            {"postal_code", or_null(a.postal_code)},
            {"city", or_null(a.city)},
            {"state", or_null(a.state)},
            {"country", or_null(a.country)}};
}

json creditor_view(const Creditor& c) {
    return {
        {"name", c.name}, {"legal_name", or_null(c.legal_name)}, {"address", or_null(c.address)}};
}

json debtor_view(const HandoverRow& r) {
    return {{"id", or_null(r.debtor_id)},
            {"name", or_null(r.debtor_name)},
            {"email", or_null(r.debtor_email)},
            {"address", address_view(r.debtor_address)}};
}

// The rate as a court reads it: "5.12" percent a year.
std::string percent(double rate) {
    const auto hundredths = static_cast<std::int64_t>(rate * 100 + (rate < 0 ? -0.5 : 0.5));
    return decimal_amount(hundredths, "eur");
}

} // namespace

json collection_step_view(const CollectionStep& st) {
    json step = {{"what", st.what}, {"at", iso8601(st.at)}};
    if (!st.batch.empty()) step["batch"] = st.batch;
    if (st.what == "paid" || st.what == "partial_payment") step["amount"] = st.amount_minor;
    for (const auto& [key, value] :
         {std::pair{"date", &st.date}, std::pair{"reference", &st.reference},
          std::pair{"note", &st.note}})
        if (!value->empty()) step[key] = *value;
    return step;
}

json collection_view(const CaseState& s) {
    const auto& c = s.collection;
    if (c.steps.empty()) return nullptr;
    json steps = json::array();
    for (const auto& st : c.steps)
        steps.push_back(collection_step_view(st));
    return {{"handed_over_at", store::time_or_null(c.handed_over_at)},
            {"batch", or_null(c.batch)},
            {"agency_reference", or_null(c.agency_reference)},
            {"collected", c.collected_minor},
            {"steps", steps}};
}

json handover_row_view(const HandoverRow& r) {
    const auto money = [&](std::int64_t minor) { return decimal_amount(minor, r.currency); };
    json reminders = json::array();
    for (const auto& m : r.reminders)
        reminders.push_back(
            {{"message", m.message}, {"sent_at", iso8601(m.at)}, {"message_id", m.message_id}});
    return {{"case", r.case_id},
            {"status", r.status},
            {"creditor", creditor_view(r.creditor)},
            {"debtor", debtor_view(r)},
            {"invoice",
             {{"id", r.invoice_id},
              {"number", or_null(r.invoice_number)},
              {"date", date_or_null(r.invoice_date)},
              {"due_date", date_or_null(r.due_date)}}},
            {"contract",
             {{"subject", or_null(r.contract_subject)}, {"date", date_or_null(r.contract_date)}}},
            {"currency", currency_code(r.currency)},
            {"principal", money(r.amounts.principal_minor)},
            {"fees", money(r.amounts.fees_minor)},
            {"interest", money(r.amounts.interest_minor)},
            {"interest_from", date_or_null(r.amounts.interest_from)},
            {"total", money(r.amounts.total_minor())},
            {"collected", money(r.collected_minor)},
            {"reminders", reminders},
            {"agency_reference", or_null(r.agency_reference)}};
}

json court_dunning_view(const CourtDunningData& d) {
    const auto& r = d.claim;
    const auto money = [&](std::int64_t minor) { return decimal_amount(minor, r.currency); };
    json periods = json::array();
    for (const auto& p : d.periods)
        periods.push_back({{"from", iso_date(p.from)},
                           {"to", iso_date(p.to)},
                           {"days", p.days},
                           {"rate_percent", percent(p.rate_percent)},
                           {"amount", money(p.interest_minor)}});
    return {{"object", "court_dunning"},
            {"case", r.case_id},
            {"status", r.status},
            {"filed", false},
            {"creditor", creditor_view(r.creditor)},
            {"debtor", debtor_view(r)},
            {"claim_type",
             {{"number", d.claim_type}, {"name", or_null(court_claim_name(d.claim_type))}}},
            {"invoice",
             {{"id", r.invoice_id},
              {"number", or_null(r.invoice_number)},
              {"date", date_or_null(r.invoice_date)},
              {"due_date", date_or_null(r.due_date)}}},
            {"contract",
             {{"subject", or_null(r.contract_subject)}, {"date", date_or_null(r.contract_date)}}},
            {"currency", currency_code(r.currency)},
            {"principal", money(r.amounts.principal_minor)},
            {"interest",
             {{"from", date_or_null(r.amounts.interest_from)},
              {"rate", "base_rate_plus_points"},
              {"points_above_base_rate", d.interest_points_above_base},
              {"business_debtor", d.business_debtor},
              {"periods", periods},
              {"amount_to_date", money(r.amounts.interest_minor)}}},
            {"dunning_costs", money(r.amounts.fees_minor)}};
}

std::string court_dunning_csv(const CourtDunningData& d, char delim) {
    const auto& r = d.claim;
    const auto& a = r.debtor_address;
    const auto money = [&](std::int64_t minor) { return decimal_amount(minor, r.currency); };
    std::string periods;
    for (const auto& p : d.periods)
        periods += (periods.empty() ? "" : " | ") + iso_date(p.from) + ".." + iso_date(p.to) + " " +
                   percent(p.rate_percent) + "%";
    return csv_record({"case",
                       "creditor_name",
                       "creditor_legal_name",
                       "creditor_address",
                       "debtor_name",
                       "debtor_address_line1",
                       "debtor_address_line2",
                       "debtor_postal_code",
                       "debtor_city",
                       "debtor_country",
                       "claim_type",
                       "claim_type_name",
                       "invoice_number",
                       "invoice_date",
                       "contract_subject",
                       "contract_date",
                       "currency",
                       "principal",
                       "interest_from",
                       "interest_points_above_base_rate",
                       "interest_periods",
                       "interest_to_date",
                       "dunning_costs"},
                      delim) +
           csv_record({std::to_string(r.case_id),
                       r.creditor.name,
                       r.creditor.legal_name,
                       r.creditor.address,
                       r.debtor_name,
                       a.line1,
                       a.line2,
                       a.postal_code,
                       a.city,
                       a.country,
                       std::to_string(d.claim_type),
                       court_claim_name(d.claim_type),
                       r.invoice_number,
                       date_or_empty(r.invoice_date),
                       r.contract_subject,
                       date_or_empty(r.contract_date),
                       currency_code(r.currency),
                       money(r.amounts.principal_minor),
                       date_or_empty(r.amounts.interest_from),
                       std::to_string(d.interest_points_above_base),
                       periods,
                       money(r.amounts.interest_minor),
                       money(r.amounts.fees_minor)},
                      delim);
}

} // namespace dunning::http
