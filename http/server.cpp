#include "http/dashboard.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

namespace dunning::http {

void send_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    // A message may quote what the client sent (an id in the path): bytes that are not UTF-8 are
    // replaced rather than failing the answer.
    res.set_content(nlohmann::json{{"error", message}}.dump(
                        -1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void install_routes(httplib::Server& server, Services& s) {
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(100000);
    server.set_payload_max_length(s.config.server.max_body_bytes);
    server.set_error_handler([&s](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 413) {
            if (req.path.starts_with("/webhooks/")) s.metrics.event_rejected("body_too_large");
            send_error(res, 413,
                       "body larger than " + std::to_string(s.config.server.max_body_bytes) +
                           " bytes");
        } else if (res.status == 404) {
            send_error(res, 404, "no such endpoint: " + req.method + " " + req.path);
        } else {
            send_error(res, res.status, "request failed");
        }
    });
    install_webhook_routes(server, s);
    install_handover_routes(server, s); // before the API's catch-all case actions
    install_api_routes(server, s);
    install_access_routes(server, s);
    install_open_items_routes(server, s);
    install_summary_routes(server, s);
    install_promise_routes(server, s);
    install_stripe_connect_routes(server, s); // before the admin API's /v1/creators/{c}
    install_dashboard_auth_routes(server, s); // before the admin API's /v1/creators/{c}
    install_admin_routes(server, s);
    install_dashboard_pages(server, s);
    if (s.test_clock) install_test_clock_routes(server, s);
}

} // namespace dunning::http
