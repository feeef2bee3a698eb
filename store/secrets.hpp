#pragma once
// Creators' secrets at rest (Stripe keys, OAuth tokens, webhook signing secrets): the table
// creator_secrets holds each one sealed (store/secret_box.hpp), bound to its (creator, name), so
// the database file, its WAL and its backups never hold a plaintext. Names are free strings,
// e.g. stripe_secret_key, webhook_secret, oauth_access_token, oauth_refresh_token.
#include "core/result.hpp"
#include "core/time.hpp"

#include "store/database.hpp"
#include "store/secret_box.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dunning::store {

// The associated data a secret is sealed with: its row, unambiguously (the creator's length
// first, so "a/b" + "c" and "a" + "b/c" differ).
std::string secret_place(std::string_view creator, std::string_view name);

// Seals and stores (replacing any earlier value). Refused, with the reason, when the box has no
// sealing key; throws only on the store's own trouble (SQLite).
Result<std::monostate, std::string> put_secret(Connection& db, const SecretBox& box,
                                               const std::string& creator, const std::string& name,
                                               std::string_view plaintext, Timestamp now);

// Nothing when there is no such secret; an error when it is there but does not open (its key is
// not configured, or the value was altered or copied from another row).
Result<std::optional<std::string>, std::string> get_secret(Connection& db, const SecretBox& box,
                                                           const std::string& creator,
                                                           const std::string& name);

// Whether there was one to delete.
bool delete_secret(Connection& db, const std::string& creator, const std::string& name);

// The creator's secret names, sorted.
std::vector<std::string> list_secret_names(Connection& db, const std::string& creator);

struct RotationReport {
    std::size_t total = 0;           // rows in creator_secrets
    std::size_t resealed = 0;        // now under the new key
    std::size_t skipped = 0;         // already under the new key
    std::vector<std::string> failed; // "creator/name: why"; nothing was changed then
};

// Re-seals every secret not yet under `to`'s sealing key, opening it with `from` (the current
// key and the previous ones), in one transaction: all rows or, when one does not open, none.
// `progress(done, todo)` after each row.
RotationReport rotate_secrets(Connection& db, const SecretBox& from, const SecretBox& to,
                              Timestamp now,
                              const std::function<void(std::size_t, std::size_t)>& progress = {});

} // namespace dunning::store
