#include "jobs/import_past_due.hpp"

#include "jobs/backfill.hpp"
#include "store/inbox.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace dunning::jobs {

namespace {

using nlohmann::json;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A string member, "" when it is absent or of another type: an invoice of the wrong shape is
// never taken for a past-due one.
std::string text(const json& in, const char* key) {
    const auto found = in.find(key);
    return found != in.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool past_due(const json& in, Timestamp now) {
    if (!in.is_object() || !text(in, "id").starts_with("in_") || text(in, "status") != "open")
        return false;
    const auto due = in.find("due_date");
    if (due != in.end() && due->is_number_integer() && due->get<std::int64_t>() < to_unix(now))
        return true;
    const auto attempts = in.find("attempt_count");
    return text(in, "collection_method") == "charge_automatically" && attempts != in.end() &&
           attempts->is_number_integer() && attempts->get<std::int64_t>() > 0;
}

json imported_event(const json& invoice, const std::string& account, Timestamp now) {
    const auto livemode = invoice.find("livemode");
    json e = {
        {"id", "evt_import_" + text(invoice, "id")},
        {"object", "event"},
        {"type", "invoice.payment_failed"},
        {"created", to_unix(now)},
        {"livemode", livemode != invoice.end() && livemode->is_boolean() && livemode->get<bool>()},
        {"data", {{"object", invoice}}}};
    if (!account.empty()) e["account"] = account;
    return e;
}

// Every open invoice, newest first; false (with the error in the report) when Stripe fails.
bool list_open(StripeGateway& stripe, const retry::StripeAuth& auth, ImportReport& r,
               std::vector<json>& invoices) {
    std::string after;
    for (;;) {
        const auto answer = stripe.client().list_invoices(auth, "open", after, 100);
        const auto next = read_list_page(answer, "/v1/invoices", after, invoices);
        if (!next.ok()) {
            r.error = next.error();
            return false;
        }
        ++r.pages;
        if (next.value().empty()) return true;
        after = next.value();
    }
}

} // namespace

bool past_due(const std::string& invoice_json, Timestamp now) {
    const auto in = json::parse(invoice_json, nullptr, false);
    return in.is_object() && past_due(in, now);
}

std::string imported_failure_event(const std::string& invoice_json, const std::string& account,
                                   Timestamp now) {
    const auto invoice = json::parse(invoice_json, nullptr, false);
    return imported_event(invoice.is_object() ? invoice : json::object(), account, now).dump();
}

ImportReport import_past_due(store::Connection& db, StripeGateway& stripe,
                             const std::string& creator, Timestamp now) {
    ImportReport r;
    const auto auth = stripe.auth_for(creator);
    if (!auth) {
        r.error = "creator " + creator + " has no Stripe key";
        return r;
    }
    std::vector<json> invoices;
    if (!list_open(stripe, *auth, r, invoices)) return r;
    store::Transaction tx(db);
    for (auto it = invoices.rbegin(); it != invoices.rend(); ++it) { // oldest first
        ++r.open;
        if (!past_due(*it, now)) continue;
        ++r.past_due;
        const json e = imported_event(*it, auth->account, now);
        store::InboxRow row{creator,       e["id"],  "invoice.payment_failed",
                            auth->account, "import", e.dump(),
                            to_unix(now),  wall_ms()};
        ++(store::insert_inbox_row(db, row) == store::AppendOutcome::inserted ? r.inserted
                                                                              : r.already);
    }
    tx.commit();
    return r;
}

} // namespace dunning::jobs
