// Every kind of job survives the trip through its JSON form, and that form is what a person
// reading the table with sqlite3 sees.
#include "store/job_payload.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

using nlohmann::json;

const std::vector<JobPayload> examples = {
    ChargeJob{2, "in_1", "pm_card"},
    ChargeJob{1, "in_2", ""},
    EmailJob{"reminder", 1},
    EmailJob{"payment_received", 0},
    EndOfScheduleJob{EndAction::cancel_subscription, "in_1", "sub_1"},
    EndOfScheduleJob{EndAction::mark_uncollectible, "in_1", ""},
    CardReminderJob{"alpha", "pm_card", "juergen@example.org", "Jürgen Müßig", 3, 2027},
    CardReminderJob{"alpha", "pm_card", "anna@example.org", "Anna \"Nan\" O\\Brien\n\t", 12, 2030},
    PaidOutOfBandJob{"in_1"},
    PlatformNotificationJob{"dn_0123456789abcdef01234567", "access.locked", "alpha", "cus_1",
                            1760000000, json{{"course", "c1"}, {"level", "locked"}}},
};

const PlatformNotificationJob nested{
    "dn_1",
    "access.restored",
    "alpha",
    "cus_\"2\"",
    1760000001,
    json{{"courses", json::array({"c1", "Kurs für Anfänger"})}, {"since", json(nullptr)}}};

TEST(JobPayload, EveryKindRoundTripsThroughItsStoredText) {
    auto all = examples;
    all.push_back(nested);
    for (const auto& payload : all) {
        const auto kind = kind_name(kind_of(payload));
        const auto text = payload_text(payload);
        EXPECT_EQ(decode_payload(kind, json::parse(text)), payload) << kind << " " << text;
        // Written as nlohmann writes it: keys in order, no spaces, its escapes.
        EXPECT_EQ(json::parse(text).dump(), text);
    }
}

TEST(JobPayload, StoredTextIsReadable) {
    EXPECT_EQ(payload_text(ChargeJob{2, "in_1", "pm_card"}),
              R"({"attempt":2,"invoice_id":"in_1","payment_method_id":"pm_card"})");
    EXPECT_EQ(payload_text(EmailJob{"reminder", 1}), R"({"message":"reminder","stage":1})");
    EXPECT_EQ(payload_text(PaidOutOfBandJob{"in_1"}), R"({"invoice_id":"in_1"})");
    EXPECT_EQ(payload_text(EndOfScheduleJob{EndAction::cancel_subscription, "in_1", "sub_1"}),
              R"({"action":"cancel_subscription","invoice_id":"in_1","subscription_id":"sub_1"})");
    // A platform notification is stored as the very body the platform receives.
    EXPECT_EQ(
        payload_text(examples.back()),
        R"({"created":1760000000,"creator":"alpha","data":{"course":"c1","level":"locked"},)"
        R"("id":"dn_0123456789abcdef01234567","member":"cus_1","object":"event","type":"access.locked"})");
    EXPECT_EQ(
        payload_text(CardReminderJob{"alpha", "pm_1", "a@example.org", "Anna \"Nan\"", 1, 2030}),
        R"({"creator_id":"alpha","email":"a@example.org","exp_month":1,"exp_year":2030,)"
        R"("name":"Anna \"Nan\"","payment_method_id":"pm_1"})");
}

TEST(JobPayload, KindsAreNamedAsBefore) {
    EXPECT_STREQ(kind_name(JobKind::charge), "charge");
    EXPECT_STREQ(kind_name(JobKind::email), "email");
    EXPECT_STREQ(kind_name(JobKind::end_of_schedule), "end_of_schedule");
    EXPECT_STREQ(kind_name(JobKind::card_reminder), "card_reminder");
    EXPECT_STREQ(kind_name(JobKind::platform_notification), "platform_notification");
    EXPECT_STREQ(kind_name(JobKind::paid_out_of_band), "paid_out_of_band");
}

TEST(JobPayload, RowsOfOlderVersionsAndBadRowsDecodeOrSayWhy) {
    // The outbox of earlier versions wrote charges without a payment method.
    EXPECT_EQ(decode_payload("charge", json{{"attempt", 1}, {"invoice_id", "in_1"}}),
              JobPayload(ChargeJob{1, "in_1", ""}));
    try {
        decode_payload("email", json{{"stage", 1}});
        ADD_FAILURE() << "decoded";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("email job"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("message"), std::string::npos) << e.what();
    }
    EXPECT_THROW(decode_payload("notify_host", json{{"type", "case.opened"}}), std::runtime_error);
    EXPECT_THROW(decode_payload("end_of_schedule", json{{"action", "explode"}}),
                 std::runtime_error);
}

} // namespace
} // namespace dunning::store
