#pragma once
// Internal to retry/: one Stripe HTTP exchange as plain values, and the rules that turn it into
// an ApiResult or another try. No httplib here, so the rules read (and change) in one place.
#include "retry/stripe_client.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace dunning::retry {

namespace detail {

struct Request {
    const StripeAuth& auth;
    std::string method; // GET, POST, DELETE
    std::string target; // path and query, already validated and encoded
    std::string body;   // form-encoded, POST only
    std::string idempotency_key;
};

struct Answer {
    int status = 0; // 0: no HTTP answer arrived
    std::string body;
    std::string request_id;
    std::optional<bool> should_retry;                // Stripe-Should-Retry
    std::optional<std::chrono::seconds> retry_after; // Retry-After, delay-seconds form only
    std::string transport_error;                     // why no answer arrived
    bool transport_retryable = true;                 // false: retrying cannot help
};

std::optional<bool> parse_should_retry(const std::string& header);
std::optional<std::chrono::seconds> parse_retry_after(const std::string& header);

bool worth_retrying(const Answer& answer);
ApiResult classify(const Answer& answer, int tries);

// base * 2^(tries_so_far - 1), capped at max_backoff; the upper bound of the jittered delay.
std::chrono::milliseconds backoff_cap(int tries_so_far, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max_backoff);

// A refusal made before anything was sent (invalid id, header value or api_base).
ApiResult refused(const std::string& why);

} // namespace detail

struct StripeClient::Call : detail::Request {};

} // namespace dunning::retry
