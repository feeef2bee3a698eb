// The service's WAL checkpoints (store::WalCheckpointer, whose rounds plugin::Module runs on a
// thread of their own): a round copies what writers committed without their help, starts the WAL
// over once it is long, and gives up instead of holding writers back while a reader keeps an old
// snapshot. SQLite only: PostgreSQL has its own checkpointer.
#include "store/database.hpp"
#include "store/sqlite_connection.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

using testing::TempDir;

class WalCheckpoints : public ::testing::Test {
  protected:
    TempDir dir;
    // An hour's lock wait: a checkpointer that waited for readers as long as the store's other
    // connections do would fail these tests by ctest's timeout, not pass them late.
    StoreOptions options{(dir.path() / "dunning.db").string(), "normal", std::chrono::hours{1}};
    std::unique_ptr<Connection> writer;

    void SetUp() override {
        open_store(options);
        writer = connect_store(options);
        writer->exec("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB)");
    }

    // About `pages` new pages of the WAL, in commits of 100 rows (a row fills most of a page).
    void write_pages(int pages) {
        static int next_id = 0;
        for (int done = 0; done < pages; done += 100) {
            writer->begin_immediate();
            auto st =
                writer->prepare("INSERT INTO scratch (id, body) VALUES (?, randomblob(3000))");
            for (int i = 0; i < 100; ++i) {
                st->bind(1, std::int64_t{++next_id});
                st->exec();
                st->reset();
            }
            writer->commit();
        }
    }
};

TEST_F(WalCheckpoints, ARoundCopiesWhatTheWritersLeftInTheWal) {
    // 2,000 pages in 20 commits: more than SQLite's automatic checkpoint (1,000) and less than the
    // store's backstop (10,000), so the writer copied none of them itself.
    write_pages(2000);
    WalCheckpointer checkpoints(options, {.restart_at_frames = 100000});
    const auto round = checkpoints.round();
    EXPECT_GE(round.wal_frames, 2000);
    EXPECT_EQ(round.copied, round.wal_frames);
    EXPECT_FALSE(round.restarted);

    // Nothing new: nothing to copy, and the WAL is left as it is.
    const auto again = checkpoints.round();
    EXPECT_EQ(again.wal_frames, round.wal_frames);
    EXPECT_EQ(again.copied, round.copied);
}

TEST_F(WalCheckpoints, ALongWalIsRestartedOnceUntilItIsWrittenAgain) {
    write_pages(1000);
    WalCheckpointer restarting(options, {.restart_at_frames = 500});
    const auto round = restarting.round();
    EXPECT_TRUE(round.restarted);
    EXPECT_EQ(round.copied, round.wal_frames);
    EXPECT_FALSE(restarting.round().restarted) << "nothing written since: nothing to restart";

    // The next commit writes at the WAL's beginning: it holds only the new frames.
    write_pages(600);
    const auto after = restarting.round();
    EXPECT_GE(after.wal_frames, 600);
    EXPECT_LT(after.wal_frames, 800);
    EXPECT_TRUE(after.restarted);
}

TEST_F(WalCheckpoints, AReaderOnAnOldSnapshotHoldsTheCopyAndTheRestartBack) {
    write_pages(300);
    auto reader = connect_store(options);
    reader->begin_snapshot();
    auto count = reader->prepare("SELECT count(*) FROM scratch");
    ASSERT_TRUE(count->step());
    EXPECT_EQ(count->int64_at(0), 300);
    write_pages(300); // frames the reader's snapshot must not see in the file

    WalCheckpointer checkpoints(options, {.restart_at_frames = 100});
    const auto held = checkpoints.round();
    EXPECT_FALSE(held.restarted);
    EXPECT_LT(held.copied, held.wal_frames); // the newer frames wait for the reader

    count->release();
    reader->commit();
    const auto done = checkpoints.round();
    EXPECT_TRUE(done.restarted);
    EXPECT_EQ(done.copied, done.wal_frames);
}

TEST_F(WalCheckpoints, TheRestartGivesUpWhileAReaderIsInTheWal) {
    write_pages(300);
    auto reader = connect_store(options);
    reader->begin_snapshot();
    auto count = reader->prepare("SELECT count(*) FROM scratch");
    ASSERT_TRUE(count->step()); // its snapshot holds everything: the PASSIVE copies it all

    WalCheckpointer checkpoints(options, {.restart_at_frames = 100});
    const auto waited = checkpoints.round(); // gives up after restart_wait, not the lock wait
    EXPECT_EQ(waited.copied, waited.wal_frames);
    EXPECT_FALSE(waited.restarted);

    count->release();
    reader->commit();
    EXPECT_TRUE(checkpoints.round().restarted);
}

} // namespace
} // namespace dunning::store
