#pragma once
// A creator just connected may already have invoices that failed before the module knew it: each
// open invoice that is past due opens its case as if its invoice.payment_failed had arrived,
// through the inbox like any event (marked as imported: event id evt_import_<invoice>, source
// "import"). The event id makes a rerun add nothing.
#include "core/time.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>

namespace dunning::jobs {

struct ImportReport {
    int pages = 0;
    std::int64_t open = 0;     // open invoices listed
    std::int64_t past_due = 0; // of them past due
    std::int64_t inserted = 0; // new to the inbox
    std::int64_t already = 0;  // imported before
    std::string error;         // Stripe's error after the retries; nothing was stored then
    bool ok() const { return error.empty(); }
};

// Past due: its due_date has passed (send_invoice), or Stripe's automatic charge was attempted
// and failed (charge_automatically with attempt_count > 0). `invoice_json` is Stripe's invoice.
bool past_due(const std::string& invoice_json, Timestamp now);

// The event the inbox takes for such an invoice; `account` is the creator's Connect account or "".
std::string imported_failure_event(const std::string& invoice_json, const std::string& account,
                                   Timestamp now);

// Lists the creator's open invoices (paged) and stores an imported invoice.payment_failed for each
// one past due. The worker (or the caller) processes them.
ImportReport import_past_due(store::Connection& db, StripeGateway& stripe,
                             const std::string& creator, Timestamp now);

} // namespace dunning::jobs
