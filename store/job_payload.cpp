#include "store/job_payload.hpp"

#include "store/json_text.hpp"

#include <array>
#include <stdexcept>

namespace dunning::store {

namespace {

using nlohmann::json;

constexpr std::array<const char*, std::variant_size_v<JobPayload>> kind_names = {
    "charge",          "email", "end_of_schedule", "card_reminder", "platform_notification",
    "paid_out_of_band"};

EndAction end_action_of(const std::string& text) {
    for (auto a : {EndAction::leave, EndAction::cancel_subscription, EndAction::mark_uncollectible})
        if (text == to_string(a)) return a;
    throw std::runtime_error("unknown end action \"" + text + "\"");
}

// Each kind's members in byte order of their keys (JsonText checks it), as nlohmann writes them.
void write(JsonText::Object& o, const ChargeJob& j) {
    o.put("attempt", j.attempt);
    o.put("invoice_id", j.invoice_id);
    o.put("payment_method_id", j.payment_method_id);
}
void write(JsonText::Object& o, const EmailJob& j) {
    o.put("message", j.message);
    o.put("stage", j.stage);
}
void write(JsonText::Object& o, const EndOfScheduleJob& j) {
    o.put("action", to_string(j.action));
    o.put("invoice_id", j.invoice_id);
    o.put("subscription_id", j.subscription_id);
}
void write(JsonText::Object& o, const CardReminderJob& j) {
    o.put("creator_id", j.creator_id);
    o.put("email", j.email);
    o.put("exp_month", j.exp_month);
    o.put("exp_year", j.exp_year);
    o.put("name", j.name);
    o.put("payment_method_id", j.payment_method_id);
}
void write(JsonText::Object& o, const PlatformNotificationJob& j) {
    o.put("created", j.created);
    o.put("creator", j.creator);
    o.key("data").tree(j.data);
    o.put("id", j.id);
    o.put("member", j.member);
    o.put("object", "event");
    o.put("type", j.type);
}
void write(JsonText::Object& o, const PaidOutOfBandJob& j) {
    o.put("invoice_id", j.invoice_id);
}

// Fields missing from rows of older versions read as their defaults.
JobPayload decode(JobKind kind, const json& j) {
    switch (kind) {
    case JobKind::charge:
        return ChargeJob{j.at("attempt").get<int>(), j.at("invoice_id").get<std::string>(),
                         j.value("payment_method_id", "")};
    case JobKind::email:
        return EmailJob{j.at("message").get<std::string>(), j.value("stage", 0)};
    case JobKind::end_of_schedule:
        return EndOfScheduleJob{end_action_of(j.at("action").get<std::string>()),
                                j.value("invoice_id", ""), j.value("subscription_id", "")};
    case JobKind::card_reminder:
        return CardReminderJob{
            j.at("creator_id").get<std::string>(), j.at("payment_method_id").get<std::string>(),
            j.at("email").get<std::string>(),      j.value("name", ""),
            j.at("exp_month").get<int>(),          j.at("exp_year").get<int>()};
    case JobKind::platform_notification:
        return PlatformNotificationJob{
            j.at("id").get<std::string>(),       j.at("type").get<std::string>(),
            j.at("creator").get<std::string>(),  j.at("member").get<std::string>(),
            j.at("created").get<std::int64_t>(), j.value("data", json::object())};
    case JobKind::paid_out_of_band:
        return PaidOutOfBandJob{j.at("invoice_id").get<std::string>()};
    }
    throw std::logic_error("unhandled job kind");
}

} // namespace

JobKind kind_of(const JobPayload& payload) {
    return static_cast<JobKind>(payload.index());
}

const char* kind_name(JobKind kind) {
    return kind_names.at(static_cast<std::size_t>(kind));
}

std::string payload_text(const JobPayload& payload) {
    return object_text(
        [&](JsonText::Object& o) { std::visit([&](const auto& job) { write(o, job); }, payload); });
}

JobPayload decode_payload(const std::string& kind, const json& j) {
    for (std::size_t i = 0; i < kind_names.size(); ++i) {
        if (kind != kind_names[i]) continue;
        try {
            return decode(static_cast<JobKind>(i), j);
        } catch (const json::exception& e) {
            throw std::runtime_error(kind + " job: " + e.what());
        }
    }
    throw std::runtime_error("unknown job kind \"" + kind + "\"");
}

} // namespace dunning::store
