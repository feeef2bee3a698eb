#pragma once
// Test support: the store a store test runs against, on the engine its binary is built for. A
// suite written once runs on SQLite (a file in a temporary directory) and, compiled again with
// DUNNING_TEST_POSTGRES defined, on PostgreSQL (a database of its own on the binary's test server,
// tests/support/postgres.hpp, which that binary then starts).
#include "store/database.hpp"
#include "support/service.hpp"

#ifdef DUNNING_TEST_POSTGRES
#include "support/postgres.hpp"
#endif

#include <memory>
#include <string>

namespace dunning::testing {

// Where a test's store is; options() opens it again (as a restart would).
class TestStore {
  public:
    store::StoreOptions options() const {
        store::StoreOptions o;
        o.path = (dir_.path() / "dunning.sqlite").string();
        o.synchronous = "normal";
#ifdef DUNNING_TEST_POSTGRES
        o.postgres_url = database_.url();
#endif
        return o;
    }

  private:
    TempDir dir_;
#ifdef DUNNING_TEST_POSTGRES
    ScratchDatabase database_{postgres_cluster()};
#endif
};

} // namespace dunning::testing
