#pragma once
// The figures of each case that the summary and the open-items list add up and filter on (status,
// amounts, stage, month of failure and of payment, what recovered it, when the claim arose…),
// kept in their own table beside the case's JSON and written with it, so that a creator's summary
// is a GROUP BY over indexed columns and an open-items page decodes only the cases it shows.
#include "core/calendar.hpp"
#include "core/case.hpp"
#include "core/open_items.hpp"
#include "core/recovery.hpp"

#include "store/database.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

// One case's row of case_figures, as computed from its state (absent values are NULL).
struct CaseFigureRow {
    std::string creator_id;
    std::string customer_id;
    std::optional<std::int64_t> failed_at; // unix; only a counted case (failed, opened, a status)
    std::string failed_month;              // "YYYY-MM" of failed_at, else empty
    std::string status;
    std::string currency;
    std::int64_t amount_due = 0;
    std::int64_t open_amount = 0;
    int stage = 0;
    std::string paid_month;                    // "YYYY-MM" of a paid case's payment, else empty
    std::string recovered_by;                  // recovery_source of a paid case, else empty
    std::optional<std::int64_t> arose_on;      // day number
    std::optional<std::int64_t> limitation_on; // day number
    std::optional<std::int64_t> anchor_at;     // unix
    std::string payment_method;
    std::string products; // ' a b '
    bool operator==(const CaseFigureRow&) const = default;
};
// The figures are a function of the state alone (and so of its JSON: what the state's JSON
// carries gives the same figures, tests/store/case_figures_test.cpp).
CaseFigureRow case_figures_of(const CaseState& s);

// Writes the case's figures; a row that is already as it should be is left as it is. save_case
// calls it for every case it saves, unless the row it replaced is known to carry the same
// figures.
void save_case_figures(Connection& db, std::int64_t case_id, const CaseFigureRow& f);
void save_case_figures(Connection& db, std::int64_t case_id, const CaseState& s);
// Writes the figures of every stored case that has none (the cases stored before the table
// existed); the number written.
std::int64_t fill_missing_case_figures(Connection& db);

// Cases of one kind in a creator's summary: those whose first failure is in the period, grouped
// by everything the summary tells apart.
struct RecoveryGroup {
    std::string currency;
    std::string failed_month; // "YYYY-MM" of the first failure
    std::string status;       // status_of
    int stage = 0;            // the newest reminder stage sent
    std::string paid_month;   // "YYYY-MM" of the payment; empty when not paid or not known
    std::string recovered_by; // recovery_source of a paid case, else empty
    std::int64_t count = 0;
    std::int64_t amount_due = 0;  // summed over the group
    std::int64_t open_amount = 0; // summed over the group
    bool outstanding() const;     // claim_outstanding: open, paused, …, disputed
};
// Cases of the creator first failed in [from_unix, to_unix).
std::vector<RecoveryGroup> recovery_groups(Connection& db, const std::string& creator,
                                           std::int64_t from_unix, std::int64_t to_unix);

// summarize_recovery's answer for the cases of the creator first failed in [from_unix, to_unix),
// from recovery_groups.
RecoverySummary recovery_summary(Connection& db, const std::string& creator, std::int64_t from_unix,
                                 std::int64_t to_unix);

// The creator's outstanding claims that match `filter` on `today` (the age bucket and the days to
// the limitation date count from it), in `order`: the ids of the page [offset, offset + limit).
std::vector<std::int64_t> open_item_ids(Connection& db, const std::string& creator,
                                        const OpenItemFilter& filter, Date today,
                                        OpenItemOrder order, bool descending, std::int64_t limit,
                                        std::int64_t offset);

// The outstanding claims that match, grouped by what their fees and interest depend on.
struct OpenItemGroup {
    std::string currency;
    int stage = 0;
    // The first day of default interest (interest_from), when `first_stage_after` was given and
    // the case's failure is known.
    std::optional<Date> interest_from;
    std::int64_t principal = 0; // each claim's (a sum when `first_stage_after` was not given)
    std::int64_t count = 0;
};
// Without `first_stage_after` (no interest to count) one group per currency and stage, the
// principal summed; with it, one per currency, stage, first day of interest and principal.
std::vector<OpenItemGroup> open_item_groups(Connection& db, const std::string& creator,
                                            const OpenItemFilter& filter, Date today,
                                            std::optional<std::chrono::seconds> first_stage_after);

// totals_by_currency of the claims that match, with their fees and interest on `today`.
std::map<std::string, CurrencyTotals> open_item_totals(Connection& db, const std::string& creator,
                                                       const OpenItemFilter& filter, Date today,
                                                       const ClaimCharges& charges);

} // namespace dunning::store
