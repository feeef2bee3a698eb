// `dunning migrate-store` on the real binary: bad arguments are refused with their exit code and
// a message (no SQLite file made for a missing path, no password shown), and a SQLite store is
// copied into a database of a real PostgreSQL server (tests/support/postgres.hpp), "${NAME}" in
// the URL taken from the environment and shown as ***, twice.
#include "core/base64.hpp"
#include "store/cases.hpp"
#include "store/database.hpp"
#include "store/secrets.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/secrets.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace dunning;
using namespace dunning::testing;

namespace {

const auto* const postgres_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

const std::string binary = DUNNING_BINARY;
const std::string password = "pw-Migrate-7c1e9";

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class MigrateStoreCli : public ::testing::Test {
  protected:
    TempDir dir;
    std::string db_path = (dir.path() / "dunning.db").string();

    void SetUp() override {
        ::setenv("DUNNING_TEST_PG_PASSWORD", password.c_str(), 1);
        ::unsetenv("DUNNING_TEST_UNSET_PASSWORD");
    }
    CommandResult migrate(const std::string& from, const std::string& to) {
        // Single quotes: "${…}" reaches the binary as written.
        return run_command(binary + " migrate-store --from '" + from + "' --to '" + to + "'");
    }
};

TEST_F(MigrateStoreCli, FromMustBeASqlitePath) {
    const auto r = migrate(db_path, "postgresql://dunning@localhost/dunning");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(has(r.output, "--from must be sqlite:PATH")) << r.output;
}

TEST_F(MigrateStoreCli, AMissingFileIsRefusedAndNotCreated) {
    const auto r = migrate("sqlite:" + db_path, "postgresql://dunning@localhost/dunning");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(has(r.output, db_path + " does not exist")) << r.output;
    EXPECT_FALSE(std::filesystem::exists(db_path));
}

TEST_F(MigrateStoreCli, AFileThatIsNoStoreIsRefusedUntouched) {
    std::ofstream(db_path) << "not a database\n";
    const auto r = migrate("sqlite:" + db_path, "postgresql://dunning@localhost/dunning");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(has(r.output, db_path + " is not a usable dunning database")) << r.output;
    std::ifstream in(db_path);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "not a database\n");
}

TEST_F(MigrateStoreCli, ToMustBeAPostgresUrlAndIsNotEchoed) {
    store::open_store({db_path, "normal"});
    const auto r = migrate("sqlite:" + db_path, "mysql://dunning:" + password + "@db/dunning");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(has(r.output, "--to must be a \"postgresql://\" or \"postgres://\" URL"))
        << r.output;
    EXPECT_FALSE(has(r.output, password)) << r.output;
}

TEST_F(MigrateStoreCli, AnUnsetVariableInToIsNamed) {
    store::open_store({db_path, "normal"});
    const auto r = migrate("sqlite:" + db_path,
                           "postgresql://dunning:${DUNNING_TEST_UNSET_PASSWORD}@db/dunning");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(has(r.output, "environment variable DUNNING_TEST_UNSET_PASSWORD is not set"))
        << r.output;
}

TEST_F(MigrateStoreCli, ARefusedConnectionSaysSoWithoutThePassword) {
    store::open_store({db_path, "normal"});
    // Port 1 on the loopback: nothing listens there.
    const auto r = migrate("sqlite:" + db_path,
                           "postgresql://dunning:${DUNNING_TEST_PG_PASSWORD}@127.0.0.1:1/dunning");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(has(r.output, "cannot open database postgresql://dunning:***@127.0.0.1:1/dunning"))
        << r.output;
    EXPECT_FALSE(has(r.output, password)) << r.output;
}

// The source is upgraded to this version's schema before it is copied: on a large store that
// takes a while, and the command says so.
TEST_F(MigrateStoreCli, AnOldSourceStoreIsUpgradedFirstAndSaysSo) {
    const auto v4 =
        std::filesystem::path(DUNNING_SOURCE_DIR) / "tests/fixtures/case_state/store_v4.sql";
    store::connect_store({db_path, "normal"})->exec(read_file(v4)); // as version 4 left its file
    // Port 1 on the loopback: opening the target fails, after the source was opened.
    const auto r = migrate("sqlite:" + db_path,
                           "postgresql://dunning:${DUNNING_TEST_PG_PASSWORD}@127.0.0.1:1/dunning");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(has(r.output, "dunning: upgrading the store " + db_path + " from schema 4 to " +
                                  std::to_string(store::latest_schema_version())))
        << r.output;
    EXPECT_TRUE(has(r.output, "dunning: the store " + db_path + " is at schema ")) << r.output;
}

TEST_F(MigrateStoreCli, CopiesIntoPostgresAndARerunWritesNothing) {
    const store::SecretBox box(*store::secret_key_from_bytes(*base64_decode(secrets_key)));
    {
        auto db = store::open_store({db_path, "normal"});
        store::CaseRecord r;
        r.state.creator_id = "alpha";
        r.state.failed = true;
        r.state.invoice.invoice_id = "in_1";
        store::save_case(*db, r, 1'800'000'000);
        ASSERT_TRUE(store::put_secret(*db, box, "alpha", "stripe_secret_key", alpha_stripe_key,
                                      from_unix(1'800'000'000)));
    }
    ScratchDatabase database(postgres_cluster());
    const auto socket_dir = postgres_cluster().directory().string();
    const auto url = "postgresql://dunning:${DUNNING_TEST_PG_PASSWORD}@/" + database.name() +
                     "?host=" + socket_dir;
    const auto shown = "postgresql://dunning:***@/" + database.name() + "?host=" + socket_dir;

    const auto r = migrate("sqlite:" + db_path, url);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(has(r.output, "Copying " + db_path + " into " + shown)) << r.output;
    EXPECT_TRUE(has(r.output, "cases: 1 rows (1 written)\n")) << r.output;
    EXPECT_TRUE(has(r.output, "creator_secrets: 1 rows (1 written)\n")) << r.output;
    EXPECT_TRUE(has(r.output, "sqlite  postgresql     written     deleted")) << r.output;
    EXPECT_TRUE(has(r.output, "Done: every table of " + shown)) << r.output;
    EXPECT_FALSE(has(r.output, password)) << r.output;

    store::StoreOptions postgres;
    postgres.postgres_url = database.url();
    auto db = store::connect_store(postgres);
    const auto copied = store::find_case_by_invoice(*db, "alpha", "in_1");
    ASSERT_TRUE(copied);
    EXPECT_TRUE(copied->state.failed);
    EXPECT_EQ(store::get_secret(*db, box, "alpha", "stripe_secret_key").value(), alpha_stripe_key);
    // The planner's statistics were gathered: a table never analyzed counts -1 rows.
    auto analyzed = db->prepare("SELECT CAST(reltuples AS BIGINT) FROM pg_class "
                                "WHERE relname = 'cases' AND relkind = 'r'");
    ASSERT_TRUE(analyzed->step());
    EXPECT_EQ(analyzed->int64_at(0), 1);

    const auto again = migrate("sqlite:" + db_path, url);
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_TRUE(has(again.output, "cases: 1 rows (0 written)\n")) << again.output;
    EXPECT_FALSE(has(again.output, password)) << again.output;
}

} // namespace
