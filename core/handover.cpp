#include "core/handover.hpp"

#include "core/csv.hpp"
#include "core/limitation.hpp"
#include "core/money.hpp"

namespace dunning {

namespace {

std::optional<Date> day_of(const std::optional<Timestamp>& t) {
    if (!t) return std::nullopt;
    return Date(std::chrono::floor<std::chrono::days>(*t));
}

std::string date_or_empty(const std::optional<Date>& d) {
    return d ? iso_date(*d) : "";
}

} // namespace

std::string currency_code(std::string_view currency) {
    std::string out(currency);
    for (auto& ch : out)
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    return out;
}

HandoverRow handover_row(std::int64_t case_id, const CaseState& s, const Creditor& creditor,
                         const ClaimCharges& charges, std::vector<ReminderSent> reminders,
                         Date as_of) {
    const auto& i = s.invoice;
    HandoverRow row;
    row.case_id = case_id;
    row.status = status_of(s);
    row.creditor = creditor;
    row.debtor_id = i.customer_id;
    row.debtor_name = i.customer_name;
    row.debtor_email = i.customer_email;
    row.debtor_address = i.customer_address;
    row.invoice_id = i.invoice_id;
    row.invoice_number = i.number;
    row.invoice_date = day_of(i.created ? i.created : s.opened_at);
    row.due_date = i.due_date ? day_of(i.due_date) : row.invoice_date;
    row.currency = i.currency;
    row.amounts = claim_amounts(s, charges, as_of);
    row.collected_minor = s.collection.collected_minor;
    row.reminders = std::move(reminders);
    row.contract_subject = i.description;
    for (const auto& p : i.products)
        if (i.description.empty())
            row.contract_subject += (row.contract_subject.empty() ? "" : ", ") + p;
    row.contract_date = i.period_start ? day_of(i.period_start) : row.invoice_date;
    row.agency_reference = s.collection.agency_reference;
    return row;
}

std::string handover_csv(const std::vector<HandoverRow>& rows, char d) {
    std::string out = csv_record({"case",
                                  "status",
                                  "creditor_name",
                                  "creditor_legal_name",
                                  "creditor_address",
                                  "debtor_id",
                                  "debtor_name",
                                  "debtor_address_line1",
                                  "debtor_address_line2",
                                  "debtor_postal_code",
                                  "debtor_city",
                                  "debtor_state",
                                  "debtor_country",
                                  "debtor_email",
                                  "invoice",
                                  "invoice_number",
                                  "invoice_date",
                                  "due_date",
                                  "currency",
                                  "principal",
                                  "fees",
                                  "interest",
                                  "interest_from",
                                  "total",
                                  "collected",
                                  "contract_subject",
                                  "contract_date",
                                  "reminders",
                                  "agency_reference"},
                                 d);
    for (const auto& r : rows) {
        std::string reminders;
        for (const auto& m : r.reminders)
            reminders += (reminders.empty() ? "" : " | ") + iso8601(m.at) + " " + m.message_id;
        const auto& a = r.debtor_address;
        const auto money = [&](std::int64_t minor) { return decimal_amount(minor, r.currency); };
        out += csv_record({std::to_string(r.case_id),
                           r.status,
                           r.creditor.name,
                           r.creditor.legal_name,
                           r.creditor.address,
                           r.debtor_id,
                           r.debtor_name,
                           a.line1,
                           a.line2,
                           a.postal_code,
                           a.city,
                           a.state,
                           a.country,
                           r.debtor_email,
                           r.invoice_id,
                           r.invoice_number,
                           date_or_empty(r.invoice_date),
                           date_or_empty(r.due_date),
                           currency_code(r.currency),
                           money(r.amounts.principal_minor),
                           money(r.amounts.fees_minor),
                           money(r.amounts.interest_minor),
                           date_or_empty(r.amounts.interest_from),
                           money(r.amounts.total_minor()),
                           money(r.collected_minor),
                           r.contract_subject,
                           date_or_empty(r.contract_date),
                           reminders,
                           r.agency_reference},
                          d);
    }
    return out;
}

} // namespace dunning
