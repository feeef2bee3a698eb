#pragma once
// What a soak run left behind, read from the fake Stripe, the SMTP mailbox, the platform
// receiver, the API and (once the service has stopped) the database.
#include "plugin/soak_run.hpp"

#include "support/store_queries.hpp"

#include <regex>

namespace dunning::testing {

namespace soak_detail {

inline std::string header(const std::string& mime, const std::string& name) {
    const auto at = mime.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const auto from = at + name.size() + 4;
    return mime.substr(from, mime.find("\r\n", from) - from);
}

} // namespace soak_detail

inline void SoakRun::observe(SoakOutcome& out) {
    for (const auto& m : soak_members()) {
        httplib::Client cli("127.0.0.1", service_.port());
        const std::string course = m.creator == "alpha" ? "course-a" : "course-b";
        auto r = get_with_token(
            cli, "/v1/creators/" + m.creator + "/access?member=" + m.customer + "&course=" + course,
            m.creator == "alpha" ? alpha_token : beta_token);
        out.access[m.customer] =
            r && r->status == 200 ? nlohmann::json::parse(r->body).value("level", "?") : "?";
        out.executions[m.invoice] = stripe_.pay_executions(m.invoice);
        out.charges += static_cast<std::size_t>(out.executions[m.invoice]);
        out.invoice_status[m.invoice] = stripe_.invoice(m.invoice).status;
        for (const auto& req : stripe_.requests_to("/v1/invoices/" + m.invoice + "/pay"))
            if (!req.idempotent_replay && req.headers.contains("Idempotency-Key"))
                out.keys[m.invoice].insert(req.headers.at("Idempotency-Key"));
    }
    if (service_.stop() != 0) error = "the service did not stop cleanly";

    auto db = service_.store();
    std::map<std::string, std::string> inbox;
    for (const auto& row : query_rows(*db, "SELECT event_id, state FROM inbox"))
        inbox[row[0]] = row[1];
    for (const auto& [id, state] : inbox) {
        out.pending_events += state == "pending" ? 1 : 0;
        out.poison_events += state == "poison" ? 1 : 0;
    }
    const auto stripe_events = stripe_.event_ids();
    out.stripe_events = stripe_events.size();
    std::vector<std::string> acked = stripe_events; // all delivered: the fake's queue is empty
    {
        std::lock_guard lock(load_mutex_);
        out.load_events = load_acked_.size();
        acked.insert(acked.end(), load_acked_.begin(), load_acked_.end());
    }
    for (const auto& id : acked)
        if (!inbox.contains(id)) out.lost_events.push_back(id);

    // Message-IDs are stable per case and stage; case numbers may differ between runs.
    const std::regex case_number("case-[0-9]+-");
    std::set<std::string> seen;
    for (const auto& mime : smtp_.messages()) {
        const auto id = soak_detail::header(mime, "Message-ID");
        const auto to = soak_detail::header(mime, "To");
        if (seen.insert(id).second) {
            out.emails[to].push_back(std::regex_replace(id, case_number, "case-"));
        } else {
            out.duplicate_emails.push_back(id);
            out.repeats.push_back(out.mail_log.size());
        }
        out.mail_log.emplace_back(to, id);
        ++out.emails_received;
    }

    std::map<std::string, std::vector<std::string>> ids; // member → notification ids, first seen
    for (const auto& n : host_.notifications()) {
        ++out.notifications_received;
        const std::string member = n.value("member", "");
        auto& order = ids[member];
        const auto at = std::find(order.begin(), order.end(), n.value("id", ""));
        if (at == order.end()) {
            order.push_back(n.value("id", ""));
            out.notifications[member].push_back(n.value("type", ""));
        } else if (at + 1 != order.end() &&
                   std::find(out.out_of_order.begin(), out.out_of_order.end(), member) ==
                       out.out_of_order.end()) {
            out.out_of_order.push_back(member); // an older one again after a newer one
        }
    }
}

} // namespace dunning::testing
