// Creators' secrets in a real store (SQLite; PostgreSQL in store_postgres_secrets_tests): the
// store API, the raw bytes of the SQLite file and its WAL (no plaintext, no key), and a rotation
// to a new key.
#include "core/base64.hpp"
#include "store/database.hpp"
#include "store/secrets.hpp"
#include "store/statement.hpp"
#include "support/secrets.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

SecretKey decoded(const std::string& base64) {
    return *secret_key_from_bytes(*base64_decode(base64));
}

const SecretKey old_key = decoded(testing::secrets_key);
const SecretKey new_key = decoded(testing::new_secrets_key);
const Timestamp now = from_unix(1'800'000'000);

struct Stored {
    std::string creator, name, plaintext;
};
const std::vector<Stored> stored = {
    {"alpha", "stripe_secret_key", testing::alpha_stripe_key},
    {"alpha", "webhook_secret", testing::alpha_secret},
    {"alpha", "oauth_access_token", testing::alpha_oauth_access_token},
    {"alpha", "oauth_refresh_token", testing::alpha_oauth_refresh_token},
    {"beta", "stripe_secret_key", testing::beta_stripe_key},
    {"beta", "webhook_secret", testing::beta_secret},
};

class SecretsStore : public ::testing::Test {
  protected:
    testing::TestStore store;
    StoreOptions options = [this] {
        auto o = store.options();
        o.synchronous = "full";
        return o;
    }();
    std::unique_ptr<Connection> db = open_store(options);
    SecretBox box{old_key};

    void store_all() {
        for (const auto& s : stored) {
            const auto put = put_secret(*db, box, s.creator, s.name, s.plaintext, now);
            ASSERT_TRUE(put) << put.error();
        }
    }
    std::string sealed_of(const std::string& creator, const std::string& name) {
        CachedStatement st(*db, "SELECT sealed, key_id FROM creator_secrets "
                                "WHERE creator_id = ? AND name = ?");
        st.bind(1, creator);
        st.bind(2, name);
        return st.executeStep() ? st.getColumn(0).getString() : "";
    }
};

TEST_F(SecretsStore, PutGetListDelete) {
    store_all();
    for (const auto& s : stored)
        EXPECT_EQ(get_secret(*db, box, s.creator, s.name).value(), s.plaintext) << s.name;
    EXPECT_EQ(list_secret_names(*db, "alpha"),
              (std::vector<std::string>{"oauth_access_token", "oauth_refresh_token",
                                        "stripe_secret_key", "webhook_secret"}));
    EXPECT_FALSE(get_secret(*db, box, "alpha", "nothing").value().has_value());
    ASSERT_TRUE(put_secret(*db, box, "alpha", "webhook_secret", "whsec_replaced_value", now));
    EXPECT_EQ(get_secret(*db, box, "alpha", "webhook_secret").value(), "whsec_replaced_value");
    EXPECT_TRUE(delete_secret(*db, "alpha", "webhook_secret"));
    EXPECT_FALSE(delete_secret(*db, "alpha", "webhook_secret"));
    EXPECT_FALSE(get_secret(*db, box, "alpha", "webhook_secret").value().has_value());
    EXPECT_EQ(list_secret_names(*db, "beta").size(), 2u);
}

TEST_F(SecretsStore, RecordsTheKeyIdAndTheTime) {
    store_all();
    CachedStatement st(*db, "SELECT DISTINCT key_id, updated_at FROM creator_secrets");
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getString(), key_id(old_key));
    EXPECT_EQ(st.getColumn(1).getInt64(), 1'800'000'000);
    EXPECT_FALSE(st.executeStep());
    EXPECT_EQ(sealed_key_id(sealed_of("beta", "webhook_secret")), key_id(old_key));
}

TEST_F(SecretsStore, WithoutAKeyStoringIsRefusedAndNothingIsWritten) {
    const auto put = put_secret(*db, SecretBox{}, "alpha", "stripe_secret_key", "sk_x", now);
    ASSERT_FALSE(put);
    EXPECT_NE(put.error().find("secrets_key"), std::string::npos) << put.error();
    EXPECT_TRUE(list_secret_names(*db, "alpha").empty());
}

TEST_F(SecretsStore, AValueCopiedToAnotherRowOrAlteredDoesNotOpen) {
    store_all();
    db->exec("UPDATE creator_secrets SET sealed = (SELECT sealed FROM creator_secrets WHERE "
             "creator_id = 'alpha' AND name = 'stripe_secret_key') WHERE creator_id = 'beta' "
             "AND name = 'stripe_secret_key'");
    const auto copied = get_secret(*db, box, "beta", "stripe_secret_key");
    ASSERT_FALSE(copied);
    EXPECT_EQ(copied.error().find(testing::alpha_stripe_key), std::string::npos);
    EXPECT_FALSE(get_secret(*db, SecretBox(new_key), "alpha", "webhook_secret"));
    db->exec("UPDATE creator_secrets SET sealed = substr(sealed, 1, 20) || "
             "(CASE substr(sealed, 21, 1) WHEN 'A' THEN 'B' ELSE 'A' END) || substr(sealed, 22) "
             "WHERE creator_id = 'alpha' AND name = 'webhook_secret'");
    EXPECT_FALSE(get_secret(*db, box, "alpha", "webhook_secret"));
    EXPECT_TRUE(get_secret(*db, box, "alpha", "stripe_secret_key"));
}

#ifndef DUNNING_TEST_POSTGRES // reads SQLite's own files
using testing::read_file;

// The bytes SQLite wrote, in the main file and in the WAL, hold no plaintext and no key.
TEST_F(SecretsStore, NoPlaintextInTheDatabaseFileOrItsWal) {
    store_all();
    const std::string wal = options.path + "-wal";
    ASSERT_TRUE(std::filesystem::exists(wal));
    auto check = [&](const std::string& path) {
        const auto bytes = read_file(path);
        EXPECT_GT(bytes.size(), 0u) << path;
        for (const auto& s : stored)
            EXPECT_EQ(bytes.find(s.plaintext), std::string::npos) << path << ": " << s.name;
        for (const auto& key : {old_key, new_key})
            EXPECT_EQ(bytes.find(std::string(key.begin(), key.end())), std::string::npos) << path;
        EXPECT_EQ(bytes.find(testing::secrets_key), std::string::npos) << path;
        // The rows are there: the check looked at the right bytes.
        EXPECT_NE(bytes.find("v1:" + key_id(old_key) + ":"), std::string::npos) << path;
    };
    check(wal);
    db.reset(); // the last connection checkpoints the WAL into the main file
    check(options.path);
}
#endif

TEST_F(SecretsStore, RotationResealsEveryRowAndTheOldKeyNoLongerOpensThem) {
    store_all();
    std::vector<std::string> progress;
    const auto report =
        rotate_secrets(*db, box, SecretBox(new_key), now, [&](std::size_t done, std::size_t all) {
            progress.push_back(std::to_string(done) + "/" + std::to_string(all));
        });
    EXPECT_TRUE(report.failed.empty());
    EXPECT_EQ(report.total, stored.size());
    EXPECT_EQ(report.resealed, stored.size());
    EXPECT_EQ(report.skipped, 0u);
    EXPECT_EQ(progress.front(), "1/6");
    EXPECT_EQ(progress.back(), "6/6");
    for (const auto& s : stored) {
        EXPECT_EQ(sealed_key_id(sealed_of(s.creator, s.name)), key_id(new_key));
        EXPECT_EQ(get_secret(*db, SecretBox(new_key), s.creator, s.name).value(), s.plaintext);
        EXPECT_FALSE(get_secret(*db, box, s.creator, s.name)) << s.name;
    }
    const auto sealed_before = sealed_of("alpha", "webhook_secret");
    const auto again = rotate_secrets(*db, SecretBox(new_key, {old_key}), SecretBox(new_key), now);
    EXPECT_TRUE(again.failed.empty());
    EXPECT_EQ(again.resealed, 0u);
    EXPECT_EQ(again.skipped, stored.size());
    EXPECT_EQ(sealed_of("alpha", "webhook_secret"), sealed_before);
}

TEST_F(SecretsStore, RotationChangesNothingWhenOneValueDoesNotOpen) {
    store_all();
    const SecretKey stranger = decoded(base64_encode(std::string(32, 'z')));
    ASSERT_TRUE(put_secret(*db, SecretBox(stranger), "gamma", "webhook_secret", "whsec_g", now));
    const auto before = sealed_of("alpha", "stripe_secret_key");
    const auto report = rotate_secrets(*db, box, SecretBox(new_key), now);
    ASSERT_EQ(report.failed.size(), 1u);
    EXPECT_NE(report.failed[0].find("gamma/webhook_secret"), std::string::npos);
    EXPECT_EQ(report.resealed, 0u);
    EXPECT_EQ(sealed_of("alpha", "stripe_secret_key"), before);
    EXPECT_EQ(get_secret(*db, box, "alpha", "stripe_secret_key").value(),
              testing::alpha_stripe_key);
}

TEST_F(SecretsStore, RowsStoredUnderTheNewKeyMeanwhileAreSkipped) {
    store_all();
    ASSERT_TRUE(put_secret(*db, SecretBox(new_key), "alpha", "webhook_secret", "whsec_new", now));
    const auto report = rotate_secrets(*db, box, SecretBox(new_key), now);
    EXPECT_TRUE(report.failed.empty());
    EXPECT_EQ(report.resealed, stored.size() - 1);
    EXPECT_EQ(report.skipped, 1u);
    EXPECT_EQ(get_secret(*db, SecretBox(new_key), "alpha", "webhook_secret").value(), "whsec_new");
}

} // namespace
} // namespace dunning::store
