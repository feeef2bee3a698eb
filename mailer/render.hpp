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
    std::string creator_email; // Reply-To, shown as contact
    std::string member_name;   // may be empty: templates greet neutrally then
    std::string invoice_number;
    std::string invoice_date;          // "3. März 2027"
    std::string amount_due;            // "49,00 €"
    std::string total_due;             // amount + fees + interest
    std::string product_names;         // "Yoga Basics, Pilates Plus" (course names), may be empty
    std::string pay_url;               // hosted_invoice_url
    std::string update_payment_url;    // billing portal or configured URL, may be empty
    std::string promise_url;           // dunning stages: the promise-to-pay page, may be empty
    std::string deadline;              // final notice: pay by this date
    std::string card_expiry;           // card_expiring: "03/2027"
    std::vector<FeeLine> fees;         // fees and interest, empty when off
    bool access_will_be_locked = true; // final notice mentions the lock when the rules lock
    bool handover_announced = false;   // final notice mentions the handover, when one will follow
};

struct RenderedMessage {
    std::string subject;
    std::string text;
    std::string html;
};

// `template_dir`, when not empty, is searched first for "<locale>/<message>.subject.mustache",
// ".text.mustache" and ".html.mustache"; missing files fall back to the built-in ones
// (mailer/templates/, compiled in). Locales: "de", "en".
// Fails with a message for an unknown message or locale, a pay_url or update_payment_url that
// (or promise_url) is neither empty nor http(s), or a template that does not parse (the message
// names the file).
//
// Templates see every MessageData string under its field name, `fees` as a list of
// {label, amount}, `payment_method_url` (update_payment_url, else pay_url), the flags
// access_will_be_locked and handover_announced, and has_member_name, has_products,
// has_invoice_date, has_fees, has_deadline, has_update_url, has_promise_url, has_amount,
// has_consequences
// (lock or handover announced). Values are one line each (control characters become spaces),
// HTML-escaped in the HTML part whatever the tag ({{x}}, {{{x}}} and {{&x}} alike), left as
// they are in subject and text, and never parsed as a template (partials render nothing).
// The subject is one line: breaks become spaces, so no value can add a header.
Result<RenderedMessage, std::string> render_message(const std::string& message,
                                                    const std::string& locale,
                                                    const MessageData& data,
                                                    const std::string& template_dir = "");

} // namespace dunning::mailer
