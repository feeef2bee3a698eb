#pragma once
// What the admin API's tests share: a service with the admin API on, a creator's body, a request.
#include "support/service.hpp"

#include <gtest/gtest.h>

namespace dunning::testing {

using nlohmann::json;

inline config::Config admin_config(const std::filesystem::path& dir) {
    auto c = test_config(dir);
    c.platform.admin_token = admin_token;
    c.mail.from = "Alpha Academy <billing@alpha.example>";
    return c;
}

inline json gamma_body() {
    return {{"id", "gamma"},
            {"name", "Gamma Courses"},
            {"locale", "en"},
            {"stripe_account", "acct_gamma"},
            {"products", {{{"stripe_product", "prod_gamma"}, {"courses", {"course-g1"}}}}}};
}

inline httplib::Result send(httplib::Client& cli, const std::string& method,
                            const std::string& path, const std::string& token,
                            const std::string& body = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    if (method == "GET") return cli.Get(path.c_str(), h);
    if (method == "PATCH") return cli.Patch(path.c_str(), h, body, "application/json");
    return cli.Post(path.c_str(), h, body, "application/json");
}

// Makes gamma through the admin API; its token.
inline std::string create_gamma(Service& s) {
    auto cli = s.client();
    const auto r = send(cli, "POST", "/v1/creators", admin_token, gamma_body().dump());
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body).value("api_token", "");
}

} // namespace dunning::testing
