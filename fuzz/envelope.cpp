// The receiver's one-pass envelope reader against the nlohmann parser it replaced: the same
// bodies accepted, the same envelope read, the same message for every refusal; and its JSON
// validation against nlohmann::json::accept wherever parse_envelope's own limits do not apply.
#include "check.hpp"
#include "webhook/envelope_scan.hpp"

#include <nlohmann/json.hpp>
#include <string>

using namespace dunning;
using dunning::fuzz::check;

namespace {

std::string describe(const Result<webhook::Envelope, std::string>& r) {
    if (!r) return "error: " + r.error();
    const auto& e = r.value();
    return "id=" + e.id + " type=" + e.type + " account=" + e.account +
           " created=" + std::to_string(to_unix(e.created));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    const auto fast = webhook::scan_envelope(body);
    const auto reference = webhook::parse_envelope_reference(body);
    const std::string a = describe(fast), b = describe(reference);
    check(a == b, "scan_envelope answers as the nlohmann reader",
          "scan: " + a + "\n  nlohmann: " + b);

    constexpr int depth = webhook::scan::Scanner::max_depth;
    if (body.find('\0') == std::string_view::npos && !webhook::nested_deeper_than(body, depth)) {
        webhook::scan::Scanner scanner(body);
        const bool scanned = scanner.run();
        const bool accepted = nlohmann::json::accept(body);
        check(scanned == accepted, "the scanner accepts exactly what nlohmann accepts",
              scanned ? "scanner accepts, nlohmann refuses" : "scanner refuses, nlohmann accepts");
    }
    return 0;
}
