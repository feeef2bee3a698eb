// The dashboard's pages: compiled-in mustache templates (http/templates/pages/), each value
// escaped by core's HTML escaper, inside one layout with the navigation.
#include "core/html.hpp"
#include "http/dashboard.hpp"

#include <kainjow/mustache.hpp>

#include <stdexcept>
#include <string_view>

namespace dunning::http {

namespace detail {
std::optional<std::string_view> builtin_template(std::string_view name);
} // namespace detail

namespace {

namespace mst = kainjow::mustache;
using nlohmann::json;

mst::data to_data(const json& j) {
    switch (j.type()) {
    case json::value_t::object: {
        mst::data out{mst::data::type::object};
        for (const auto& [key, value] : j.items())
            out.set(key, to_data(value));
        return out;
    }
    case json::value_t::array: {
        mst::data out{mst::data::type::list};
        for (const auto& value : j)
            out.push_back(to_data(value));
        return out;
    }
    case json::value_t::string:
        return mst::data{j.get<std::string>()};
    case json::value_t::boolean:
        return mst::data{j.get<bool>()};
    case json::value_t::null:
        return mst::data{false};
    default:
        return mst::data{j.dump()};
    }
}

std::string render(const std::string& name, const json& values) {
    const auto source = detail::builtin_template("pages/" + name + ".html.mustache");
    if (!source) throw std::logic_error("no dashboard template " + name);
    mst::mustache tmpl{std::string(*source)};
    tmpl.set_custom_escape([](const std::string& s) { return html_escape(s); });
    auto out = tmpl.render(to_data(values));
    if (!tmpl.is_valid()) throw std::logic_error(name + ": " + tmpl.error_message());
    return out;
}

} // namespace

void send_dashboard_page(Services& m, httplib::Response& res, const DashboardSession& session,
                         const std::string& page, json values, int status) {
    values["t"] = dashboard_texts(session.locale);
    values["csrf"] = session.csrf;
    values["lang"] = session.locale;
    values["nav"] = true;
    values["page_" + page] = true;
    json layout = values;
    layout["body"] = render(page, values);
    dashboard_headers(m, res);
    res.status = status;
    res.set_content(render("layout", layout), "text/html; charset=utf-8");
}

void send_dashboard_message(Services& m, httplib::Response& res, int status,
                            const std::string& locale, const std::string& text_key) {
    const auto& t = dashboard_texts(locale);
    json values{{"t", t}, {"lang", t["lang"]}, {"nav", false}, {"title", t["dashboard"]}};
    values["body"] = render("message", json{{"message", t.value(text_key, text_key)}});
    dashboard_headers(m, res);
    res.status = status;
    res.set_content(render("layout", values), "text/html; charset=utf-8");
}

void send_dashboard_sign_in(Services& m, httplib::Response& res, const std::string& locale,
                            const std::string& token) {
    const auto& t = dashboard_texts(locale);
    json values{{"t", t}, {"lang", t["lang"]}, {"nav", false}, {"title", t["dashboard"]}};
    values["body"] = render("sign_in", json{{"t", t}, {"lang", t["lang"]}, {"token", token}});
    dashboard_headers(m, res);
    res.set_content(render("layout", values), "text/html; charset=utf-8");
}

void install_dashboard_style(httplib::Server& http, Services& m) {
    http.Get("/dashboard/style.css", [&m](const httplib::Request&, httplib::Response& res) {
        const auto css = detail::builtin_template("pages/style.css.mustache");
        dashboard_headers(m, res);
        res.set_header("Cache-Control", "max-age=3600");
        res.set_content(std::string(css.value_or("")), "text/css; charset=utf-8");
    });
}

} // namespace dunning::http
