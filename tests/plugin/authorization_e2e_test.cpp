// Who may call what, against the real `dunning serve`: every route the http/ room installs is a
// row here (the test reads them from the sources and fails on a route without a row), called
// without a token, with malformed ones, with another creator's token and with the right one.
#include "support/child_service.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <regex>
#include <set>

using namespace dunning;
using namespace dunning::testing;
using nlohmann::json;

namespace {

// link: the member's promise page, whose credential is the signed token in its path.
// admin: the [platform] admin_token alone. session: the dashboard's cookie (and, to change
// anything, the session's CSRF token).
enum class Guard { creator, admin, webhook, open, test_clock, link, session };

struct Route {
    std::string method;
    std::string pattern; // as installed, e.g. /v1/creators/([^/]+)/cases
    Guard guard;
    std::string path; // a request for alpha ("{case}", "{override}": the seeded ids)
    std::string body; // for POST and PATCH
    int ok;           // what the right token gets
};

// Seeded: one case and one access override for each creator.
std::vector<Route> table() {
    const std::string c = "/v1/creators/([^/]+)";
    return {
        {"GET", c + "/cases", Guard::creator, "/v1/creators/alpha/cases", "", 200},
        {"GET", c + "/cases/([^/]+)", Guard::creator, "/v1/creators/alpha/cases/{case}", "", 200},
        {"POST", c + "/cases/([^/]+)/([a-z-]+)", Guard::creator,
         "/v1/creators/alpha/cases/{case}/pause", "", 200},
        {"GET", c + "/access", Guard::creator, "/v1/creators/alpha/access?member=cus_alpha", "",
         200},
        {"POST", c + "/access/query", Guard::creator, "/v1/creators/alpha/access/query",
         R"({"items": [{"member": "cus_alpha", "course": "course-1"}]})", 200},
        {"GET", c + "/access/history", Guard::creator,
         "/v1/creators/alpha/access/history?member=cus_alpha", "", 200},
        {"GET", c + "/access/overrides", Guard::creator,
         "/v1/creators/alpha/access/overrides?member=cus_alpha", "", 200},
        {"POST", c + "/access/overrides", Guard::creator, "/v1/creators/alpha/access/overrides",
         R"({"member": "cus_alpha", "level": "granted", "note": "matrix"})", 201},
        {"POST", c + "/access/overrides/([0-9]+)/revoke", Guard::creator,
         "/v1/creators/alpha/access/overrides/{override}/revoke", R"({"note": "matrix"})", 200},
        {"GET", c + "/open-items", Guard::creator, "/v1/creators/alpha/open-items", "", 200},
        {"GET", c + "/summary", Guard::creator, "/v1/creators/alpha/summary", "", 200},
        // The seeded cases are open: handing over, an agency's result and court data are refused
        // as conflicts, after authorization.
        {"POST", c + "/handovers", Guard::creator, "/v1/creators/alpha/handovers", "{}", 409},
        {"GET", c + "/handovers", Guard::creator, "/v1/creators/alpha/handovers", "", 200},
        {"GET", c + "/handovers/([^/]+)", Guard::creator, "/v1/creators/alpha/handovers/1", "",
         404},
        {"POST", c + "/cases/([^/]+)/collection", Guard::creator,
         "/v1/creators/alpha/cases/{case}/collection", R"({"result": "returned"})", 409},
        {"GET", c + "/cases/([^/]+)/court-dunning", Guard::creator,
         "/v1/creators/alpha/cases/{case}/court-dunning", "", 409},
        // Alpha is a creator of the file: its settings and token are changed there (409).
        {"GET", c, Guard::creator, "/v1/creators/alpha", "", 200},
        {"PATCH", c, Guard::creator, "/v1/creators/alpha", R"({"name": "Alpha"})", 409},
        {"POST", "/v1/creators", Guard::admin, "/v1/creators",
         R"({"id": "matrix", "name": "Matrix", "stripe_account": "acct_matrix"})", 201},
        {"GET", "/v1/creators", Guard::admin, "/v1/creators", "", 200},
        {"POST", c + "/(disable|enable)", Guard::admin, "/v1/creators/alpha/enable", "", 200},
        {"POST", c + "/api-token", Guard::admin, "/v1/creators/alpha/api-token", "", 409},
        {"POST", c + "/login-links", Guard::admin, "/v1/creators/alpha/login-links", "", 201},
        // Alpha is a creator of the file: its Stripe connection is set there (409); it is not
        // connected through the routes, so there is nothing to disconnect (409).
        {"POST", c + "/stripe/oauth", Guard::admin, "/v1/creators/alpha/stripe/oauth", "", 409},
        {"POST", c + "/stripe/disconnect", Guard::admin, "/v1/creators/alpha/stripe/disconnect", "",
         409},
        {"POST", c + "/stripe/keys", Guard::creator, "/v1/creators/alpha/stripe/keys",
         R"({"secret_key": "rk_test_matrix"})", 409},
        // Stripe's redirect: the signed state is the credential.
        {"GET", "/stripe/oauth/callback", Guard::link,
         "/stripe/oauth/callback?code=ac_matrix&state=alpha.forged.1.00", "", 400},
        {"GET", "/promise/([^/]+)", Guard::link, "/promise/forged.token", "", 400},
        {"GET", "/dashboard/login", Guard::link, "/dashboard/login?token=forged", "", 400},
        {"POST", "/dashboard/login", Guard::link, "/dashboard/login", "token=forged", 400},
        {"GET", "/dashboard/style.css", Guard::open, "/dashboard/style.css", "", 200},
        // The dashboard: alpha's session sees alpha's pages; a POST also needs its CSRF token
        // ("{csrf}"), and an action answers by going back to the page it came from.
        {"GET", "/dashboard", Guard::session, "/dashboard", "", 200},
        {"GET", "/dashboard/open-items", Guard::session, "/dashboard/open-items", "", 200},
        {"GET", "/dashboard/cases/([0-9]{1,18})", Guard::session, "/dashboard/cases/{case}", "",
         200},
        {"GET", "/dashboard/members/([A-Za-z0-9_]{1,100})", Guard::session,
         "/dashboard/members/{member}", "", 200},
        {"POST", "/dashboard/actions", Guard::session, "/dashboard/actions",
         "action=resume&case={case}&csrf={csrf}", 303},
        {"GET", "/dashboard/settings", Guard::session, "/dashboard/settings", "", 200},
        // Alpha is a creator of the file: a form that changes nothing goes back to the page.
        {"POST", "/dashboard/settings", Guard::session, "/dashboard/settings", "csrf={csrf}", 303},
        {"POST", "/dashboard/members/([A-Za-z0-9_]{1,100})/overrides", Guard::session,
         "/dashboard/members/{member}/overrides", "level=granted&note=matrix&csrf={csrf}", 303},
        {"POST", "/dashboard/members/([A-Za-z0-9_]{1,100})/overrides/([0-9]{1,18})/revoke",
         Guard::session, "/dashboard/members/{member}/overrides/{override}/revoke",
         "note=matrix&csrf={csrf}", 303},
        {"POST", "/dashboard/logout", Guard::session, "/dashboard/logout", "csrf={csrf}", 200},
        {"POST", "/promise/([^/]+)", Guard::link, "/promise/forged.token", "date=2030-01-01", 400},
        {"POST", "/webhooks/stripe", Guard::webhook, "/webhooks/stripe", "", 200},
        {"POST", "/webhooks/stripe/([^/]+)", Guard::webhook, "/webhooks/stripe/alpha", "", 200},
        {"GET", "/healthz", Guard::open, "/healthz", "", 200},
        {"GET", "/metrics", Guard::open, "/metrics", "", 200},
        {"GET", "/v1/test-clock", Guard::test_clock, "/v1/test-clock", "", 200},
        {"POST", "/v1/test-clock/advance", Guard::test_clock, "/v1/test-clock/advance",
         R"({"seconds": 0})", 200},
    };
}

// Every http.Get/Post/… in http/*.cpp: method and pattern.
std::set<std::pair<std::string, std::string>> installed_routes() {
    static const std::regex call(
        R"re(http\.(Get|Post|Put|Patch|Delete|Options)\(\s*(?:R"\((.*?)\)"|"([^"]*)"))re");
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(DUNNING_SOURCE_DIR) / "http")) {
        if (entry.path().extension() != ".cpp") continue;
        const auto text = read_file(entry.path());
        for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
            std::string method = (*it)[1];
            std::transform(method.begin(), method.end(), method.begin(), ::toupper);
            out.insert({method, (*it)[2].matched ? (*it)[2].str() : (*it)[3].str()});
        }
    }
    return out;
}

TEST(AuthorizationMatrix, EveryInstalledRouteHasARow) {
    std::set<std::pair<std::string, std::string>> rows;
    for (const auto& r : table())
        rows.insert({r.method, r.pattern});
    const auto installed = installed_routes();
    ASSERT_GE(installed.size(), 10u) << "the route scan found too little: is it still right?";
    for (const auto& route : installed)
        EXPECT_TRUE(rows.count(route))
            << route.first << " " << route.second << " has no row in the authorization matrix";
    for (const auto& row : rows)
        EXPECT_TRUE(installed.count(row)) << row.first << " " << row.second << " is not installed";
}

// The raw bytes of a request, for headers no client library would send.
std::string raw_request(int port, const std::string& request) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string answer;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buf[4096];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
            answer.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return answer;
}

int raw_status(const std::string& answer) {
    return answer.size() > 12 && answer.starts_with("HTTP/1.1 ") ? std::stoi(answer.substr(9, 3))
                                                                 : -1;
}

class Matrix : public ::testing::Test {
  protected:
    // A service of its own for each test: a test's calls leave records (beta's own override for
    // the member id cus_alpha, say) that another test must not find.
    void SetUp() override {
        static int started = 0;
        dir_ = new TempDir;
        ChildServiceOptions options;
        // ctest runs each test of the suite as a process of its own, side by side, and the twin
        // on PostgreSQL runs them one after another in one process: each child gets a log of its
        // own, since the port is read from it.
        options.log_name =
            "authorization_matrix_" + std::to_string(getpid()) + "_" + std::to_string(++started);
        options.test_clock = true;
        options.extra_toml = "[platform]\nadmin_token = \"" + admin_token + "\"\n";
        service_ = new ChildService(dir_->path(), options);
        seed("alpha", alpha_secret, alpha_token, alpha_);
        seed("beta", beta_secret, beta_token, beta_);
    }
    void TearDown() override { // also after a SetUp that failed: the statics outlive the test
        if (service_) {
            EXPECT_EQ(service_->terminate(), 0) << service_->read_log();
        }
        delete service_;
        service_ = nullptr;
        delete dir_;
        dir_ = nullptr;
    }

    struct Seeded {
        std::string invoice, customer;
        long long case_id = 0, override_id = 0;
    };

    static void seed(const std::string& creator, const std::string& secret,
                     const std::string& token, Seeded& out) {
        out = Seeded{}; // the suite on PostgreSQL runs every test in one process
        auto cli = service_->client();
        auto e = fixture("invoice.payment_failed");
        out.invoice = "in_" + creator + "_matrix";
        out.customer = "cus_" + creator;
        e["data"]["object"]["id"] = out.invoice;
        e["data"]["object"]["customer"] = out.customer;
        e.erase("account");
        ASSERT_EQ(post_signed(cli, "/webhooks/stripe/" + creator, e.dump(), secret)->status, 200);
        for (int i = 0; i < 3000 && out.case_id == 0; ++i) {
            const auto r = get_with_token(cli, "/v1/creators/" + creator + "/cases", token);
            if (r && r->status == 200 && !json::parse(r->body)["data"].empty())
                out.case_id = json::parse(r->body)["data"][0]["id"];
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_NE(out.case_id, 0);
        {
            const auto shown = get_with_token(
                cli, "/v1/creators/" + creator + "/cases/" + std::to_string(out.case_id), token);
            ASSERT_EQ(shown->status, 200) << shown->body;
        }
        const auto o =
            cli.Post(("/v1/creators/" + creator + "/access/overrides").c_str(),
                     {{"Authorization", "Bearer " + token}},
                     json{{"member", out.customer}, {"level", "grace"}, {"note", "seed"}}.dump(),
                     "application/json");
        ASSERT_EQ(o->status, 201) << o->body;
        out.override_id = json::parse(o->body)["id"];
        // The work loop's round goes on after the case shows (its timers and access rechecks):
        // nothing of it may land while the matrix compares alpha's data before and after a call.
        ASSERT_EQ(
            cli.Post("/v1/test-clock/advance", R"({"seconds": 0})", "application/json")->status,
            200);
    }

    static std::string fill(std::string path, const Seeded& s) {
        for (const auto& [key, value] : {std::pair<std::string, long long>{"{case}", s.case_id},
                                         {"{override}", s.override_id}})
            if (const auto at = path.find(key); at != std::string::npos)
                path.replace(at, key.size(), std::to_string(value));
        if (const auto at = path.find("{member}"); at != std::string::npos)
            path.replace(at, 8, s.customer);
        return path;
    }

    static httplib::Result call(const Route& r, const std::string& path,
                                const std::optional<std::string>& authorization) {
        auto cli = service_->client();
        httplib::Headers h;
        if (authorization) h.emplace("Authorization", *authorization);
        if (r.method == "PATCH") return cli.Patch(path.c_str(), h, r.body, "application/json");
        return r.method == "GET" ? cli.Get(path.c_str(), h)
                                 : cli.Post(path.c_str(), h, r.body, "application/json");
    }

    // What alpha owns, as alpha sees it: must be the same after anyone else's calls.
    static std::string alpha_state() {
        auto cli = service_->client();
        std::string all;
        for (const std::string& p :
             {"/v1/creators/alpha/cases/" + std::to_string(alpha_.case_id),
              std::string("/v1/creators/alpha/access/overrides?member=cus_alpha"),
              std::string("/v1/creators/alpha/access?member=cus_alpha")})
            all += get_with_token(cli, p, alpha_token)->body;
        return all;
    }

    static void expect_no_leak(const httplib::Result& r, const std::string& what) {
        ASSERT_TRUE(r) << what;
        for (const auto& secret : configured_secrets())
            EXPECT_EQ(r->body.find(secret), std::string::npos) << what << " shows a secret";
        for (const auto& [name, value] : r->headers)
            for (const auto& secret : configured_secrets())
                EXPECT_EQ(value.find(secret), std::string::npos) << what << " header " << name;
    }

    static void expect_refused(const httplib::Result& r, int status, const std::string& what) {
        expect_no_leak(r, what);
        ASSERT_TRUE(r) << what;
        EXPECT_EQ(r->status, status) << what << ": " << r->body;
        for (const auto& owned : {alpha_.invoice, alpha_.customer, beta_.invoice, beta_.customer})
            EXPECT_EQ(r->body.find(owned), std::string::npos) << what << " shows " << owned;
        if (status == 401) {
            EXPECT_TRUE(r->has_header("WWW-Authenticate")) << what;
        }
    }

    static TempDir* dir_;
    static ChildService* service_;
    static Seeded alpha_, beta_;
};

TempDir* Matrix::dir_ = nullptr;
ChildService* Matrix::service_ = nullptr;
Matrix::Seeded Matrix::alpha_, Matrix::beta_;

TEST_F(Matrix, CreatorRoutesAnswerOnlyTheirCreatorsToken) {
    std::string upper = alpha_token;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    const std::vector<std::pair<std::string, std::optional<std::string>>> wrong = {
        {"no token", std::nullopt},
        {"empty", ""},
        {"scheme only", "Bearer"},
        {"scheme and space", "Bearer "},
        {"Basic", "Basic x"},
        {"Basic with the token", "Basic " + alpha_token},
        {"token without scheme", alpha_token},
        {"token in upper case", "Bearer " + upper},
        {"token with a byte more", "Bearer " + alpha_token + "x"},
        {"token cut short", "Bearer " + alpha_token.substr(0, alpha_token.size() - 1)},
        {"two spaces", "Bearer  " + alpha_token},
        {"very long", "Bearer " + std::string(8000, 'a')},
        {"the webhook secret", "Bearer " + alpha_secret},
    };
    for (const auto& route : table()) {
        if (route.guard != Guard::creator) continue;
        const auto path = fill(route.path, alpha_);
        const auto label = route.method + " " + path;
        const auto before = alpha_state();
        for (const auto& [name, header] : wrong)
            expect_refused(call(route, path, header), 401, label + " with " + name);
        // Beta's token on alpha's resources: refused, nothing of alpha's shown or changed.
        expect_refused(call(route, path, "Bearer " + beta_token), 403, label + " with beta's");
        // Alpha's ids under beta's path, with beta's token: beta's own view, never alpha's.
        auto crossed = path;
        crossed.replace(crossed.find("/alpha"), 6, "/beta");
        const auto as_beta = call(route, crossed, "Bearer " + beta_token);
        expect_no_leak(as_beta, label + " under beta");
        EXPECT_EQ(as_beta->body.find(alpha_.invoice), std::string::npos) << crossed;
        if (path.find("{case}") != std::string::npos || path.find("/cases/") != std::string::npos ||
            path.find("/overrides/") != std::string::npos) {
            EXPECT_EQ(as_beta->status, 404) << crossed << ": " << as_beta->body;
        }
        EXPECT_EQ(alpha_state(), before) << label << ": alpha's data changed by another caller";

        const auto ok = call(route, path, "Bearer " + alpha_token);
        expect_no_leak(ok, label);
        EXPECT_EQ(ok->status, route.ok) << label << ": " << ok->body;
        if (route.method == "GET") { // the scheme's case does not matter (RFC 9110)
            EXPECT_EQ(call(route, path, "bearer " + alpha_token)->status, route.ok) << label;
        }
    }
}

// The admin routes: the admin token alone; a creator's token is known but refused.
TEST_F(Matrix, AdminRoutesAnswerOnlyTheAdminToken) {
    for (const auto& route : table()) {
        if (route.guard != Guard::admin) continue;
        const auto label = route.method + " " + route.path;
        const auto before = alpha_state();
        expect_refused(call(route, route.path, std::nullopt), 401, label + " without a token");
        expect_refused(call(route, route.path, "Bearer " + admin_token + "x"), 401,
                       label + " with a byte more");
        expect_refused(call(route, route.path, "Bearer " + alpha_token), 403, label + " alpha's");
        expect_refused(call(route, route.path, "Bearer " + beta_token), 403, label + " beta's");
        EXPECT_EQ(alpha_state(), before) << label;
        const auto ok = call(route, route.path, "Bearer " + admin_token);
        expect_no_leak(ok, label);
        EXPECT_EQ(ok->status, route.ok) << label << ": " << ok->body;
    }
}

// Header bytes no well-behaved client sends: bare CR or LF inside the token, a second
// Authorization line smuggled after a bad one, a head over the size limit.
TEST_F(Matrix, MalformedAuthorizationLinesAreRefused) {
    const auto path = "/v1/creators/alpha/cases";
    const auto request = [&](const std::string& lines) {
        return raw_request(service_->port(), std::string("GET ") + path +
                                                 " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                                 lines + "\r\n");
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"LF inside", "Authorization: Bearer alpha-tok\nen-0123456789\r\n"},
        {"CR inside", "Authorization: Bearer alpha-tok\ren-0123456789\r\n"},
        {"CRLF then the token",
         "Authorization: Bearer x\r\nAuthorization: Bearer " + alpha_token + "\r\n"},
        {"NUL inside", std::string("Authorization: Bearer ") + alpha_token + '\0' + "\r\n"},
        {"20 KB", "Authorization: Bearer " + std::string(20000, 'a') + "\r\n"},
    };
    for (const auto& [name, lines] : cases) {
        const auto answer = request(lines);
        const int status = raw_status(answer);
        EXPECT_TRUE(status == 400 || status == 401 || status == 431) << name << ": " << answer;
        EXPECT_EQ(answer.find(alpha_.invoice), std::string::npos) << name;
        for (const auto& secret : configured_secrets())
            EXPECT_EQ(answer.find(secret), std::string::npos) << name;
    }
}

TEST_F(Matrix, WebhooksNeedTheEndpointsSignature) {
    auto cli = service_->client();
    auto e = fixture("invoice.payment_failed");
    e["data"]["object"]["id"] = "in_alpha_signed";
    e["account"] = "acct_alpha";
    const auto body = e.dump();
    struct Case {
        std::string name;
        std::function<httplib::Result()> send;
        int status;
    };
    const auto signed_with = [&](const std::string& path, const std::string& secret) {
        return [&cli, &body, path, secret] { return post_signed(cli, path, body, secret); };
    };
    const std::vector<Case> cases = {
        {"no signature",
         [&] { return cli.Post("/webhooks/stripe/alpha", body, "application/json"); }, 400},
        {"garbage signature",
         [&] {
             return cli.Post("/webhooks/stripe/alpha", {{"Stripe-Signature", "t=1,v1=abc"}}, body,
                             "application/json");
         },
         400},
        {"beta's secret on alpha's endpoint", signed_with("/webhooks/stripe/alpha", beta_secret),
         400},
        {"alpha's secret on the Connect endpoint", signed_with("/webhooks/stripe", alpha_secret),
         400},
        {"an API token as the secret", signed_with("/webhooks/stripe/alpha", alpha_token), 400},
        {"unknown creator", signed_with("/webhooks/stripe/nobody", alpha_secret), 404},
        {"signed with alpha's secret", signed_with("/webhooks/stripe/alpha", alpha_secret), 200},
        {"signed with the platform secret", signed_with("/webhooks/stripe", platform_secret), 200},
    };
    for (const auto& c : cases) {
        const auto r = c.send();
        expect_no_leak(r, c.name);
        EXPECT_EQ(r->status, c.status) << c.name << ": " << r->body;
    }
}

TEST_F(Matrix, OpenRoutesShowNoSecretsAndNoCreatorData) {
    for (const auto& route : table()) {
        if (route.guard != Guard::open && route.guard != Guard::test_clock &&
            route.guard != Guard::link)
            continue;
        const auto r = call(route, route.path, std::nullopt);
        expect_no_leak(r, route.path);
        EXPECT_EQ(r->status, route.ok) << route.path << ": " << r->body;
        for (const auto& owned : {alpha_.invoice, alpha_.customer, beta_.customer})
            EXPECT_EQ(r->body.find(owned), std::string::npos) << route.path;
    }
}

// ---- the dashboard: a session from a login link, for its own creator only

struct Session {
    std::string cookie; // "dunning_session=…"
    std::string csrf;
};

// Signs in as a creator would: a login link from the admin API, followed once.
Session sign_in(ChildService& service, const std::string& creator) {
    auto cli = service.client();
    const auto made = cli.Post(("/v1/creators/" + creator + "/login-links").c_str(),
                               {{"Authorization", "Bearer " + admin_token}}, "", "text/plain");
    EXPECT_EQ(made->status, 201) << made->body;
    const std::string url = json::parse(made->body)["url"];
    const auto path = url.substr(url.find("/dashboard/"));
    const auto page = cli.Get(path.c_str());
    EXPECT_EQ(page->status, 200) << "the link shows a button and is not taken: " << page->body;
    const auto login = cli.Post("/dashboard/login", path.substr(path.find("token=")),
                                "application/x-www-form-urlencoded");
    EXPECT_EQ(login->status, 303) << login->body;
    const auto set_cookie = login->get_header_value("Set-Cookie");
    Session s{set_cookie.substr(0, set_cookie.find(';')), ""};
    const auto overview = cli.Get("/dashboard", {{"Cookie", s.cookie}});
    const std::string marker = "name=\"csrf\" value=\"";
    const auto at = overview->body.find(marker);
    EXPECT_NE(at, std::string::npos) << overview->body;
    if (at != std::string::npos) s.csrf = overview->body.substr(at + marker.size(), 64);
    return s;
}

// "{case}", "{override}" and "{member}" are alpha's seeded case, override and member.
httplib::Result dashboard_call(ChildService& service, const Route& r, long long case_id,
                               const std::optional<Session>& session, const std::string& csrf,
                               long long override_id = 0) {
    auto fill_in = [&](std::string text) {
        for (const auto& [key, value] :
             {std::pair<std::string, std::string>{"{case}", std::to_string(case_id)},
              {"{override}", std::to_string(override_id)},
              {"{csrf}", csrf},
              {"{member}", "cus_alpha"}})
            if (const auto at = text.find(key); at != std::string::npos)
                text.replace(at, key.size(), value);
        return text;
    };
    auto cli = service.client();
    httplib::Headers h;
    if (session) h.emplace("Cookie", session->cookie);
    const auto path = fill_in(r.path);
    return r.method == "GET"
               ? cli.Get(path.c_str(), h)
               : cli.Post(path.c_str(), h, fill_in(r.body), "application/x-www-form-urlencoded");
}

TEST_F(Matrix, DashboardRoutesAnswerOnlyTheirCreatorsSession) {
    const auto alpha = sign_in(*service_, "alpha");
    const auto beta = sign_in(*service_, "beta");
    const auto refused = [&](const httplib::Result& r, int status, const std::string& what) {
        expect_no_leak(r, what);
        ASSERT_TRUE(r) << what;
        EXPECT_EQ(r->status, status) << what << ": " << r->body;
        for (const auto& owned : {alpha_.invoice, alpha_.customer, beta_.invoice, beta_.customer})
            EXPECT_EQ(r->body.find(owned), std::string::npos) << what << " shows " << owned;
    };
    for (const auto& route : table()) {
        if (route.guard != Guard::session) continue;
        const auto label = route.method + " " + route.path;
        const auto before = alpha_state();
        const auto id = alpha_.case_id;
        refused(dashboard_call(*service_, route, id, std::nullopt, alpha.csrf), 401,
                label + " without a session");
        refused(dashboard_call(*service_, route, id,
                               Session{"dunning_session=" + std::string(64, 'a'), ""}, alpha.csrf),
                401, label + " with a forged session");
        refused(call(route, fill(route.path, alpha_), "Bearer " + alpha_token), 401,
                label + " with alpha's API token instead of a session");
        if (route.method == "POST") {
            refused(dashboard_call(*service_, route, id, alpha, ""), 403,
                    label + " without the CSRF token");
            refused(dashboard_call(*service_, route, id, alpha, beta.csrf), 403,
                    label + " with another session's CSRF token");
        }
        if (route.path.find("{case}") != std::string::npos ||
            route.path.find("{member}") != std::string::npos ||
            route.body.find("{case}") != std::string::npos) {
            const auto crossed =
                dashboard_call(*service_, route, id, beta, beta.csrf, alpha_.override_id);
            expect_no_leak(crossed, label + " as beta");
            EXPECT_EQ(crossed->status, 404) << label << " as beta: " << crossed->body;
            EXPECT_EQ(crossed->body.find(alpha_.invoice), std::string::npos) << label;
        }
        EXPECT_EQ(alpha_state(), before) << label << ": alpha's data changed by another caller";
    }
    for (const auto& route : table()) { // the logout is the last row: it ends the session
        if (route.guard != Guard::session) continue;
        const auto r =
            dashboard_call(*service_, route, alpha_.case_id, alpha, alpha.csrf, alpha_.override_id);
        expect_no_leak(r, route.path);
        EXPECT_EQ(r->status, route.ok) << route.method << " " << route.path << ": " << r->body;
        EXPECT_EQ(r->body.find(beta_.invoice), std::string::npos) << route.path;
    }
    EXPECT_EQ(dashboard_call(*service_, table()[0], 0, alpha, alpha.csrf)->status, 401)
        << "the creator API takes no session cookie";
    const Route overview{"GET", "/dashboard", Guard::session, "/dashboard", "", 200};
    EXPECT_EQ(dashboard_call(*service_, overview, 0, alpha, "")->status, 401)
        << "a signed-out session is refused";
}

} // namespace
