#pragma once
// SQLite's implementation of the store's connection (store/database.hpp). The only place that
// knows the engine: its C API, its PRAGMAs (WAL, synchronous, foreign keys, user_version as the
// schema version), its busy handler and its file format.
#include "store/database.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace dunning::store {

// Opens (creating) the file with the durability in `options` and the lock wait. Throws
// StoreError when it cannot.
std::unique_ptr<Connection> connect_sqlite(const StoreOptions& options);

// Reads the file without writing a byte (not even WAL mode) and throws std::runtime_error unless
// it is missing, empty or a dunning database this binary knows.
void check_sqlite_file(const std::string& path);

// Copies the WAL's pages into the database file, on a thread of its own that calls round() every
// `period` (plugin::Module runs it in a jobs::BackgroundLoop). SQLite's automatic
// checkpoint runs on the thread whose commit crossed the threshold: that request or event waited
// while up to 10,000 pages of WAL (about 40 MB) were copied and synced (about 200 ms on this
// project's 2-core VM). The service's connections keep the automatic checkpoint only as a
// backstop (past 10,000 pages) for when this thread falls behind, and for the command-line tools,
// which run without it.
//
// A round: a PASSIVE checkpoint (copies what no reader still needs; writers go
// on). Once the WAL holds `restart_at_frames` and the PASSIVE copied all of it, a RESTART
// checkpoint follows so that the next writer starts the WAL from its beginning (it waits for the
// readers still in the WAL, which would otherwise keep the writer from doing that): it holds
// writers back while it copies what came in meanwhile and syncs, and it waits at most
// `restart_wait` for the write lock and for readers; when they take longer it gives up until the
// next round. Rounds are called from one thread at a time.
class WalCheckpointer {
  public:
    static constexpr std::chrono::milliseconds period{100};
    struct Options {
        int restart_at_frames = 4000; // about 16 MB of WAL
        std::chrono::milliseconds restart_wait{20};
    };
    struct Round {
        int wal_frames = 0; // the WAL's frames when the round ended
        int copied = 0;     // of them, copied into the database file
        bool restarted = false;
    };
    // Opens its own connection to the file (which open_store prepared).
    WalCheckpointer(const StoreOptions& store, Options options);

    Round round(); // throws StoreError

  private:
    std::unique_ptr<Connection> db_;
    Options options_;
    int restarted_at_ = -1; // the WAL's frames when the last RESTART succeeded
};

} // namespace dunning::store
