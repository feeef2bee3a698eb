// The real `dunning serve` when its storage is in trouble: the disk full (a file size limit on
// the process), the database locked by another process, and a file at [storage] sqlite_path that
// is not a dunning database. A SQLite-file test: another process locks, damages or writes the
// file with SQLite itself.
#include "support/child_service.hpp"
#include "support/service.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <random>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

const std::string binary = DUNNING_BINARY;

std::string failed_invoice(const std::string& invoice) {
    auto e = fixture("invoice.payment_failed");
    e["data"]["object"]["id"] = invoice;
    return e.dump();
}

int post(const ChildService& s, const std::string& body) {
    auto cli = s.client(60);
    const auto r = post_signed(cli, "/webhooks/stripe/alpha", body, alpha_secret);
    return r ? r->status : -1;
}

int health(const ChildService& s) {
    auto cli = s.client();
    const auto r = cli.Get("/healthz");
    return r ? r->status : -1;
}

long long count(const std::filesystem::path& db, const std::string& sql) {
    SQLite::Database d(db.string());
    d.setBusyTimeout(10000);
    return d.execAndGet(sql).getInt64();
}

// Polls (the worker runs in the background) until every stored event is processed.
bool all_processed(const std::filesystem::path& db) {
    for (int i = 0; i < 6000; ++i) {
        if (count(db, "SELECT count(*) FROM inbox WHERE state = 'pending'") == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

bool wait_for_health(const ChildService& s, int status) {
    for (int i = 0; i < 3000; ++i) {
        if (health(s) == status) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

void limit_file_size(pid_t pid, rlim_t bytes) {
    rlimit old{};
    ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, nullptr, &old), 0);
    const rlimit now{bytes, old.rlim_max};
    ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &now, nullptr), 0) << std::strerror(errno);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

// The process may not write a byte to any file (its log goes through a pipe): every commit
// fails as on a full disk. Deliveries get 503, nothing stored before is lost, and once the limit
// is lifted the service recovers by itself.
TEST(StorageTrouble, DiskFullAnswers503AndRecoversWhenSpaceReturns) {
    TempDir dir;
    ChildServiceOptions options;
    options.log_name = "storage_disk_full";
    options.log_via = LogVia::pipe;
    ChildService s(dir.path(), options);
    const auto db = dir.path() / "dunning.db";
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(post(s, failed_invoice("in_before_" + std::to_string(i))), 200);
    ASSERT_TRUE(all_processed(db));

    limit_file_size(s.pid(), 0);
    std::vector<std::string> refused;
    for (int i = 0; i < 5; ++i) {
        refused.push_back(failed_invoice("in_during_" + std::to_string(i)));
        EXPECT_EQ(post(s, refused.back()), 503) << s.read_log();
    }
    EXPECT_TRUE(s.alive());
    EXPECT_EQ(health(s), 503);
    // A few seconds of failing probes and worker rounds: still said once.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(post(s, refused[0]), 503);
    const auto during = s.read_log();
    EXPECT_EQ(occurrences(during, "the inbox cannot commit"), 1u) << during;
    EXPECT_LT(occurrences(during, "\n"), 12u) << during;
    EXPECT_EQ(count(db, "SELECT count(*) FROM inbox"), 20);

    limit_file_size(s.pid(), RLIM_INFINITY);
    ASSERT_TRUE(wait_for_health(s, 200)) << s.read_log();
    for (const auto& body : refused) // Stripe delivers them again
        EXPECT_EQ(post(s, body), 200);
    ASSERT_TRUE(all_processed(db)) << s.read_log();
    EXPECT_EQ(count(db, "SELECT count(*) FROM inbox WHERE state = 'done'"), 25);
    EXPECT_EQ(count(db, "SELECT count(*) FROM cases"), 25);
    const auto after = s.read_log();
    EXPECT_EQ(occurrences(after, "the inbox cannot commit"), 1u) << after;
    EXPECT_EQ(occurrences(after, "the inbox takes events again"), 1u) << after;
    EXPECT_EQ(s.terminate(), 0) << s.read_log();
}

// Another process holds the write lock for 10 s. A delivery waits a bounded time (the inbox's
// lock wait, 5 s) and gets 503 while the lock is still held; afterwards it is taken.
TEST(StorageTrouble, DatabaseLockedByAnotherProcessAnswers503ThenProceeds) {
    TempDir dir;
    ChildServiceOptions options;
    options.log_name = "storage_locked";
    ChildService s(dir.path(), options);
    const auto db = dir.path() / "dunning.db";
    ASSERT_EQ(post(s, failed_invoice("in_first")), 200);
    ASSERT_TRUE(all_processed(db));

    const auto body = failed_invoice("in_locked");
    {
        SQLite::Database other(db.string(), SQLite::OPEN_READWRITE);
        other.setBusyTimeout(10000);
        other.exec("BEGIN EXCLUSIVE");
        const auto locked_at = std::chrono::steady_clock::now();
        // With a lock wait of 10 s or more this would be answered 200 after the lock goes.
        EXPECT_EQ(post(s, body), 503) << s.read_log();
        EXPECT_EQ(health(s), 503);
        std::this_thread::sleep_until(locked_at + std::chrono::seconds(10));
        other.exec("ROLLBACK");
    }
    ASSERT_TRUE(wait_for_health(s, 200)) << s.read_log();
    EXPECT_EQ(post(s, body), 200);
    ASSERT_TRUE(all_processed(db));
    EXPECT_EQ(count(db, "SELECT count(*) FROM cases"), 2);
    EXPECT_EQ(occurrences(s.read_log(), "the inbox cannot commit"), 1u) << s.read_log();
    EXPECT_EQ(s.terminate(), 0) << s.read_log();
}

struct BadFile {
    const char* name;
    std::function<void(const std::filesystem::path&)> make;
    const char* says; // in the error message, besides the path
};

void random_bytes(const std::filesystem::path& p) {
    std::mt19937 gen(42);
    std::string bytes(3 * 4096, '\0');
    for (auto& c : bytes)
        c = static_cast<char>(gen());
    std::ofstream(p, std::ios::binary) << bytes;
}

void another_apps_db(const std::filesystem::path& p, int user_version) {
    SQLite::Database d(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    d.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    d.exec("INSERT INTO notes (text) VALUES ('keep me')");
    d.exec("PRAGMA user_version = " + std::to_string(user_version));
}

// A dunning store (made by the service itself), then changed by `change`.
void dunning_db(const std::filesystem::path& p,
                const std::function<void(const std::filesystem::path&)>& change) {
    auto cfg = test_config(p.parent_path());
    cfg.storage.sqlite_path = p.string();
    { Service once(cfg); }
    {
        SQLite::Database d(p.string(), SQLite::OPEN_READWRITE);
        d.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        d.exec("PRAGMA journal_mode = DELETE");
    }
    change(p);
}

class ForeignFile : public ::testing::TestWithParam<BadFile> {};

// `dunning serve` refuses the file, says which and why, exits non-zero and leaves every byte.
TEST_P(ForeignFile, IsRefusedWithAClearErrorAndLeftUntouched) {
    TempDir dir;
    const auto db = dir.path() / "dunning.db";
    GetParam().make(db);
    const auto before = read_file(db);
    const auto config = write_child_config(dir.path(), {});
    const auto r = run_command("timeout 30 " + binary + " serve --config " + config);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.exit_code, 124) << "still serving after 30 s: " << r.output;
    EXPECT_NE(r.output.find(db.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(GetParam().says), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("left untouched"), std::string::npos) << r.output;
    EXPECT_TRUE(read_file(db) == before) << "the file was changed";
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "dunning.db-wal"));
}

INSTANTIATE_TEST_SUITE_P(
    StorageTrouble, ForeignFile,
    ::testing::Values(BadFile{"random_bytes", random_bytes, "file is not a database"},
                      BadFile{"text_file",
                              [](const std::filesystem::path& p) {
                                  std::ofstream(p) << "[server]\nlisten = \"127.0.0.1:8080\"\n";
                              },
                              "file is not a database"},
                      BadFile{"another_apps_database",
                              [](const std::filesystem::path& p) { another_apps_db(p, 0); },
                              "another application (tables notes)"},
                      BadFile{"another_apps_versioned_database",
                              [](const std::filesystem::path& p) { another_apps_db(p, 3); },
                              "another application (schema version 3, tables notes)"},
                      BadFile{"newer_schema",
                              [](const std::filesystem::path& p) {
                                  dunning_db(p, [](const std::filesystem::path& f) {
                                      SQLite::Database(f.string(), SQLite::OPEN_READWRITE)
                                          .exec("PRAGMA user_version = 9999");
                                  });
                              },
                              "has schema version 9999, newer than this binary knows"},
                      BadFile{"corrupt_first_page",
                              [](const std::filesystem::path& p) {
                                  dunning_db(p, [](const std::filesystem::path& f) {
                                      std::fstream io(f, std::ios::in | std::ios::out |
                                                             std::ios::binary);
                                      io.seekp(100);
                                      const std::string junk(200, '\xee');
                                      io.write(junk.data(),
                                               static_cast<std::streamsize>(junk.size()));
                                  });
                              },
                              "malformed"}),
    [](const auto& info) { return std::string(info.param.name); });

} // namespace
