// The HTTP side of StripeClient: one httplib::Client per call, the retry loop and its backoff.
#include "retry/stripe_answer.hpp"

#include <algorithm>
#include <httplib.h>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

namespace dunning::retry {

struct StripeClient::Jitter {
    explicit Jitter(std::uint64_t seed) : engine(seed != 0 ? seed : random_seed()) {}

    std::chrono::milliseconds uniform(std::chrono::milliseconds cap) {
        std::lock_guard lock(mutex);
        std::uniform_int_distribution<std::int64_t> pick(0, cap.count());
        return std::chrono::milliseconds{pick(engine)};
    }

    static std::uint64_t random_seed() {
        std::random_device device;
        return (std::uint64_t{device()} << 32) ^ device();
    }

    std::mutex mutex;
    std::mt19937_64 engine;
};

namespace {

using std::chrono::milliseconds;

struct Origin {
    bool https = false;
    std::string scheme_host_port;
};

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// Only scheme://host[:port]; plain http only to loopback, so a secret key never crosses a
// network in clear text.
std::optional<Origin> parse_origin(const std::string& api_base) {
    static const std::regex pattern(
        R"(^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:\d{1,5})?/?$)");
    std::smatch match;
    if (!std::regex_match(api_base, match, pattern)) return std::nullopt;
    const bool https = match[1] == "https";
    if (!https && !is_loopback(match[2].str())) return std::nullopt;
    return Origin{https, match[1].str() + "://" + match[2].str() + match[3].str()};
}

bool is_header_safe(const std::string& value) {
    return std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Header values are checked here because httplib 0.11 writes them as given: a CR/LF in a key
// or account would split the request.
std::optional<std::string> unsafe_input(const detail::Request& call,
                                        const StripeClientOptions& options) {
    if (call.auth.secret_key.empty() || !is_header_safe(call.auth.secret_key)) {
        return "secret key missing or not printable ASCII";
    }
    if (!is_header_safe(call.auth.account)) return "Stripe-Account not printable ASCII";
    if (!is_header_safe(options.api_version)) return "api_version not printable ASCII";
    if (call.idempotency_key.size() > 255 || !is_header_safe(call.idempotency_key)) {
        return "Idempotency-Key longer than 255 or not printable ASCII";
    }
    return std::nullopt;
}

httplib::Client make_client(const Origin& origin, const StripeClientOptions& options) {
    httplib::Client client(origin.scheme_host_port);
    client.set_connection_timeout(static_cast<time_t>(options.connect_timeout.count()));
    client.set_read_timeout(static_cast<time_t>(options.read_timeout.count()));
    client.set_write_timeout(static_cast<time_t>(options.read_timeout.count()));
    client.set_url_encode(false); // targets arrive encoded; a second pass would mangle them
    client.set_follow_location(false);
    if (origin.https) {
        client.enable_server_certificate_verification(true);
        if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file);
    }
    return client;
}

httplib::Headers request_headers(const detail::Request& call, const StripeClientOptions& options) {
    httplib::Headers headers{
        {"Authorization", "Bearer " + call.auth.secret_key},
        {"User-Agent", std::string("dunning/") + DUNNING_VERSION},
        {"Accept", "application/json"},
    };
    if (!options.api_version.empty()) headers.emplace("Stripe-Version", options.api_version);
    if (!call.auth.account.empty()) headers.emplace("Stripe-Account", call.auth.account);
    if (!call.idempotency_key.empty()) headers.emplace("Idempotency-Key", call.idempotency_key);
    if (call.method == "POST") {
        headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    }
    return headers;
}

detail::Answer answer_from(const httplib::Response& response) {
    detail::Answer answer;
    answer.status = response.status;
    answer.body = response.body;
    answer.request_id = response.get_header_value("Request-Id");
    if (response.has_header("Stripe-Should-Retry")) {
        answer.should_retry =
            detail::parse_should_retry(response.get_header_value("Stripe-Should-Retry"));
    }
    if (response.has_header("Retry-After")) {
        answer.retry_after = detail::parse_retry_after(response.get_header_value("Retry-After"));
    }
    return answer;
}

detail::Answer perform(httplib::Client& client, const detail::Request& call,
                       const httplib::Headers& headers) {
    httplib::Request request;
    request.method = call.method;
    request.path = call.target;
    request.headers = headers;
    request.body = call.body;
    const httplib::Result result = client.send(request);
    if (result) return answer_from(result.value());
    detail::Answer answer;
    answer.transport_error = httplib::to_string(result.error());
    // A certificate that failed verification will fail the same way a second later.
    answer.transport_retryable = result.error() != httplib::Error::SSLServerVerification;
    return answer;
}

} // namespace

StripeClient::StripeClient(StripeClientOptions options)
    : options_(std::move(options)), jitter_(std::make_shared<Jitter>(options_.jitter_seed)) {
    if (!options_.sleep) {
        options_.sleep = [](milliseconds delay) { std::this_thread::sleep_for(delay); };
    }
}

milliseconds StripeClient::retry_delay(int tries_so_far,
                                       std::optional<std::chrono::seconds> retry_after) {
    const milliseconds cap =
        detail::backoff_cap(tries_so_far, options_.base_backoff, options_.max_backoff);
    milliseconds delay = jitter_->uniform(cap);
    if (retry_after) {
        delay = std::max(delay, std::min<milliseconds>(*retry_after, options_.max_backoff));
    }
    return delay;
}

ApiResult StripeClient::send(const Call& call) {
    if (auto why = unsafe_input(call, options_)) return detail::refused(*why);
    const auto origin = parse_origin(options_.api_base);
    if (!origin) {
        return detail::refused("api_base must be https://host[:port] (http only to loopback)");
    }
    httplib::Client client = make_client(*origin, options_);
    const httplib::Headers headers = request_headers(call, options_);
    const int max_tries = std::max(1, options_.max_tries);
    for (int tries = 1;; ++tries) {
        detail::Answer answer = perform(client, call, headers);
        if (tries >= max_tries || !detail::worth_retrying(answer)) {
            return detail::classify(answer, tries);
        }
        options_.sleep(retry_delay(tries, answer.retry_after));
    }
}

} // namespace dunning::retry
