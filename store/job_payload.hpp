#pragma once
// What a queued job carries, one struct per kind, and its JSON form: the one place that turns
// a job into the text stored in the `jobs` table (readable with sqlite3) and back.
#include "core/retry_policy.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace dunning::store {

// A retry of a failed invoice (a case's).
struct ChargeJob {
    int attempt = 0;
    std::string invoice_id;
    std::string payment_method_id; // empty: the invoice's default method
    bool operator==(const ChargeJob&) const = default;
};
// A dunning email of a case.
struct EmailJob {
    std::string
        message; // a stage name, or "action_required", "update_payment_method", "payment_received"
    int stage = 0;
    bool operator==(const EmailJob&) const = default;
};
// What to do with the invoice and subscription when the schedule ends (a case's).
struct EndOfScheduleJob {
    EndAction action = EndAction::leave;
    std::string invoice_id;
    std::string subscription_id;
    bool operator==(const EndOfScheduleJob&) const = default;
};
// "Your card expires soon", to the card's holder.
struct CardReminderJob {
    std::string creator_id, payment_method_id, email, name;
    int exp_month = 0, exp_year = 0;
    bool operator==(const CardReminderJob&) const = default;
};
// A webhook to the host platform; its JSON form is exactly the body POSTed.
struct PlatformNotificationJob {
    std::string id; // dn_…, the platform dedupes on it
    std::string type, creator, member;
    std::int64_t created = 0; // unix seconds
    nlohmann::json data = nlohmann::json::object();
    bool operator==(const PlatformNotificationJob&) const = default;
};

// Mark a case's invoice paid out of band in Stripe (the creator was paid outside it).
struct PaidOutOfBandJob {
    std::string invoice_id;
    bool operator==(const PaidOutOfBandJob&) const = default;
};

using JobPayload = std::variant<ChargeJob, EmailJob, EndOfScheduleJob, CardReminderJob,
                                PlatformNotificationJob, PaidOutOfBandJob>;

// In the order of JobPayload's alternatives.
enum class JobKind {
    charge,
    email,
    end_of_schedule,
    card_reminder,
    platform_notification,
    paid_out_of_band
};

JobKind kind_of(const JobPayload& payload);
// "charge", "email", "end_of_schedule", "card_reminder", "platform_notification",
// "paid_out_of_band": the `kind` column, and what the case API shows.
const char* kind_name(JobKind kind);

// The stored text (and a notification's body): what nlohmann's dump() writes for the job's
// members, written without building nlohmann's tree.
std::string payload_text(const JobPayload& payload);
// Throws std::runtime_error naming the kind and the field when the JSON does not fit.
JobPayload decode_payload(const std::string& kind, const nlohmann::json& json);

} // namespace dunning::store
