// The member's promise-to-pay page: GET /promise/{token} shows the claim and a date field,
// POST records the promise. The signed token is the only credential (no cookies, no session),
// so a forged cross-site form gains nothing a link holder does not already have; the page is
// plain HTML, no external assets, every value escaped.
#include "core/html.hpp"
#include "core/limitation.hpp"
#include "core/money.hpp"
#include "core/promise.hpp"
#include "http/request_bodies.hpp"
#include "http/services.hpp"
#include "jobs/promise_link.hpp"
#include "store/cases.hpp"

#include <string>
#include <string_view>

namespace dunning::http {

namespace {

struct Texts {
    const char* lang;
    const char* title;
    const char* invoice;
    const char* amount;
    const char* explain;
    const char* date_label;
    const char* submit;
    const char* done;
    const char* already;
    const char* bad_date;
    const char* invalid;
    const char* expired;
    const char* closed;
};

const Texts de{"de",
               "Zahlungsziel nennen",
               "Rechnung",
               "Offener Betrag",
               "Bis zu welchem Tag werden Sie zahlen? Bis dahin erinnern wir Sie nicht weiter. "
               "Ist der Betrag danach noch offen, geht das Mahnverfahren weiter.",
               "Ich zahle bis zum",
               "Zusage senden",
               "Danke! Wir haben Ihre Zusage notiert und erinnern Sie bis einschließlich",
               "Für diese Rechnung haben Sie bereits eine Zahlung zugesagt, bis einschließlich",
               "Bitte wählen Sie einen Tag zwischen",
               "Dieser Link ist ungültig.",
               "Dieser Link ist abgelaufen.",
               "Für diese Rechnung ist keine Zusage mehr möglich (bezahlt, abgeschlossen oder "
               "in Klärung)."};
const Texts en{"en",
               "Promise to pay",
               "Invoice",
               "Amount due",
               "By which day will you pay? We will not remind you before then. If the amount "
               "is still open afterwards, the reminders continue.",
               "I will pay by",
               "Send my promise",
               "Thank you! We noted your promise and will not remind you up to and including",
               "You have already promised to pay this invoice, by",
               "Please pick a day between",
               "This link is not valid.",
               "This link has expired.",
               "This invoice no longer takes a promise (paid, closed or under review)."};

void send_page(httplib::Response& res, int status, const Texts& t, const std::string& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer"); // the token is in the address
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                   "frame-ancestors 'none'");
    res.set_content(
        std::string("<!DOCTYPE html>\n<html lang=\"") + t.lang +
            "\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
            t.title +
            "</title><style>body{font-family:Arial,Helvetica,sans-serif;max-width:32em;"
            "margin:0 auto;padding:1em;line-height:1.5;color:#1f2937}input,button{font-size:1em;"
            "padding:.5em;width:100%;box-sizing:border-box;margin:.25em "
            "0}</style></head><body><h1>" +
            t.title + "</h1>" + body + "</body></html>\n",
        "text/html; charset=utf-8");
}

void send_message(httplib::Response& res, int status, const Texts& t, const std::string& text) {
    send_page(res, status, t, "<p>" + html_escape(text) + "</p>");
}

const Texts& texts_for(const config::CreatorRegistry& c, std::string_view creator) {
    const auto found = c.find(creator);
    return found && found->locale == "en" ? en : de;
}

struct Claim {
    store::CaseRecord record;
    config::CreatorRegistry::Snapshot creator;
};

// The case the token names, or the refusal page written.
std::optional<Claim> claim_for(Services& m, const std::string& token, httplib::Response& res) {
    const auto checked =
        jobs::verify_promise_token(token, m.config.server.link_secret, m.clock.now());
    const auto creator_part = std::string_view(token).substr(0, token.find('.'));
    const Texts& t = texts_for(m.creators, creator_part);
    if (checked.check == jobs::TokenCheck::expired)
        return send_message(res, 410, t, t.expired), std::nullopt;
    const auto creator = m.creators.find(checked.token.creator);
    if (checked.check != jobs::TokenCheck::valid || !creator)
        return send_message(res, 400, t, t.invalid), std::nullopt;
    auto c = m.db.use([&](store::Connection& db) {
        return store::get_case(db, creator->id, checked.token.case_id);
    });
    if (!c) return send_message(res, 410, t, t.closed), std::nullopt;
    return Claim{std::move(*c), creator};
}

std::string day(Date d, const Texts& t) {
    return format_date(d, t.lang);
}

std::string summary(const Claim& c, const Texts& t) {
    const auto& i = c.record.state.invoice;
    return "<p>" + html_escape(c.creator->name) + "</p><p>" + t.invoice + ": <b>" +
           html_escape(i.number.empty() ? i.invoice_id : i.number) + "</b><br>" + t.amount +
           ": <b>" +
           html_escape(format_money(c.record.state.open_amount_minor(), i.currency, t.lang)) +
           "</b></p>";
}

// The claim, and the form, or why no promise can be made.
void show(Services& m, const Claim& c, httplib::Response& res, int status,
          const std::string& problem = "") {
    const Texts& t = texts_for(m.creators, c.creator->id);
    const auto& s = c.record.state;
    const auto refusal = promise_refusal(s);
    if (refusal == PromiseRefusal::closed) return send_message(res, 410, t, t.closed);
    if (refusal == PromiseRefusal::already_made)
        return send_page(res, 409, t,
                         summary(c, t) + "<p>" + t.already + " " +
                             html_escape(day(day_of(s.promise->until - std::chrono::days{1}), t)) +
                             ".</p>");
    const auto now = m.clock.now();
    const int max_days = m.engine.policy_for(c.creator->id).escalation.promise_max_days;
    const auto from = iso_date(earliest_promise_date(now));
    const auto to = iso_date(latest_promise_date(now, max_days));
    send_page(
        res, status, t,
        summary(c, t) + "<p>" + t.explain + "</p>" +
            (problem.empty() ? "" : "<p role=\"alert\"><b>" + html_escape(problem) + "</b></p>") +
            "<form method=\"post\"><label for=\"date\">" + t.date_label +
            "</label><input type=\"date\" id=\"date\" name=\"date\" required min=\"" + from +
            "\" max=\"" + to + "\" value=\"" + from + "\"><button type=\"submit\">" + t.submit +
            "</button></form>");
}

void post_promise(Services& m, const httplib::Request& req, httplib::Response& res) {
    auto c = claim_for(m, req.matches[1], res);
    if (!c) return;
    const Texts& t = texts_for(m.creators, c->creator->id);
    const auto date = read_promise_form(req.get_header_value("Content-Type"), req.body);
    const auto now = m.clock.now();
    const int max_days = m.engine.policy_for(c->creator->id).escalation.promise_max_days;
    const auto refusal = date ? promise_refusal(c->record.state, *date, now, max_days)
                              : promise_refusal(c->record.state);
    if (refusal != PromiseRefusal::none || !date) {
        if (refusal == PromiseRefusal::none || refusal == PromiseRefusal::bad_date)
            return show(m, *c, res, 400,
                        std::string(t.bad_date) + " " + day(earliest_promise_date(now), t) + " – " +
                            day(latest_promise_date(now, max_days), t) + ".");
        return show(m, *c, res, 400);
    }
    const bool made = m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        auto fresh = store::get_case(db, c->creator->id, c->record.id);
        if (!fresh || fresh->state.promise) return false;
        m.engine.run_case(db, *fresh, PromiseMade{*date});
        tx.commit();
        c->record = *fresh;
        return fresh->state.promise.has_value();
    });
    if (!made) return show(m, *c, res, 409);
    m.work.wake();
    send_page(res, 200, t,
              summary(*c, t) + "<p>" + t.done + " " + html_escape(day(*date, t)) + ".</p>");
}

} // namespace

void install_promise_routes(httplib::Server& http, Services& m) {
    http.Get(R"(/promise/([^/]+))", [&m](const httplib::Request& req, httplib::Response& res) {
        if (auto c = claim_for(m, req.matches[1], res)) show(m, *c, res, 200);
    });
    http.Post(R"(/promise/([^/]+))", [&m](const httplib::Request& req, httplib::Response& res) {
        post_promise(m, req, res);
    });
}

} // namespace dunning::http
