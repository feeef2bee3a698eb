// Stripe-Signature: any header against any body, and headers Stripe would send checked for the
// answers Stripe's libraries give. Input: the header, a newline, the body.
#include "webhook/signature.hpp"
#include "check.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace dunning;
using dunning::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view input = fuzz::as_text(data, size);
    const auto newline = input.find('\n');
    const std::string_view header = input.substr(0, newline);
    const std::string_view body =
        newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
    const std::vector<std::string> secrets = {"whsec_fuzz_first", "whsec_fuzz_second"};
    const Timestamp now = from_unix(1'700'000'000);

    const auto any = webhook::verify_signature(body, header, secrets, now);
    check(!any || any.value() < secrets.size(), "a matching secret's index is in range");
    webhook::verify_signature(body, header, secrets, now, std::chrono::seconds{0});
    webhook::verify_signature(body, header, {}, now);
    if (body.empty()) return 0;

    // A header as Stripe signs it: accepted while young enough, by the secret that signed it.
    const std::size_t which = header.size() % 2;
    const std::int64_t age = header.empty() ? 0 : (static_cast<unsigned char>(header[0]) * 3);
    const std::string signed_header =
        webhook::sign_payload(body, secrets[which], now - std::chrono::seconds{age});
    const auto fresh = webhook::verify_signature(body, signed_header, secrets, now);
    if (age <= 300)
        check(fresh && fresh.value() == which, "a fresh Stripe header verifies", signed_header);
    else
        check(!fresh && fresh.error() == webhook::SignatureError::too_old,
              "an old Stripe header is too_old", signed_header);

    // The same header never vouches for another body.
    std::string tampered(body);
    tampered[tampered.size() / 2] ^= 0x01;
    const auto other = webhook::verify_signature(tampered, signed_header, secrets, now);
    check(!other, "a signature covers its body only", signed_header);
    return 0;
}
