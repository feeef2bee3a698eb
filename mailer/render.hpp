#pragma once
// Dunning messages: Mustache templates per message and locale (defaults built in, a creator's
// own files override them), rendered to a subject, a plain-text part and an HTML part. Every
// value from Stripe or the member is HTML-escaped in the HTML part and never interpreted as
// template syntax in either part.
#include "core/result.hpp"

#include <string>
#include <vector>

namespace dunning::mailer {

// The messages: the ladder stages and the ones outside it.
// "reminder", "formal_reminder", "final_notice", "action_required", "update_payment_method",
// "payment_received", "card_expiring".
const std::vector<std::string>& message_names();

struct FeeLine {
    std::string label;  // "Mahngebühr 1. Mahnung" / "Reminder fee"
    std::string amount; // formatted
};

// Everything a template may show, already formatted for the locale.
struct MessageData {
    std::string creator_name;
    std::string creator_email;   // Reply-To, shown as contact
    std::string member_name;     // may be empty: templates greet neutrally then
    std::string invoice_number;
    std::string invoice_date;    // "3. März 2027"
    std::string amount_due;      // "49,00 €"
    std::string total_due;       // amount + fees + interest
    std::string product_names;   // "Yoga Basics, Pilates Plus" (course names), may be empty
    std::string pay_url;         // hosted_invoice_url
    std::string update_payment_url; // billing portal or configured URL, may be empty
    std::string deadline;        // final notice: pay by this date
    std::string card_expiry;     // card_expiring: "03/2027"
    std::vector<FeeLine> fees;   // fees and interest, empty when off
    bool access_will_be_locked = true; // final notice mentions the lock when the rules lock
    bool handover_announced = true;    // final notice mentions the handover
};

struct RenderedMessage {
    std::string subject;
    std::string text;
    std::string html;
};

// `template_dir`, when not empty, is searched first for "<locale>/<message>.subject.mustache",
// ".text.mustache" and ".html.mustache"; missing files fall back to the built-in ones.
// Fails with a message for an unknown message or locale, or a template that does not parse.
Result<RenderedMessage, std::string> render_message(const std::string& message,
                                                    const std::string& locale,
                                                    const MessageData& data,
                                                    const std::string& template_dir = "");

} // namespace dunning::mailer
