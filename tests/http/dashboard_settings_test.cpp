// The settings page's form: the settings in force as fields, and the PATCH body a sent form
// asks for (only what it changed; text that is no number left for the configuration to refuse).
#include "http/dashboard_settings.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::http;
using nlohmann::json;

namespace {

config::CreatorConfig creator() {
    config::CreatorConfig c;
    c.id = "alpha";
    c.dunning.stages = {{"reminder", std::chrono::days{3}, 0},
                        {"formal_reminder", std::chrono::days{10}, 250},
                        {"final_notice", std::chrono::hours{36} * 10, 0}};
    return c;
}

TEST(DashboardSettings, ShowsTheSettingsInForceForTheLocale) {
    const auto de = settings_values(creator(), "de");
    EXPECT_EQ(de.at("dunning.stages[1].fee"), "2,50");
    EXPECT_EQ(de.at("dunning.stages[2].after_days"), "15");
    EXPECT_EQ(de.at("dunning.stages[0].fee"), "");
    EXPECT_EQ(de.at("retry.card_schedule_days"), "1 3 5 7 10 14");
    EXPECT_EQ(de.at("access.min_amount"), "10");
    EXPECT_EQ(de.at("access.final_notice"), "grace");
    EXPECT_EQ(settings_values(creator(), "en").at("dunning.stages[1].fee"), "2.50");
    EXPECT_EQ(stage_rows(de), 3u);
}

TEST(DashboardSettings, AFormThatChangesNothingAsksForNothing) {
    auto sent = settings_values(creator(), "de");
    sent["dunning.stages[3].message"] = ""; // the empty row the form adds
    sent["dunning.stages[3].after_days"] = "";
    EXPECT_EQ(settings_patch(sent, settings_values(creator(), "de")), json::object());
    EXPECT_EQ(settings_patch({}, settings_values(creator(), "de")), json::object());
}

TEST(DashboardSettings, SendsTheLadderAsAWholeAndOnlyTheKeysChanged) {
    const auto current = settings_values(creator(), "de");
    auto sent = current;
    sent["dunning.stages[1].fee"] = "3,5";
    sent["access.on_objection"] = "grant";
    sent["retry.card_schedule_days"] = "1, 2,5 4";
    EXPECT_EQ(settings_patch(sent, current), json::parse(R"({"dunning": {"stages": [
                  {"message": "reminder", "after_days": 3},
                  {"message": "formal_reminder", "after_days": 10, "fee": 3.5},
                  {"message": "final_notice", "after_days": 15}]},
                  "retry": {"card_schedule_days": [1, 2.5, 4]},
                  "access": {"on_objection": "grant"}})"));
}

TEST(DashboardSettings, LeavesTextThatIsNoNumberForTheConfigurationToRefuse) {
    const auto current = settings_values(creator(), "en");
    auto sent = current;
    sent["dunning.final_notice_deadline_days"] = "two weeks";
    EXPECT_EQ(settings_patch(sent, current)["dunning"]["final_notice_deadline_days"], "two weeks");
}

TEST(DashboardSettings, NamesAProblemByTheFormsRow) {
    auto sent = settings_values(creator(), "en");
    sent["dunning.stages[0].message"] = ""; // the first row emptied: stage 0 is the form's row 1
    const auto renamed =
        problems_by_row({"dunning.stages[1].after_days: must be greater", "locale: x"}, sent);
    EXPECT_EQ(renamed, (std::vector<std::string>{"dunning.stages[2].after_days: must be greater",
                                                 "locale: x"}));
}

} // namespace
