// Payment and dispute events that arrive before their invoice wait in the store under their
// payment key (store::remember_unlinked) until the invoice's event takes them (take_unlinked).
// They come back in the order they arrived in, whichever of the invoice's two keys they waited
// under, each once; a key of another creator, or an empty key, takes nothing. SQLite looks each
// key up by itself and PostgreSQL both in one statement: this runs on both (the PostgreSQL twin).
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dunning::store {
namespace {

class UnlinkedPayments : public ::testing::Test {
  protected:
    dunning::testing::TestStore where;
    std::unique_ptr<Connection> db = open_store(where.options());

    // A row of the inbox, as the receiver stores it; returns its id.
    std::int64_t arrived(const std::string& creator, const std::string& event_id) {
        InboxRow row{creator,
                     event_id,
                     "charge.dispute.created",
                     "",
                     "direct",
                     "{\"id\":\"" + event_id + "\"}",
                     1'780'000'000,
                     0};
        EXPECT_EQ(insert_inbox_row(*db, row), AppendOutcome::inserted);
        for (const auto& r : pending_inbox_rows(*db, 1000))
            if (r.body == row.body) return r.id;
        ADD_FAILURE() << "row " << event_id << " not found";
        return 0;
    }

    static std::vector<std::string> bodies(const std::vector<UnlinkedEvent>& events) {
        std::vector<std::string> out;
        for (const auto& e : events)
            out.push_back(e.body);
        return out;
    }
};

TEST_F(UnlinkedPayments, ComeBackInTheOrderTheyArrivedWhicheverKeyTheyWaitedUnder) {
    // The first and the third waited under the charge, the second under the payment intent:
    // read key by key they would come back second, first, third.
    remember_unlinked(*db, "alpha", "ch_1", arrived("alpha", "evt_a"));
    remember_unlinked(*db, "alpha", "pi_1", arrived("alpha", "evt_b"));
    remember_unlinked(*db, "alpha", "ch_1", arrived("alpha", "evt_c"));

    EXPECT_EQ(bodies(take_unlinked(*db, "alpha", "pi_1", "ch_1")),
              (std::vector<std::string>{"{\"id\":\"evt_a\"}", "{\"id\":\"evt_b\"}",
                                        "{\"id\":\"evt_c\"}"}));
    // Taken: they wait no longer.
    EXPECT_TRUE(take_unlinked(*db, "alpha", "pi_1", "ch_1").empty());
}

TEST_F(UnlinkedPayments, AnotherCreatorsKeyAndAnEmptyKeyTakeNothing) {
    remember_unlinked(*db, "beta", "pi_1", arrived("beta", "evt_beta"));
    remember_unlinked(*db, "alpha", "", arrived("alpha", "evt_no_key"));

    EXPECT_TRUE(take_unlinked(*db, "alpha", "pi_1", "").empty());
    EXPECT_TRUE(take_unlinked(*db, "alpha", "", "").empty());

    // Both still wait: beta's for beta's invoice, and the one without a key, which no invoice's
    // keys can name, in the table.
    EXPECT_EQ(bodies(take_unlinked(*db, "beta", "pi_1", "")),
              std::vector<std::string>{"{\"id\":\"evt_beta\"}"});
    auto keyless = db->prepare(
        "SELECT count(*) FROM unlinked_payments WHERE creator_id = 'alpha' AND payment_key = ''");
    ASSERT_TRUE(keyless->step());
    EXPECT_EQ(keyless->int64_at(0), 1);
}

TEST_F(UnlinkedPayments, TheSameKeyGivenTwiceTakesEachEventOnce) {
    remember_unlinked(*db, "alpha", "pi_1", arrived("alpha", "evt_a"));
    EXPECT_EQ(bodies(take_unlinked(*db, "alpha", "pi_1", "pi_1")),
              std::vector<std::string>{"{\"id\":\"evt_a\"}"});
}

} // namespace
} // namespace dunning::store
