// Test-only bridge for signature_differential.mjs: one JSON request per stdin line, one JSON
// answer per stdout line, flushed, so a Node script can drive the real verifier.
//   {"op":"verify","body":…,"header":…,"secrets":[…],"now":…,"tolerance":…}
//     → {"ok":true,"index":N} | {"ok":false,"error":"too_old"}
//   {"op":"sign","body":…,"secret":…,"t":…} → {"header":"t=…,v1=…"}
#include "webhook/signature.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using nlohmann::json;
using namespace dunning;

json verify(const json& request) {
    const auto tolerance = request.value("tolerance", webhook::default_tolerance.count());
    const auto result = webhook::verify_signature(
        request.at("body").get<std::string>(), request.at("header").get<std::string>(),
        request.at("secrets").get<std::vector<std::string>>(),
        from_unix(request.at("now").get<std::int64_t>()), std::chrono::seconds{tolerance});
    if (result) return {{"ok", true}, {"index", result.value()}};
    return {{"ok", false}, {"error", webhook::to_string(result.error())}};
}

json sign(const json& request) {
    return {{"header", webhook::sign_payload(request.at("body").get<std::string>(),
                                             request.at("secret").get<std::string>(),
                                             from_unix(request.at("t").get<std::int64_t>()))}};
}

json answer(const std::string& line) {
    try {
        const json request = json::parse(line);
        const auto op = request.at("op").get<std::string>();
        if (op == "verify") return verify(request);
        if (op == "sign") return sign(request);
        return {{"error", "unknown op: " + op}};
    } catch (const json::exception& e) {
        return {{"error", std::string("bad request: ") + e.what()}};
    }
}

} // namespace

int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        std::cout << answer(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << std::endl;
    }
}
