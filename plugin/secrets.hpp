#pragma once
// Creators' secrets at rest: the box [storage] configures, and `dunning secrets rotate-key`.
#include "config/config.hpp"
#include "store/secret_box.hpp"

#include <iosfwd>
#include <string>

namespace dunning::plugin {

// Seals with secrets_key (none: sealing is refused), opens with it and previous_secrets_keys.
store::SecretBox secret_box(const config::StorageConfig& storage);

struct RotateKeyOptions {
    std::string new_key_env;  // the environment variable holding the new key (base64), or
    std::string new_key_file; // a file holding it; never the key itself (it would show in ps)
};

// Re-seals every stored secret under the new key in one transaction, with progress and the
// operator's next steps on `out`. Returns the exit code: 0 done (also when nothing was left to
// do), 1 nothing changed because a value did not open or the store failed, 2 a bad new key.
int rotate_key(const config::Config& config, const RotateKeyOptions& options, std::ostream& out,
               std::ostream& err);

} // namespace dunning::plugin
