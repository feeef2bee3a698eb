#include "retry/stripe_answer.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace dunning::retry::detail {
namespace {

using Json = nlohmann::json;

bool is_success(int status) {
    return status >= 200 && status < 300;
}

// 409: an idempotent request with the same key is still running; 429: rate limit or
// lock_timeout. Both are about timing, not about the request (stripe-node `_shouldRetry`).
bool is_timing_conflict(int status) {
    return status == 409 || status == 429;
}

std::string string_field(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void fill_missing(std::string& field, const Json& object, const char* key) {
    if (field.empty()) field = string_field(object, key);
}

void fill_missing(PaymentError& error, const Json& object) {
    fill_missing(error.code, object, "code");
    fill_missing(error.decline_code, object, "decline_code");
    fill_missing(error.advice_code, object, "advice_code");
    fill_missing(error.network_advice_code, object, "network_advice_code");
    fill_missing(error.message, object, "message");
}

const Json* object_member(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_object() ? &*it : nullptr;
}

// Stripe's error object; on a declined invoice payment the PaymentIntent's last_payment_error
// can carry the issuer's codes when the top level does not.
void read_error_object(const std::string& body, ApiResult& result) {
    const Json doc = Json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return;
    const Json* error = object_member(doc, "error");
    if (error == nullptr) return;
    result.error_type = string_field(*error, "type");
    fill_missing(result.error, *error);
    if (const Json* intent = object_member(*error, "payment_intent")) {
        if (const Json* last = object_member(*intent, "last_payment_error")) {
            fill_missing(result.error, *last);
        }
    }
}

ApiResult::Kind kind_of(const Answer& answer) {
    using Kind = ApiResult::Kind;
    if (answer.status == 0) return Kind::technical;
    if (is_success(answer.status)) return Kind::ok;
    if (answer.status == 402) return Kind::card_error;
    if (answer.status >= 500 || is_timing_conflict(answer.status)) return Kind::technical;
    // Stripe says a later try can succeed: not the request's fault.
    if (answer.should_retry == true) return Kind::technical;
    return Kind::request_error;
}

std::string trimmed(const std::string& text) {
    auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

} // namespace

std::optional<bool> parse_should_retry(const std::string& header) {
    const std::string value = trimmed(header);
    if (value == "true") return true;
    if (value == "false") return false;
    return std::nullopt;
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& header) {
    const std::string value = trimmed(header);
    if (value.empty() || value.size() > 9) return std::nullopt;
    auto is_digit = [](unsigned char c) { return std::isdigit(c) != 0; };
    if (!std::all_of(value.begin(), value.end(), is_digit)) return std::nullopt;
    return std::chrono::seconds{std::stol(value)};
}

bool worth_retrying(const Answer& answer) {
    if (answer.status == 0) return answer.transport_retryable;
    if (is_success(answer.status)) return false;
    if (answer.should_retry) return *answer.should_retry;
    return answer.status >= 500 || is_timing_conflict(answer.status);
}

ApiResult classify(const Answer& answer, int tries) {
    ApiResult result;
    result.kind = kind_of(answer);
    result.http_status = answer.status;
    result.body = answer.body;
    result.request_id = answer.request_id;
    result.tries = tries;
    if (answer.status == 0) {
        result.error.message = "no answer from Stripe: " + answer.transport_error;
    } else if (!is_success(answer.status)) {
        read_error_object(answer.body, result);
    }
    return result;
}

std::chrono::milliseconds backoff_cap(int tries_so_far, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max_backoff) {
    auto cap = std::max(base, std::chrono::milliseconds{0});
    for (int i = 1; i < tries_so_far && cap < max_backoff; ++i)
        cap *= 2;
    return std::min(cap, max_backoff);
}

ApiResult refused(const std::string& why) {
    ApiResult result;
    result.kind = ApiResult::Kind::request_error;
    result.error_type = "client_error"; // ours: nothing reached Stripe
    result.error.message = why;
    return result;
}

} // namespace dunning::retry::detail
