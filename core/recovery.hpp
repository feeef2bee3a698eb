#pragma once
// What dunning brought back: a creator's cases summed per currency over a period of first
// failures, by month of failure (cohorts), by month of recovery, by what recovered the money,
// by status and by stage. Pure: the summary API and the dashboard's overview show this one
// computation.
#include "core/case.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dunning {

namespace paid_reason {
inline constexpr const char* marked_paid = "marked_paid"; // the creator's mark-paid command
} // namespace paid_reason

struct Tally {
    int count = 0;
    std::int64_t minor = 0; // minor units of the currency
    void add(std::int64_t amount) {
        ++count;
        minor += amount;
    }
    bool operator==(const Tally&) const = default;
};

struct CurrencyFigures {
    Tally failed;      // every case whose first failure is in the period: the invoice's amount
    Tally recovered;   // of those, paid: the invoice's amount
    Tally open;        // of those, still outstanding: the open amount
    Tally written_off; // of those, written off or uncollectible: the open amount
    bool operator==(const CurrencyFigures&) const = default;
};

// What recovered a paid case, first match: "marked_paid" (the creator's word), "collection" (paid
// to a collection agency), "promise" (paid after a promise to pay), "retry" (a charge of the
// module's succeeded), "after_final_notice", "stage_1" … (paid after that reminder stage, the
// newest sent), "before_reminder" (paid before any reminder went out).
std::string recovery_source(const CaseState& s);

struct RecoverySummary {
    std::map<std::string, CurrencyFigures> by_currency;
    // "YYYY-MM" of the first failure → currency → figures of that cohort.
    std::map<std::string, std::map<std::string, CurrencyFigures>> cohorts;
    // "YYYY-MM" of the payment → currency → what was recovered then.
    std::map<std::string, std::map<std::string, Tally>> recovered_by_month;
    // recovery_source → currency → what it recovered.
    std::map<std::string, std::map<std::string, Tally>> recovered_by_source;
    std::map<std::string, int> by_status;    // status_of → cases
    std::map<int, int> outstanding_by_stage; // reminder stage sent → outstanding cases
};

// Cases whose first failure is in [from, to); others are left out.
RecoverySummary summarize_recovery(const std::vector<const CaseState*>& cases, Timestamp from,
                                   Timestamp to);

// "YYYY-MM" of a time (UTC).
std::string year_month(Timestamp t);

} // namespace dunning
