#pragma once
// A change of a creator's settings (RFC 7396 merge of `body` into them), read by the same rules
// and with the same messages as the configuration file: PATCH /v1/creators/{c} and the
// dashboard's settings page both go through here.
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dunning::http {

struct CreatorChange {
    int status = 200;                  // 400 with problems; 403, 404, 409 with error
    std::vector<std::string> problems; // every problem of the settings, as "key: problem"
    std::string error;
    nlohmann::json creator; // the changed creator as GET /v1/creators/{c} shows it (200)
};

// `admin`: the admin token asks (only it may change stripe_account). A creator of the file is
// changed in the file (409); nothing is stored unless every problem is gone.
CreatorChange change_creator(Services& m, const std::string& id, nlohmann::json body, bool admin);

} // namespace dunning::http
