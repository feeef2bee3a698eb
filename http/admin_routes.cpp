// The admin API: creators made, changed, disabled and given new tokens while the service runs.
// Every change goes to the store first, then to the registry, so the routes and the jobs see it
// at once and a restart keeps it.
#include "crypto/crypto.hpp"
#include "http/creator_bodies.hpp"
#include "http/creator_change.hpp"
#include "http/services.hpp"
#include "http/stripe_connect.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/access_store.hpp"
#include "store/creators.hpp"
#include "store/stripe_connections.hpp"

#include <nlohmann/json.hpp>

#include <mutex>

namespace dunning::http {

namespace {

using nlohmann::json;
using Snapshot = config::CreatorRegistry::Snapshot;

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void send_problems(httplib::Response& res, const std::vector<std::string>& problems) {
    send_json(res, 400,
              {{"error", "the creator's settings have problems"}, {"problems", problems}});
}

json view(const config::CreatorConfig& c) {
    json out = json::parse(c.settings_json, nullptr, false);
    if (!out.is_object()) out = json::object();
    out["id"] = c.id;
    out["object"] = "creator";
    out["source"] = c.source;
    out["disabled"] = c.disabled;
    return out;
}

// The caller, when the admin API is on and the token may act on `creator` (empty: admin only).
std::optional<Caller> allowed(Services& m, const httplib::Request& req, httplib::Response& res,
                              const std::string& creator = {}) {
    if (m.config.platform.admin_token.empty()) {
        send_error(res, 404,
                   "the admin API is off: set [platform] admin_token in the configuration");
        return std::nullopt;
    }
    auto caller = identify(m, req, res);
    if (!caller) return std::nullopt;
    if (caller->admin || (!creator.empty() && caller->creator == creator)) return caller;
    send_error(res, 403,
               creator.empty() ? "only the admin token may do this"
                               : "this token does not grant access to creator " + creator);
    return std::nullopt;
}

std::string account_used_by(const std::string& holder) {
    return "stripe_account: already used by creator " + holder;
}

// Checks across creators the reader cannot see, appended to the reader's problems.
// Run whether or not the reader found problems: a 400 lists every problem at once. The store is
// asked again where the settings are written (jobs::account_holder): another instance may have
// given the account away since this one's registry was read.
void check_account(Services& m, const json& settings, std::vector<std::string>& out) {
    const auto account = settings.find("stripe_account");
    if (account == settings.end() || !account->is_string()) return;
    const auto holder = m.creators.find_by_account(account->get<std::string>());
    if (holder && json(holder->id) != settings.value("id", json()))
        out.push_back(account_used_by(holder->id));
}

// Deeper than any creator's settings go; the readers after this one recurse per level.
constexpr int max_body_depth = 16;

std::optional<json> read_body(const httplib::Request& req, httplib::Response& res) {
    bool too_deep = false;
    auto body = json::parse(
        req.body,
        [&too_deep](int depth, json::parse_event_t, json&) {
            too_deep = too_deep || depth > max_body_depth;
            return !too_deep;
        },
        false);
    if (too_deep) {
        send_problems(res,
                      {"body: nested deeper than " + std::to_string(max_body_depth) + " levels"});
        return std::nullopt;
    }
    if (body.is_discarded() || !body.is_object()) {
        send_problems(res, {"body: must be a JSON object"});
        return std::nullopt;
    }
    return body;
}

std::int64_t now_of(const Services& m) {
    return to_unix(m.clock.now());
}

// "import_open_invoices" (default true) belongs to the request, not to the creator's settings:
// taken out of the body; nullopt (the 422 written) when it is not a boolean.
std::optional<bool> take_import_flag(json& body, httplib::Response& res) {
    const auto found = body.find("import_open_invoices");
    if (found == body.end()) return true;
    if (!found->is_boolean()) {
        send_problems(res, {"import_open_invoices: must be true or false"});
        return std::nullopt;
    }
    const bool flag = found->get<bool>();
    body.erase(found);
    return flag;
}

void import_open(Services& m, const std::string& creator, bool import_open_invoices) {
    if (import_open_invoices && m.creator_connected) m.creator_connected(creator);
}

void create(Services& m, const httplib::Request& req, httplib::Response& res) {
    if (!allowed(m, req, res)) return;
    auto body = read_body(req, res);
    if (!body) return;
    const auto import_open_invoices = take_import_flag(*body, res);
    if (!import_open_invoices) return;
    std::lock_guard lock(m.creators.changes());
    if (body->contains("id") && (*body)["id"].is_string() &&
        m.creators.find((*body)["id"].get<std::string>()))
        return send_error(res, 409, "creator " + (*body)["id"].get<std::string>() + " exists");
    auto creator = creator_from_settings(*body, m.config);
    auto problems = creator.ok() ? std::vector<std::string>{} : creator.error();
    check_account(m, *body, problems);
    if (!problems.empty()) return send_problems(res, problems);
    auto c = std::move(creator).value();
    const auto token = store::random_api_token();
    c.api_token_hash = crypto::sha256_hex(token);
    const auto now = now_of(m);
    bool inserted = false;
    const auto holder = m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        auto held = jobs::account_holder(db, c.stripe_account, c.id);
        if (held.empty())
            inserted = store::insert_creator(
                db, {c.id, c.source, c.settings_json, false, c.api_token_hash, now, now});
        tx.commit();
        return held;
    });
    if (!holder.empty()) return send_problems(res, {account_used_by(holder)});
    if (!inserted)
        return send_error(res, 409,
                          "creator " + c.id +
                              " exists in the store (a creator the "
                              "configuration file no longer has)");
    const bool has_account = record_platform_account(m, *body, c);
    json out = view(c);
    m.creators.put(c);
    out["stripe"] = stripe_connection_view(m, c);
    out["api_token"] = token; // shown this once; only its SHA-256 is kept
    if (has_account) after_connect(m, c);
    send_json(res, 201, out);
    if (has_account) import_open(m, c.id, *import_open_invoices);
}

// The creator the path names, or the 404 written.
Snapshot existing(Services& m, const std::string& id, httplib::Response& res) {
    auto c = m.creators.find(id);
    if (!c) send_error(res, 404, "no such creator");
    return c;
}

bool from_file(const config::CreatorConfig& c, const Services& m, httplib::Response& res,
               const char* what) {
    if (c.source != "config") return false;
    send_error(res, 409,
               "creator " + c.id + " is defined in " + m.config.path + ", which sets " + what +
                   " again at every start: change it there");
    return true;
}

void patch(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const auto caller = allowed(m, req, res, id);
    if (!caller) return;
    auto body = read_body(req, res);
    if (!body) return;
    const auto change = change_creator(m, id, std::move(*body), caller->admin);
    if (!change.problems.empty()) return send_problems(res, change.problems);
    if (change.status != 200) return send_error(res, change.status, change.error);
    send_json(res, 200, change.creator);
}

void set_disabled(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!allowed(m, req, res)) return;
    std::lock_guard lock(m.creators.changes());
    const auto current = existing(m, id, res);
    if (!current) return;
    auto c = *current;
    c.disabled = req.matches[2] == "disable";
    m.db.use(
        [&](store::Connection& db) { store::set_creator_disabled(db, id, c.disabled, now_of(m)); });
    json out = view(c);
    const bool enabled = !c.disabled && current->disabled;
    m.creators.replace(std::move(c));
    // Enabled again: what access waited for (a lock announced while disabled) happens now.
    if (enabled)
        m.db.use([&](store::Connection& db) { store::recheck_creator_now(db, id, m.clock.now()); });
    m.work.wake();
    send_json(res, 200, out);
}

void new_token(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!allowed(m, req, res)) return;
    std::lock_guard lock(m.creators.changes());
    const auto current = existing(m, id, res);
    if (!current || from_file(*current, m, res, "its api_token")) return;
    auto c = *current;
    const auto token = store::random_api_token();
    c.api_token_hash = crypto::sha256_hex(token);
    m.db.use([&](store::Connection& db) {
        store::set_creator_token_hash(db, id, c.api_token_hash, now_of(m));
    });
    json out = view(c);
    m.creators.replace(std::move(c)); // the old token stops working here
    out["api_token"] = token;
    send_json(res, 200, out);
}

} // namespace

// PATCH /v1/creators/{c}'s change, for the route and the dashboard's settings page alike.
CreatorChange change_creator(Services& m, const std::string& id, json body, bool admin) {
    CreatorChange out;
    auto fail = [&out](int status, std::string error) {
        out.status = status;
        out.error = std::move(error);
        return out;
    };
    for (const char* shown_only : {"object", "source", "disabled", "stripe"}) // what GET adds
        body.erase(shown_only);
    bool import_open_invoices = true;
    if (const auto found = body.find("import_open_invoices"); found != body.end()) {
        if (!found->is_boolean()) {
            out.status = 400;
            out.problems = {"import_open_invoices: must be true or false"};
            return out;
        }
        import_open_invoices = found->get<bool>();
        body.erase(found);
    }
    std::lock_guard lock(m.creators.changes());
    const auto current = m.creators.find(id);
    if (!current) return fail(404, "no such creator");
    if (current->source == "config")
        return fail(409, "creator " + id + " is defined in " + m.config.path +
                             ", which sets its settings again at every start: change it there");
    std::vector<std::string> problems;
    if (body.contains("id") && body["id"] != id) {
        problems.push_back("id: cannot be changed");
        body.erase("id");
    }
    // The account decides whose events and members a creator gets: the platform's to give.
    const bool new_account =
        body.contains("stripe_account") && body["stripe_account"] != json(current->stripe_account);
    if (!admin && new_account) return fail(403, "only the admin token may change stripe_account");
    if (new_account) {
        const auto conn =
            m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, id); });
        if (conn && conn->status == "connected" && conn->method != "platform")
            return fail(409, "creator " + id + " is connected through " + conn->method +
                                 ": disconnect it (POST /v1/creators/" + id +
                                 "/stripe/disconnect) before naming another account");
    }
    auto settings = json::parse(current->settings_json);
    settings.merge_patch(body); // RFC 7396: given keys replace, null removes
    auto creator = creator_from_settings(settings, m.config);
    if (!creator.ok())
        problems.insert(problems.end(), creator.error().begin(), creator.error().end());
    check_account(m, settings, problems);
    if (!problems.empty()) {
        out.status = 400;
        out.problems = std::move(problems);
        return out;
    }
    auto c = std::move(creator).value();
    c.disabled = current->disabled;
    c.api_token_hash = current->api_token_hash;
    const auto holder = m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        // Asked whenever the body names an account: this instance's copy may be stale.
        auto held = body.contains("stripe_account") ? jobs::account_holder(db, c.stripe_account, id)
                                                    : std::string();
        if (held.empty()) store::update_creator_settings(db, id, c.settings_json, now_of(m));
        tx.commit();
        return held;
    });
    if (!holder.empty()) {
        out.status = 400;
        out.problems = {account_used_by(holder)};
        return out;
    }
    out.creator = view(c);
    const bool newly_connected = record_platform_account(m, body, c);
    m.creators.replace(c);
    out.creator["stripe"] = stripe_connection_view(m, c);
    if (newly_connected) after_connect(m, c);
    if (newly_connected) import_open(m, id, import_open_invoices);
    return out;
}

void install_admin_routes(httplib::Server& http, Services& m) {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    http.Post("/v1/creators", [&m](Req req, Res res) { create(m, req, res); });
    http.Get("/v1/creators", [&m](Req req, Res res) {
        if (!allowed(m, req, res)) return;
        json data = json::array();
        for (const auto& c : m.creators.all()) {
            data.push_back(view(*c));
            data.back()["stripe"] = stripe_connection_view(m, *c);
        }
        send_json(res, 200, {{"object", "list"}, {"data", data}});
    });
    http.Get(R"(/v1/creators/([^/]+))", [&m](Req req, Res res) {
        const std::string id = req.matches[1];
        if (!allowed(m, req, res, id)) return;
        if (const auto c = existing(m, id, res)) {
            json out = view(*c);
            out["stripe"] = stripe_connection_view(m, *c);
            send_json(res, 200, out);
        }
    });
    http.Patch(R"(/v1/creators/([^/]+))", [&m](Req req, Res res) { patch(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/(disable|enable))",
              [&m](Req req, Res res) { set_disabled(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/api-token)",
              [&m](Req req, Res res) { new_token(m, req, res); });
}

} // namespace dunning::http
