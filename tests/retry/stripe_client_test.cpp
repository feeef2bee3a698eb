// StripeClient against a scripted Stripe on loopback: real HTTP (and one real TLS handshake),
// an injected sleep that records the backoff instead of waiting.
#include "retry/stripe_client.hpp"
#include "support/ports.hpp"

#include <deque>
#include <filesystem>
#include <gtest/gtest.h>
#include <httplib.h>
#include <mutex>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <random>
#include <thread>
#include <unistd.h>

namespace dunning::retry {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct Scripted {
    int status = 200;
    std::string body = R"({"id":"in_1","object":"invoice"})";
    httplib::Headers headers;
    milliseconds delay{0};
};

struct Seen {
    std::string method;
    std::string path;
    std::string target; // path and raw query, as sent
    std::string body;
    httplib::Headers headers;

    bool has(const std::string& name) const { return headers.find(name) != headers.end(); }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

// Answers requests from a script (the last entry repeats) and records what arrived.
class FakeStripe {
  public:
    explicit FakeStripe(
        std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>())
        : server_(std::move(server)) {
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            answer(req, res);
        };
        server_->Get(".*", handler);
        server_->Post(".*", handler);
        server_->Delete(".*", handler);
        port_ = server_->bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        while (!server_->is_running())
            std::this_thread::sleep_for(1ms);
    }
    ~FakeStripe() {
        server_->stop();
        thread_.join();
    }

    void script(std::vector<Scripted> answers) {
        std::lock_guard lock(mutex_);
        script_.assign(answers.begin(), answers.end());
    }
    std::vector<Seen> seen() const {
        std::lock_guard lock(mutex_);
        return seen_;
    }
    int port() const { return port_; }

  private:
    void answer(const httplib::Request& req, httplib::Response& res) {
        Scripted next;
        {
            std::lock_guard lock(mutex_);
            seen_.push_back(Seen{req.method, req.path, req.target, req.body, req.headers});
            if (!script_.empty()) next = script_.front();
            if (script_.size() > 1) script_.pop_front();
        }
        std::this_thread::sleep_for(next.delay);
        res.status = next.status;
        for (const auto& [name, value] : next.headers)
            res.set_header(name, value);
        res.set_content(next.body, "application/json");
    }

    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::deque<Scripted> script_;
    std::vector<Seen> seen_;
};

Scripted status(int code, std::string body = "{}", httplib::Headers headers = {}) {
    return Scripted{code, std::move(body), std::move(headers), 0ms};
}

std::string stripe_error(const std::string& type, const std::string& code,
                         const std::string& message) {
    return R"({"error":{"type":")" + type + R"(","code":")" + code + R"(","message":")" + message +
           R"("}})";
}

class StripeClientTest : public ::testing::Test {
  protected:
    StripeClientOptions options(const std::string& base = {}) {
        StripeClientOptions o;
        o.api_base = base.empty() ? "http://127.0.0.1:" + std::to_string(fake_.port()) : base;
        o.api_version = "2025-03-31.basil";
        o.connect_timeout = 2s;
        o.read_timeout = 5s;
        o.jitter_seed = 42;
        o.sleep = [this](milliseconds delay) { delays_.push_back(delay); };
        return o;
    }
    StripeClient client() { return StripeClient(options()); }

    FakeStripe fake_;
    std::vector<milliseconds> delays_;
    StripeAuth auth_{"sk_test_51SecretValue", ""};
};

TEST_F(StripeClientTest, SendsAuthVersionAndUserAgentButNoAccountOrKeyOnGet) {
    const ApiResult result = client().get_invoice(auth_, "in_123");
    ASSERT_TRUE(result.ok()) << result.error.message;
    ASSERT_EQ(fake_.seen().size(), 1u);
    const Seen seen = fake_.seen().at(0);
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.path, "/v1/invoices/in_123");
    EXPECT_EQ(seen.header("Authorization"), "Bearer sk_test_51SecretValue");
    EXPECT_EQ(seen.header("Stripe-Version"), "2025-03-31.basil");
    EXPECT_EQ(seen.header("User-Agent").rfind("dunning/", 0), 0u);
    EXPECT_FALSE(seen.has("Stripe-Account"));
    EXPECT_FALSE(seen.has("Idempotency-Key"));
    EXPECT_EQ(result.tries, 1);
    EXPECT_EQ(result.http_status, 200);
}

TEST_F(StripeClientTest, SendsStripeAccountForConnect) {
    const StripeAuth connect{"sk_test_platform", "acct_1Creator"};
    ASSERT_TRUE(client().get_customer(connect, "cus_9").ok());
    const Seen seen = fake_.seen().at(0);
    EXPECT_EQ(seen.path, "/v1/customers/cus_9");
    EXPECT_EQ(seen.header("Stripe-Account"), "acct_1Creator");
}

TEST_F(StripeClientTest, PayInvoicePostsFormWithPaymentMethodAndKey) {
    const auto key = charge_idempotency_key("in_77", 2);
    ASSERT_TRUE(client().pay_invoice(auth_, "in_77", "pm_new", key).ok());
    const Seen seen = fake_.seen().at(0);
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/v1/invoices/in_77/pay");
    EXPECT_EQ(seen.body, "off_session=true&payment_method=pm_new");
    EXPECT_EQ(seen.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(seen.header("Idempotency-Key"), "dunning-pay-in_77-2");
}

TEST_F(StripeClientTest, PayInvoiceWithoutPaymentMethodSendsOffSessionOnly) {
    ASSERT_TRUE(client().pay_invoice(auth_, "in_77", std::nullopt, "k1").ok());
    EXPECT_EQ(fake_.seen().at(0).body, "off_session=true");
}

TEST_F(StripeClientTest, PayOutOfBandSendsOnlyPaidOutOfBandWithTheCaseKey) {
    const StripeAuth connect{"sk_test_platform", "acct_1Creator"};
    ASSERT_TRUE(
        client().pay_out_of_band(connect, "in_77", paid_out_of_band_idempotency_key(42)).ok());
    const Seen seen = fake_.seen().at(0);
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/v1/invoices/in_77/pay");
    EXPECT_EQ(seen.body, "paid_out_of_band=true");
    EXPECT_EQ(seen.header("Idempotency-Key"), "dunning-case-42-paid-out-of-band");
    EXPECT_EQ(seen.header("Stripe-Account"), "acct_1Creator");
}

TEST_F(StripeClientTest, IdempotencyKeyIsTheSameOnEveryRetry) {
    fake_.script({status(500), status(503), status(200)});
    const ApiResult result =
        client().pay_invoice(auth_, "in_1", std::nullopt, "dunning-pay-in_1-1");
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.tries, 3);
    const auto seen = fake_.seen();
    ASSERT_EQ(seen.size(), 3u);
    for (const Seen& s : seen)
        EXPECT_EQ(s.header("Idempotency-Key"), "dunning-pay-in_1-1");
}

TEST_F(StripeClientTest, PostWithoutKeyGetsOneGeneratedKeyForAllItsRetries) {
    fake_.script({status(503), status(200)});
    const ApiResult result = client().mark_uncollectible(auth_, "in_5", "");
    EXPECT_TRUE(result.ok());
    const auto seen = fake_.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].path, "/v1/invoices/in_5/mark_uncollectible");
    EXPECT_FALSE(seen[0].header("Idempotency-Key").empty());
    EXPECT_EQ(seen[0].header("Idempotency-Key"), seen[1].header("Idempotency-Key"));
}

TEST_F(StripeClientTest, CancelSubscriptionIsADeleteWithoutIdempotencyKey) {
    ASSERT_TRUE(client().cancel_subscription(auth_, "sub_1", "dunning-cancel-sub_1").ok());
    const Seen seen = fake_.seen().at(0);
    EXPECT_EQ(seen.method, "DELETE");
    EXPECT_EQ(seen.path, "/v1/subscriptions/sub_1");
    EXPECT_FALSE(seen.has("Idempotency-Key")); // Stripe: no effect on DELETE, should be avoided
}

TEST_F(StripeClientTest, DeclineIsACardErrorWithIssuerCodesAndNoRetry) {
    const std::string body = R"({"error":{"type":"card_error","code":"card_declined",
        "decline_code":"insufficient_funds","advice_code":"try_again_later",
        "network_advice_code":"24","message":"Your card has insufficient funds."}})";
    fake_.script({status(402, body, {{"Request-Id", "req_abc"}})});
    const ApiResult result = client().pay_invoice(auth_, "in_1", std::nullopt, "k");
    EXPECT_EQ(result.kind, ApiResult::Kind::card_error);
    EXPECT_EQ(result.tries, 1);
    EXPECT_EQ(result.http_status, 402);
    EXPECT_EQ(result.error_type, "card_error");
    EXPECT_EQ(result.error.code, "card_declined");
    EXPECT_EQ(result.error.decline_code, "insufficient_funds");
    EXPECT_EQ(result.error.advice_code, "try_again_later");
    EXPECT_EQ(result.error.network_advice_code, "24");
    EXPECT_EQ(result.error.message, "Your card has insufficient funds.");
    EXPECT_EQ(result.request_id, "req_abc");
    EXPECT_TRUE(delays_.empty());
}

TEST_F(StripeClientTest, DeclineCodesFallBackToPaymentIntentLastPaymentError) {
    const std::string body = R"({"error":{"type":"card_error","message":"declined",
        "payment_intent":{"id":"pi_1","last_payment_error":{"code":"card_declined",
        "decline_code":"stolen_card","advice_code":"do_not_try_again"}}}})";
    fake_.script({status(402, body)});
    const ApiResult result = client().pay_invoice(auth_, "in_1", std::nullopt, "k");
    EXPECT_EQ(result.kind, ApiResult::Kind::card_error);
    EXPECT_EQ(result.error.code, "card_declined");
    EXPECT_EQ(result.error.decline_code, "stolen_card");
    EXPECT_EQ(result.error.advice_code, "do_not_try_again");
    EXPECT_EQ(result.error.message, "declined");
}

TEST_F(StripeClientTest, InvoiceAlreadyPaidIsARequestErrorWithoutRetry) {
    fake_.script(
        {status(400, stripe_error("invalid_request_error", "", "Invoice is already paid"))});
    const ApiResult result = client().pay_invoice(auth_, "in_1", std::nullopt, "k");
    EXPECT_EQ(result.kind, ApiResult::Kind::request_error);
    EXPECT_EQ(result.tries, 1);
    EXPECT_EQ(result.error_type, "invalid_request_error");
    EXPECT_EQ(result.error.message, "Invoice is already paid");
    EXPECT_EQ(fake_.seen().size(), 1u);
}

TEST_F(StripeClientTest, NotFoundIsARequestError) {
    fake_.script(
        {status(404, stripe_error("invalid_request_error", "resource_missing", "No such"))});
    const ApiResult result = client().get_payment_method(auth_, "pm_gone");
    EXPECT_EQ(result.kind, ApiResult::Kind::request_error);
    EXPECT_EQ(result.error.code, "resource_missing");
    EXPECT_EQ(fake_.seen().at(0).path, "/v1/payment_methods/pm_gone");
}

TEST_F(StripeClientTest, RateLimitThenSuccessTakesTwoTries) {
    fake_.script(
        {status(429, stripe_error("rate_limit_error", "rate_limit", "slow down")), status(200)});
    const ApiResult result = client().get_invoice(auth_, "in_1");
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.tries, 2);
    EXPECT_EQ(delays_.size(), 1u);
}

TEST_F(StripeClientTest, ServerErrorsExhaustTheTriesAsTechnical) {
    fake_.script({status(500)});
    const ApiResult result = client().get_invoice(auth_, "in_1");
    EXPECT_EQ(result.kind, ApiResult::Kind::technical);
    EXPECT_EQ(result.tries, 3);
    EXPECT_EQ(result.http_status, 500);
    EXPECT_EQ(fake_.seen().size(), 3u);
    EXPECT_EQ(delays_.size(), 2u);
}

TEST_F(StripeClientTest, ShouldRetryFalseStopsEvenAServerError) {
    fake_.script({status(500, "{}", {{"Stripe-Should-Retry", "false"}})});
    const ApiResult result = client().pay_invoice(auth_, "in_1", std::nullopt, "k");
    EXPECT_EQ(result.kind, ApiResult::Kind::technical);
    EXPECT_EQ(result.tries, 1);
    EXPECT_TRUE(delays_.empty());
}

TEST_F(StripeClientTest, ShouldRetryTrueRetriesEvenABadRequest) {
    fake_.script({status(400, "{}", {{"Stripe-Should-Retry", "true"}}), status(200)});
    const ApiResult result = client().get_invoice(auth_, "in_1");
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.tries, 2);
}

TEST_F(StripeClientTest, ConflictIsRetried) {
    fake_.script({status(409, stripe_error("idempotency_error", "", "in progress")), status(200)});
    const ApiResult result = client().pay_invoice(auth_, "in_1", std::nullopt, "k");
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.tries, 2);
}

TEST_F(StripeClientTest, RetryAfterIsHonouredAndCappedByMaxBackoff) {
    fake_.script({status(429, "{}", {{"Retry-After", "3"}}),
                  status(429, "{}", {{"Retry-After", "60"}}), status(200)});
    auto o = options();
    o.base_backoff = 100ms;
    o.max_backoff = 8000ms;
    const ApiResult result = StripeClient(o).get_invoice(auth_, "in_1");
    EXPECT_TRUE(result.ok());
    ASSERT_EQ(delays_.size(), 2u);
    EXPECT_EQ(delays_[0], 3000ms);
    EXPECT_EQ(delays_[1], 8000ms);
}

TEST_F(StripeClientTest, NothingListeningIsTechnicalAfterAllTries) {
    const dunning::testing::ClosedPort closed; // refuses connections
    StripeClient c(options("http://127.0.0.1:" + std::to_string(closed.port())));
    const ApiResult result = c.get_invoice(auth_, "in_1");
    EXPECT_EQ(result.kind, ApiResult::Kind::technical);
    EXPECT_EQ(result.http_status, 0);
    EXPECT_EQ(result.tries, 3);
    EXPECT_FALSE(result.error.message.empty());
    EXPECT_EQ(result.error.message.find(auth_.secret_key), std::string::npos);
}

TEST_F(StripeClientTest, SlowServerBeyondReadTimeoutIsTechnical) {
    Scripted slow = status(200);
    slow.delay = 2500ms;
    fake_.script({slow});
    auto o = options();
    o.read_timeout = 1s;
    o.max_tries = 1;
    const ApiResult result = StripeClient(o).get_invoice(auth_, "in_1");
    // The 200 that arrives after 2.5 s was not waited for: the call gave up without an answer.
    EXPECT_EQ(result.kind, ApiResult::Kind::technical);
    EXPECT_EQ(result.http_status, 0);
    EXPECT_EQ(result.tries, 1);
    EXPECT_EQ(fake_.seen().size(), 1u);
}

TEST_F(StripeClientTest, BackoffGrowsWithFullJitterWithinTheCap) {
    fake_.script({status(503)});
    const std::vector<milliseconds> caps{100ms, 200ms, 400ms, 800ms, 1000ms};
    std::vector<milliseconds> largest(caps.size(), 0ms);
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        delays_.clear();
        auto o = options();
        o.max_tries = 6;
        o.base_backoff = 100ms;
        o.max_backoff = 1000ms;
        o.jitter_seed = seed;
        EXPECT_EQ(StripeClient(o).get_invoice(auth_, "in_1").tries, 6);
        ASSERT_EQ(delays_.size(), caps.size());
        for (std::size_t i = 0; i < caps.size(); ++i) {
            EXPECT_GE(delays_[i], 0ms);
            EXPECT_LE(delays_[i], caps[i]);
            largest[i] = std::max(largest[i], delays_[i]);
        }
    }
    EXPECT_GT(largest[3], caps[1]);
    EXPECT_GT(largest[4], caps[2]);
}

TEST_F(StripeClientTest, SameSeedGivesTheSameDelays) {
    fake_.script({status(503)});
    auto o = options();
    o.max_tries = 5;
    StripeClient(o).get_invoice(auth_, "in_1");
    const auto first = delays_;
    delays_.clear();
    StripeClient(o).get_invoice(auth_, "in_1");
    EXPECT_EQ(first, delays_);
}

TEST_F(StripeClientTest, InvalidIdsAreRefusedWithoutARequest) {
    StripeClient c = client();
    for (const std::string& id :
         std::vector<std::string>{"", "in_1/../../v1/customers", "in_1?expand=x", "in 1", "in%2F1",
                                  "in_1#", "in-1", std::string(256, 'a')}) {
        const ApiResult result = c.get_invoice(auth_, id);
        EXPECT_EQ(result.kind, ApiResult::Kind::request_error) << id;
        EXPECT_EQ(result.tries, 0) << id;
    }
    EXPECT_EQ(c.pay_invoice(auth_, "in_1", "pm_1&x=1", "k").tries, 0);
    EXPECT_EQ(c.cancel_subscription(auth_, "../sub", "k").tries, 0);
    EXPECT_EQ(c.list_events(auth_, 0, "evt_1&limit=1").tries, 0);
    EXPECT_TRUE(fake_.seen().empty());
}

TEST_F(StripeClientTest, UnsafeHeaderValuesAndPlainHttpElsewhereAreRefused) {
    StripeClient c = client();
    EXPECT_EQ(c.get_invoice({"sk_test\r\nX-Evil: 1", ""}, "in_1").tries, 0);
    EXPECT_EQ(c.get_invoice({"sk_test", "acct_1\nX: y"}, "in_1").tries, 0);
    EXPECT_EQ(c.pay_invoice(auth_, "in_1", std::nullopt, "key with space").tries, 0);
    const ApiResult remote =
        StripeClient(options("http://api.stripe.com")).get_invoice(auth_, "in_1");
    EXPECT_EQ(remote.kind, ApiResult::Kind::request_error);
    EXPECT_EQ(remote.tries, 0);
    EXPECT_TRUE(fake_.seen().empty());
}

TEST_F(StripeClientTest, ListEventsSendsTheQueryString) {
    StripeClient c = client();
    ASSERT_TRUE(c.list_events(auth_, 1700000000, "evt_123", 50).ok());
    ASSERT_TRUE(c.list_events(auth_, 1700000000, "").ok());
    const auto seen = fake_.seen();
    EXPECT_EQ(seen.at(0).target,
              "/v1/events?created[gte]=1700000000&limit=50&starting_after=evt_123");
    EXPECT_EQ(seen.at(0).path, "/v1/events");
    EXPECT_EQ(seen.at(1).target, "/v1/events?created[gte]=1700000000&limit=100");
}

// A self-signed certificate for 127.0.0.1, written to a fresh temporary directory.
class SelfSignedCert {
  public:
    SelfSignedCert() {
        std::random_device device;
        dir_ = std::filesystem::temp_directory_path() / ("dunning-tls-" + std::to_string(device()));
        std::filesystem::create_directories(dir_);
        EVP_PKEY* key = EVP_EC_gen("P-256");
        X509* cert = make_cert(key);
        write_pem(key_path(), [&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        });
        write_pem(cert_path(), [&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    ~SelfSignedCert() { std::filesystem::remove_all(dir_); }
    std::string cert_path() const { return (dir_ / "cert.pem").string(); }
    std::string key_path() const { return (dir_ / "key.pem").string(); }

  private:
    static void add_extension(X509* cert, int nid, const char* value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    static X509* make_cert(EVP_PKEY* key) {
        X509* cert = X509_new();
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
        X509_sign(cert, key, EVP_sha256());
        return cert;
    }
    template <typename Write> static void write_pem(const std::string& path, Write write) {
        BIO* bio = BIO_new_file(path.c_str(), "w");
        ASSERT_NE(bio, nullptr);
        EXPECT_EQ(write(bio), 1);
        BIO_free(bio);
    }

    std::filesystem::path dir_;
};

class StripeClientTlsTest : public ::testing::Test {
  protected:
    StripeClientOptions options() const {
        StripeClientOptions o;
        o.api_base = "https://127.0.0.1:" + std::to_string(fake_.port());
        o.connect_timeout = 2s;
        o.read_timeout = 5s;
        o.sleep = [](milliseconds) {};
        return o;
    }

    SelfSignedCert cert_;
    FakeStripe fake_{
        std::make_unique<httplib::SSLServer>(cert_.cert_path().c_str(), cert_.key_path().c_str())};
    StripeAuth auth_{"sk_test_tls", ""};
};

TEST_F(StripeClientTlsTest, RefusesAnUnknownCertificate) {
    const ApiResult result = StripeClient(options()).get_invoice(auth_, "in_1");
    EXPECT_EQ(result.kind, ApiResult::Kind::technical);
    EXPECT_EQ(result.http_status, 0);
    EXPECT_EQ(result.tries, 1); // a verification failure is not retried
    EXPECT_NE(result.error.message.find("SSLServerVerification"), std::string::npos)
        << result.error.message;
    EXPECT_TRUE(fake_.seen().empty());
}

TEST_F(StripeClientTlsTest, AcceptsTheCertificateFromCaFile) {
    auto o = options();
    o.ca_file = cert_.cert_path();
    const ApiResult result = StripeClient(o).get_invoice(auth_, "in_1");
    ASSERT_TRUE(result.ok()) << result.error.message;
    EXPECT_EQ(fake_.seen().at(0).header("Authorization"), "Bearer sk_test_tls");
}

TEST(FormEncode, PercentEncodesValuesAndKeepsBracketsInKeys) {
    EXPECT_EQ(form_encode({{"metadata[note]", "a b&c=d/é+~"}, {"expand[0]", "payment_intent"}}),
              "expand[0]=payment_intent&metadata[note]=a%20b%26c%3Dd%2F%C3%A9%2B~");
    EXPECT_EQ(form_encode({}), "");
}

TEST(ChargeIdempotencyKey, IsStablePerInvoiceAndAttempt) {
    EXPECT_EQ(charge_idempotency_key("in_1", 3), "dunning-pay-in_1-3");
    EXPECT_EQ(charge_idempotency_key("in_1", 3), charge_idempotency_key("in_1", 3));
    EXPECT_NE(charge_idempotency_key("in_1", 3), charge_idempotency_key("in_1", 4));
}

TEST(ApiResultKind, HasNames) {
    EXPECT_STREQ(to_string(ApiResult::Kind::card_error), "card_error");
    EXPECT_STREQ(to_string(ApiResult::Kind::technical), "technical");
}

} // namespace
} // namespace dunning::retry
