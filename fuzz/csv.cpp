// The CSV exports (a handover batch, court dunning data) built from whatever a member or creator
// typed into a name, an address or a note: quotes, delimiters, line breaks, formula starts,
// bytes that are not UTF-8. Read back with an RFC 4180 reader of its own, every record holds
// the fields it was built from, and no field starts a spreadsheet formula unless it starts "'".
#include "core/csv.hpp"
#include "check.hpp"
#include "core/court_dunning.hpp"
#include "core/handover.hpp"
#include "http/handover_views.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace dunning;
using dunning::fuzz::check;

namespace {

using Record = std::vector<std::string>;

// One field at `at`; moves `at` past it. Nothing when the text is not RFC 4180.
std::optional<std::string> read_field(std::string_view text, std::size_t& at, char d) {
    std::string out;
    if (at < text.size() && text[at] == '"') {
        for (++at;; ++at) {
            if (at >= text.size()) return std::nullopt; // an unclosed quote
            if (text[at] != '"') {
                out += text[at];
            } else if (at + 1 < text.size() && text[at + 1] == '"') {
                out += '"';
                ++at;
            } else {
                ++at;
                return out;
            }
        }
    }
    for (; at < text.size() && text[at] != d && text[at] != '\r'; ++at) {
        if (text[at] == '"' || text[at] == '\n') return std::nullopt; // only inside quotes
        out += text[at];
    }
    return out;
}

// Records, each ended by CRLF; nothing when the text is not RFC 4180.
std::optional<std::vector<Record>> read_csv(std::string_view text, char d) {
    std::vector<Record> records;
    std::size_t at = 0;
    while (at < text.size()) {
        Record record;
        for (;;) {
            auto field = read_field(text, at, d);
            if (!field) return std::nullopt;
            record.push_back(std::move(*field));
            if (at < text.size() && text[at] == d) {
                ++at;
                continue;
            }
            if (text.substr(at, 2) != "\r\n") return std::nullopt;
            at += 2;
            break;
        }
        records.push_back(std::move(record));
    }
    return records;
}

bool formula_start(std::string_view s) {
    return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                          s[0] == '\t' || s[0] == '\r');
}

// What a spreadsheet shows of a value: the value, with the "'" a formula start gets.
std::string shown(const std::string& value) {
    return formula_start(value) ? "'" + value : value;
}

std::vector<Record> read_back(const std::string& csv, char d, std::size_t records,
                              std::size_t fields) {
    const auto parsed = read_csv(csv, d);
    if (!parsed) fuzz::fail("an export is RFC 4180", csv);
    check(parsed->size() == records, "an export has one record per row and a header", csv);
    for (const auto& r : *parsed) {
        check(r.size() == fields, "every record has every column", csv);
        for (const auto& f : r)
            check(!formula_start(f), "no field starts a formula", f);
    }
    return *parsed;
}

// Columns that hold a typed value as it was typed: (column, value).
using Typed = std::vector<std::pair<std::size_t, const std::string*>>;

void check_typed(const Record& record, const Typed& typed) {
    for (const auto& [column, value] : typed)
        check(record[column] == shown(*value), "a field reads back as it was written",
              "column " + std::to_string(column) + ": " + record[column]);
}

Date any_day(FuzzedDataProvider& in) {
    return Date(std::chrono::sys_days(std::chrono::days(in.ConsumeIntegralInRange(0, 40000))));
}

std::optional<Date> some_date(FuzzedDataProvider& in) {
    if (!in.ConsumeBool()) return std::nullopt;
    return any_day(in);
}

// Names, addresses and notes from the input; amounts as a ledger may hold them.
HandoverRow some_row(FuzzedDataProvider& in) {
    const auto text = [&] { return in.ConsumeRandomLengthString(200); };
    const auto amount = [&] {
        return in.ConsumeIntegralInRange<std::int64_t>(-1'000'000'000'000, 1'000'000'000'000);
    };
    HandoverRow r;
    r.case_id = in.ConsumeIntegralInRange<std::int64_t>(1, 1'000'000'000);
    r.status = text();
    r.creditor = {text(), text(), text()};
    r.debtor_id = text(), r.debtor_name = text(), r.debtor_email = text();
    r.debtor_address = {text(), text(), text(), text(), text(), text()};
    r.invoice_id = text(), r.invoice_number = text();
    r.invoice_date = some_date(in), r.due_date = some_date(in);
    r.currency = in.ConsumeBool() ? "eur" : text();
    r.amounts = {amount(), amount(), amount(), some_date(in)};
    r.collected_minor = amount();
    for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n)
        r.reminders.push_back(
            {text(), from_unix(in.ConsumeIntegralInRange<std::int64_t>(0, 4'000'000'000)), text()});
    r.contract_subject = text();
    r.contract_date = some_date(in);
    r.agency_reference = text();
    return r;
}

void check_handover_csv(FuzzedDataProvider& in, char d) {
    std::vector<HandoverRow> rows;
    for (int n = in.ConsumeIntegralInRange(1, 3); n > 0; --n)
        rows.push_back(some_row(in));
    const auto records = read_back(handover_csv(rows, d), d, rows.size() + 1, 29);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const auto& a = r.debtor_address;
        check_typed(records[i + 1], {{1, &r.status},
                                     {2, &r.creditor.name},
                                     {3, &r.creditor.legal_name},
                                     {4, &r.creditor.address},
                                     {5, &r.debtor_id},
                                     {6, &r.debtor_name},
                                     {7, &a.line1},
                                     {8, &a.line2},
                                     {9, &a.postal_code},
                                     {10, &a.city},
                                     {11, &a.state},
                                     {12, &a.country},
                                     {13, &r.debtor_email},
                                     {14, &r.invoice_id},
                                     {15, &r.invoice_number},
                                     {25, &r.contract_subject},
                                     {28, &r.agency_reference}});
        check(records[i + 1][0] == std::to_string(r.case_id), "the case column is the case id");
    }
}

void check_court_csv(FuzzedDataProvider& in, char d) {
    CourtDunningData data;
    data.claim = some_row(in);
    data.claim_type = in.ConsumeIntegralInRange(0, 100);
    data.interest_points_above_base = in.ConsumeBool() ? 9 : 5;
    for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n)
        data.periods.push_back(
            {any_day(in), any_day(in), 0, in.ConsumeFloatingPointInRange(-10.0, 30.0), 0});
    const auto records = read_back(http::court_dunning_csv(data, d), d, 2, 23);
    const auto& r = data.claim;
    const auto& a = r.debtor_address;
    check_typed(records[1], {{1, &r.creditor.name},
                             {2, &r.creditor.legal_name},
                             {3, &r.creditor.address},
                             {4, &r.debtor_name},
                             {5, &a.line1},
                             {6, &a.line2},
                             {7, &a.postal_code},
                             {8, &a.city},
                             {9, &a.country},
                             {12, &r.invoice_number},
                             {14, &r.contract_subject}});
}

// Any fields at all, through the record writer the exports share.
void check_record(FuzzedDataProvider& in, char d) {
    Record fields;
    for (int n = in.ConsumeIntegralInRange(1, 8); n > 0; --n)
        fields.push_back(in.ConsumeRandomLengthString(500));
    const auto records = read_back(csv_record(fields, d), d, 1, fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i)
        check(records[0][i] == shown(fields[i]), "a field reads back as it was written",
              records[0][i]);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const char d = in.ConsumeBool() ? ';' : ',';
    switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
        check_record(in, d);
        break;
    case 1:
        check_handover_csv(in, d);
        break;
    default:
        check_court_csv(in, d);
        break;
    }
    return 0;
}
