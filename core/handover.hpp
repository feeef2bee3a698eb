#pragma once
// The rows of a handover export to a collection agency with what an agency needs to take a claim on
// (§ 13a RDG: creditor, debtor, the claim's ground and date, principal, fees and interest apart,
// the reminders sent as evidence). Pure.
#include "core/case.hpp"
#include "core/collection.hpp"
#include "core/open_items.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dunning {

struct Creditor {
    std::string name;       // the creator's name
    std::string legal_name; // [[creators]] legal_name, may be empty
    std::string address;    // [[creators]] address, may be empty
};

// A ladder email that went out: the evidence that the debtor was reminded.
struct ReminderSent {
    std::string message; // reminder, formal_reminder, final_notice
    Timestamp at{};
    std::string message_id; // "<case-1-reminder-1@example.com>"
    bool operator==(const ReminderSent&) const = default;
};

struct HandoverRow {
    std::int64_t case_id = 0;
    std::string status;
    Creditor creditor;
    std::string debtor_id, debtor_name, debtor_email;
    PostalAddress debtor_address;
    std::string invoice_id, invoice_number;
    std::optional<Date> invoice_date, due_date;
    std::string currency;
    ClaimAmounts amounts; // on the export date
    std::int64_t collected_minor = 0;
    std::vector<ReminderSent> reminders;
    std::string contract_subject;      // the invoice's line descriptions, else its products
    std::optional<Date> contract_date; // the first line's period start, else the invoice date
    std::string agency_reference;
};

// The row of a case on `as_of`. The due date is the invoice's, else (charged automatically, due
// at once) its date; the invoice date is its creation, else the first failure.
HandoverRow handover_row(std::int64_t case_id, const CaseState& s, const Creditor& creditor,
                         const ClaimCharges& charges, std::vector<ReminderSent> reminders,
                         Date as_of);

// "EUR" for Stripe's "eur": the ISO code as agencies and courts write it.
std::string currency_code(std::string_view currency);

// RFC 4180, formula-leading fields neutralised (core/csv.hpp); amounts as decimal strings in the
// currency, dates as YYYY-MM-DD, reminders as "timestamp Message-ID" joined by " | ".
std::string handover_csv(const std::vector<HandoverRow>& rows, char delimiter = ',');

} // namespace dunning
