// Cases stored by the previous version still load: a state as it wrote it (card networks as
// numbers), and a whole store at schema version 4, which is migrated on open. Both fixtures
// hold the same paused card case, after two declined retries and the first reminder. A SQLite-file
// test: the old store is a SQLite file, and a human reading it with sqlite3 sees names.
#include "case_fields.hpp"
#include "store/case_json.hpp"
#include "store/cases.hpp"
#include "store/database.hpp"
#include "support/service.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

const std::filesystem::path fixtures =
    std::filesystem::path(DUNNING_SOURCE_DIR) / "tests/fixtures/case_state";

CaseState expected_paused_case() {
    CaseState s;
    s.creator_id = "alpha";
    s.invoice = {.invoice_id = "in_1",
                 .number = "FAKE-0001",
                 .customer_id = "cus_fake",
                 .customer_email = "juergen@example.org",
                 .customer_name = "Jürgen Müßig",
                 .subscription_id = "sub_fake",
                 .payment_intent_id = "pi_fake7b8600000014",
                 .charge_id = "ch_fake7b8600000015",
                 .status = "open",
                 .billing_reason = "subscription_cycle",
                 .currency = "eur",
                 .amount_due = 4900,
                 .amount_remaining = 4900,
                 .attempt_count = 3,
                 .next_payment_attempt = std::nullopt,
                 .due_date = std::nullopt,
                 .hosted_invoice_url = "https://invoice.stripe.com/i/acct_fake/test_in_1",
                 .products = {"prod_fake"},
                 .created = std::nullopt, // stored before the handover fields existed
                 .customer_address = {},
                 .description = "",
                 .period_start = std::nullopt};
    s.invoice_as_of = from_unix(1800259202);
    s.failed = true;
    s.opened_at = from_unix(1800000000);
    s.last_failure = PaymentFailure{{.code = "card_declined",
                                     .decline_code = "do_not_honor",
                                     .advice_code = "",
                                     .network_advice_code = "",
                                     .message = "Your card was declined."},
                                    PaymentMethodKind::card,
                                    "pm_card_visa",
                                    "visa",
                                    from_unix(1800259201)};
    s.new_payment_method = "pm_new_card";
    s.new_payment_method_at = from_unix(1800288001);
    s.attempts = {
        {1, from_unix(1800086400), "", CardNetwork::visa, ChargeAttempt::Outcome::declined},
        {2, from_unix(1800259200), "", CardNetwork::visa, ChargeAttempt::Outcome::declined}};
    s.stage_queued = 1; // the previous version counted queued stages only
    s.stage_sent = 1;
    s.paused = true;
    s.paused_at = from_unix(1800280800);
    s.first_seen_at = from_unix(1800000000);
    s.opened_announced = true;
    return s;
}

TEST(PreviousVersion, AStoredStateLoads) {
    const auto text = read_file(fixtures / "paused_after_declined_retry.json");
    ASSERT_NE(text.find(R"("network":1)"), std::string::npos) << "the fixture is the numbered form";
    expect_states_equal(store::state_from_json(json::parse(text)), expected_paused_case());
}

class PreviousStore : public ::testing::Test {
  protected:
    TempDir dir;
    store::StoreOptions options{(dir.path() / "dunning.db").string()};

    void SetUp() override {
        SQLite::Database old(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec(read_file(fixtures / "store_v4.sql"));
        ASSERT_EQ(old.execAndGet("PRAGMA user_version").getInt(), 4);
    }
};

TEST_F(PreviousStore, IsMigratedAndItsCasesLoad) {
    auto db = store::open_store(options);
    EXPECT_EQ(store::schema_version(*db), store::latest_schema_version());
    const auto loaded = store::load_case(*db, 1);
    ASSERT_TRUE(loaded);
    expect_states_equal(loaded->state, expected_paused_case());

    const auto open = store::list_cases(*db, {.creator = "alpha"});
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].id, 1);
    EXPECT_EQ(store::cases_of_customer(*db, "alpha", "cus_fake").size(), 1u);
}

// A case saved again is written by name, for whoever reads the file with sqlite3.
TEST_F(PreviousStore, ACaseSavedAgainStoresNamesAndStillLoads) {
    auto db = store::open_store(options);
    auto record = *store::load_case(*db, 1);
    store::save_case(*db, record, 1800300000);
    SQLite::Database file(options.path, SQLite::OPEN_READONLY);
    EXPECT_EQ(file.execAndGet("SELECT json_extract(state, '$.attempts[0].network') FROM cases")
                  .getString(),
              "visa");
    expect_states_equal(store::load_case(*db, 1)->state, expected_paused_case());
}

TEST_F(PreviousStore, AnUnknownValueMakesTheCaseUnreadableSayingWhy) {
    auto db = store::open_store(options);
    db->exec(R"(UPDATE cases SET state = json_set(state, '$.attempts[1].outcome', 'bounced'))");
    try {
        store::load_case(*db, 1);
        ADD_FAILURE() << "the case was read";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(),
                     R"(case 1: unreadable state: attempts[1].outcome: unknown value "bounced")");
    }
}

} // namespace
