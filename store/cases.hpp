#pragma once
// Cases in the store: one row per (creator, invoice), the CaseState kept as JSON beside the
// columns the queries filter on.
#include "core/case.hpp"

#include "store/database.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {

struct CaseRecord {
    std::int64_t id = 0; // 0 until saved
    CaseState state;
};

std::optional<CaseRecord> find_case_by_invoice(Connection& db, const std::string& creator,
                                               const std::string& invoice_id);
// By payment intent first, then by charge; empty ids are skipped.
std::optional<CaseRecord> find_case_by_payment(Connection& db, const std::string& creator,
                                               const std::string& payment_intent_id,
                                               const std::string& charge_id);
std::optional<CaseRecord> get_case(Connection& db, const std::string& creator, std::int64_t id);

std::optional<CaseRecord> load_case(Connection& db, std::int64_t id);
// Cases of a member that are still being worked on (open, paused, objected, escalated,
// handover_pending, handed_over).
std::vector<std::int64_t> active_cases_of_customer(Connection& db, const std::string& creator,
                                                   const std::string& customer_id);
// Every case of a creator still being worked on (as above), by id: found by index.
std::vector<std::int64_t> active_cases_of_creator(Connection& db, const std::string& creator);
// The cases of a member that can restrict access: open, paused, objected, escalated,
// handover_pending, handed_over, uncollectible, written off (core's claim_of tells a forgiven one
// from one too small to pursue), or disputed (a paid invoice whose dispute was lost). Found by
// index (cases_by_customer_status): paid and voided cases are not read. By id, oldest first.
// `except_id` leaves one case out (the caller has it in hand).
std::vector<CaseRecord> cases_of_customer(Connection& db, const std::string& creator,
                                          const std::string& customer_id,
                                          std::int64_t except_id = 0);
// The same cases, by id as well, each handed to `visit` as it is read, without a copy: the
// state is the connection's and valid only during the call. `visit` may run other statements on
// `db` but must not read cases there.
void visit_cases_of_customer(Connection& db, const std::string& creator,
                             const std::string& customer_id, std::int64_t except_id,
                             const std::function<void(std::int64_t, const CaseState&)>& visit);
// The same without the quiet ones (core/access.hpp, quiet_claim; cases.access_quiet), by id.
void visit_loud_cases_of_customer(Connection& db, const std::string& creator,
                                  const std::string& customer_id, std::int64_t except_id,
                                  const std::function<void(std::int64_t, const CaseState&)>& visit);
// The member's quiet cases with an id above `after_id`, oldest first, at most `limit` (a range of
// the index cases_open_by_customer). `except_id` leaves one case out.
std::vector<CaseRecord> quiet_cases_of_customer(Connection& db, const std::string& creator,
                                                const std::string& customer_id,
                                                std::int64_t except_id, std::int64_t after_id,
                                                int limit);
// Whether the member has a case other than `except_id`, of any status, paid and never-failed
// invoices included (one search of the member's cases that stops at the first). A member with no
// other invoice on record (a new member's first failed payment) has none, and their access needs
// no search of their other cases.
bool customer_has_other_cases(Connection& db, const std::string& creator,
                              const std::string& customer_id, std::int64_t except_id);
// Whether a case's status is one of those cases_of_customer returns.
bool may_restrict_access(const CaseState& s);
// Every invoice known of a member (paid ones too, with the cases), by id: an instalment plan's
// history. Found by index (cases_by_customer_status).
std::vector<CaseRecord> invoices_of_customer(Connection& db, const std::string& creator,
                                             const std::string& customer_id);
// Cases whose timer is due at `now`, oldest first, found by index.
std::vector<std::int64_t> due_cases(Connection& db, std::int64_t now_unix, int limit);
// The same with each case's member, whose lock a keyed transaction takes before the case's timer.
struct DueCase {
    std::int64_t id;
    std::string creator_id;
    std::string customer_id;
};
std::vector<DueCase> due_cases_with_members(Connection& db, std::int64_t now_unix, int limit);

// Inserts or updates; sets record.id on insert.
void save_case(Connection& db, CaseRecord& record, std::int64_t now_unix);
void link_case_event(Connection& db, std::int64_t case_id, std::int64_t inbox_id);

enum class StatusFilter { open, closed, all };

struct CaseQuery {
    std::string creator;
    StatusFilter status = StatusFilter::open;
    int limit = 100;
    std::int64_t starting_after = 0; // a case id: return cases with larger ids
};
std::vector<CaseRecord> list_cases(Connection& db, const CaseQuery& q);

// A creator's outstanding claims (open, paused, objected, escalated, handover_pending,
// handed_over, disputed), by id; only `member`'s when it is not empty. Found by index
// (cases_by_status, cases_by_customer_status).
std::vector<CaseRecord> outstanding_cases(Connection& db, const std::string& creator,
                                          const std::string& member = "");

struct CaseEventRef {
    std::string event_id;
    std::string type;
    std::int64_t created = 0;        // Stripe's, unix seconds
    std::int64_t received_at_ms = 0; // ours
    std::string source;              // connect | direct | replay | backfill | import
};
std::vector<CaseEventRef> case_events(Connection& db, std::int64_t case_id);

} // namespace dunning::store
