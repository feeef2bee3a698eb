// The dashboard's words in German and English, by key (templates use them as {{t.key}}).
#include "http/dashboard.hpp"

namespace dunning::http {

namespace {

using nlohmann::json;

// key → {de, en}
const std::vector<std::tuple<const char*, const char*, const char*>> words = {
    {"dashboard", "Übersicht", "Dashboard"},
    {"nav_overview", "Übersicht", "Overview"},
    {"nav_open_items", "Offene Posten", "Open items"},
    {"sign_out", "Abmelden", "Sign out"},
    {"language", "English", "Deutsch"},
    {"other_lang", "en", "de"},
    {"period", "Zeitraum (erste Fehlzahlung)", "Period (first failure)"},
    {"from", "von", "from"},
    {"to", "bis", "to"},
    {"show", "Anzeigen", "Show"},
    {"currency", "Währung", "Currency"},
    {"failed", "Fehlgeschlagen", "Failed"},
    {"recovered", "Zurückgeholt", "Recovered"},
    {"open", "Offen", "Open"},
    {"written_off", "Abgeschrieben", "Written off"},
    {"recovery_rate", "Quote", "Recovery rate"},
    {"cases", "Fälle", "cases"},
    {"cohorts", "Quote nach Monat der Fehlzahlung", "Recovery rate by month of failure"},
    {"month", "Monat", "Month"},
    {"recovered_over_time", "Zurückgeholt nach Monat", "Recovered over time"},
    {"recovered_by", "Was die Zahlung brachte", "What recovered it"},
    {"source", "Auslöser", "Source"},
    {"cases_by_status", "Fälle nach Status", "Cases by status"},
    {"outstanding_by_stage", "Offene Fälle nach Mahnstufe", "Outstanding cases by stage"},
    {"stage", "Stufe", "Stage"},
    {"status", "Status", "Status"},
    {"count", "Anzahl", "Count"},
    {"amount", "Betrag", "Amount"},
    {"locked_now", "Jetzt gesperrte Mitglieder", "Members locked now"},
    {"member", "Mitglied", "Member"},
    {"product", "Produkt", "Product"},
    {"level", "Zugang", "Access"},
    {"since", "seit", "since"},
    {"case", "Fall", "Case"},
    {"nothing", "Keine.", "None."},
    {"src_marked_paid", "als bezahlt markiert", "marked paid"},
    {"src_collection", "Inkasso", "collection agency"},
    {"src_promise", "Zahlungszusage", "promise to pay"},
    {"src_retry", "erneuter Einzug", "retry"},
    {"src_after_final_notice", "nach der letzten Mahnung", "after the final notice"},
    {"src_stage_1", "nach der Zahlungserinnerung", "after the reminder"},
    {"src_stage_2", "nach der 1. Mahnung", "after the formal reminder"},
    {"src_stage_3", "nach der letzten Mahnung", "after the final notice"},
    {"src_before_reminder", "vor jeder Erinnerung", "before any reminder"},
    {"filters", "Filter", "Filters"},
    {"any", "alle", "any"},
    {"age", "Alter (Tage)", "Age (days)"},
    {"amount_gte", "Betrag ab (Cent)", "Amount from (minor units)"},
    {"amount_lte", "Betrag bis (Cent)", "Amount up to (minor units)"},
    {"payment_method", "Zahlart", "Payment method"},
    {"apply", "Filtern", "Filter"},
    {"download_csv", "CSV herunterladen", "Download CSV"},
    {"totals", "Summen", "Totals"},
    {"principal", "Hauptforderung", "Principal"},
    {"fees", "Gebühren", "Fees"},
    {"interest", "Zinsen", "Interest"},
    {"total", "Gesamt", "Total"},
    {"arose_on", "entstanden", "arose on"},
    {"limitation_date", "Verjährung", "Limitation"},
    {"select", "Auswahl", "Select"},
    {"action", "Aktion", "Action"},
    {"note", "Notiz", "Note"},
    {"run_action", "Ausführen", "Apply"},
    {"act_pause", "Pausieren", "Pause"},
    {"act_resume", "Fortsetzen", "Resume"},
    {"act_mark-paid", "Als bezahlt markieren", "Mark paid"},
    {"act_write-off", "Abschreiben", "Write off"},
    {"act_escalate", "Eskalieren", "Escalate"},
    {"act_hand-over", "An Inkasso übergeben", "Hand over to an agency"},
    {"agency", "Inkassobüro (bei Übergabe)", "Agency (hand over)"},
    {"no_open_items", "Keine offenen Posten.", "No open items."},
    {"timeline", "Verlauf", "Timeline"},
    {"invoice", "Rechnung", "Invoice"},
    {"decline", "Ablehnung", "Decline"},
    {"attempts", "Einzugsversuche", "Charge attempts"},
    {"events", "Stripe-Ereignisse", "Stripe events"},
    {"actions", "Aktionen (E-Mails, Einzüge, Benachrichtigungen)",
     "Actions (emails, charges, notifications)"},
    {"at", "Zeit", "Time"},
    {"what", "Was", "What"},
    {"detail", "Details", "Detail"},
    {"state", "Zustand", "State"},
    {"login_link_invalid",
     "Dieser Anmeldelink ist ungültig, schon benutzt oder abgelaufen. Bitte fordern Sie einen "
     "neuen an.",
     "This login link is not valid, was used already or has expired. Please ask for a new one."},
    {"sign_in_needed", "Bitte melden Sie sich über einen Anmeldelink an.",
     "Please sign in through a login link."},
    {"csrf_refused", "Dieses Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
     "This form has expired. Please reload the page."},
    {"signed_out", "Sie sind abgemeldet.", "You are signed out."},
    {"no_such_case", "Diesen Fall gibt es nicht.", "There is no such case."},
    {"no_such_member", "Zu diesem Mitglied gibt es nichts.", "There is no such member."},
    {"access", "Zugang", "Access"},
    {"courses", "Kurse", "Courses"},
    {"reason", "Grund", "Reason"},
    {"lock_at", "Sperre ab", "Lock at"},
    {"claims", "Offene Forderungen", "Outstanding claims"},
    {"overrides", "Ausnahmen des Creators", "The creator's overrides"},
    {"until", "bis", "until"},
    {"who", "Wer", "Who"},
    {"in_force", "gilt", "in force"},
    {"revoked", "widerrufen", "revoked"},
    {"access_history", "Zugangsänderungen", "Access changes"},
    {"bad_request", "Diese Anfrage ist ungültig.", "This request is not valid."},
    {"done", "Erledigt", "Done"},
};

json texts_of(int column) {
    json out = json::object();
    for (const auto& w : words)
        out[std::get<0>(w)] = column == 0 ? std::get<1>(w) : std::get<2>(w);
    out["lang"] = column == 0 ? "de" : "en";
    return out;
}

} // namespace

const json& dashboard_texts(const std::string& locale) {
    static const json de = texts_of(0), en = texts_of(1);
    return locale == "en" ? en : de;
}

} // namespace dunning::http
