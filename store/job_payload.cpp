#include "store/job_payload.hpp"

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

json encode(const ChargeJob& j) {
    return {{"attempt", j.attempt},
            {"invoice_id", j.invoice_id},
            {"payment_method_id", j.payment_method_id}};
}
json encode(const EmailJob& j) {
    return {{"message", j.message}, {"stage", j.stage}};
}
json encode(const EndOfScheduleJob& j) {
    return {{"action", to_string(j.action)},
            {"invoice_id", j.invoice_id},
            {"subscription_id", j.subscription_id}};
}
json encode(const CardReminderJob& j) {
    return {{"creator_id", j.creator_id}, {"payment_method_id", j.payment_method_id},
            {"email", j.email},           {"name", j.name},
            {"exp_month", j.exp_month},   {"exp_year", j.exp_year}};
}
json encode(const PlatformNotificationJob& j) {
    return {{"id", j.id},           {"object", "event"},  {"type", j.type}, {"created", j.created},
            {"creator", j.creator}, {"member", j.member}, {"data", j.data}};
}
json encode(const PaidOutOfBandJob& j) {
    return {{"invoice_id", j.invoice_id}};
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

json encode_payload(const JobPayload& payload) {
    return std::visit([](const auto& job) { return encode(job); }, payload);
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
