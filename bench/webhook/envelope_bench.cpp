// Envelope benchmark: the receiver's single-pass scanner (parse_envelope) against the nlohmann
// DOM code it replaced (parse_envelope_reference), on real Stripe event bodies.
// Usage: envelope_bench [--fixture FILE]... [--seconds S]
// Default: every *.json in tests/fixtures/stripe/api-2020-08-27. Prints one RESULT line per body.
#include "tests/support/files.hpp"
#include "webhook/envelope_scan.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace dunning::webhook;
using dunning::testing::read_file;

namespace {

// Mean µs per call over `seconds` of calls, in rounds of 100 (the clock read between rounds).
template <class Parse>
double microseconds_per_parse(Parse parse, const std::string& body, double seconds) {
    using Clock = std::chrono::steady_clock;
    const auto budget = std::chrono::duration<double>(seconds);
    std::size_t sink = 0, runs = 0;
    const auto start = Clock::now();
    while (Clock::now() - start < budget)
        for (int i = 0; i < 100; ++i, ++runs)
            sink += parse(body).value().id.size();
    const std::chrono::duration<double, std::micro> elapsed = Clock::now() - start;
    if (sink == 0) throw std::runtime_error("no envelope parsed");
    return elapsed.count() / double(runs);
}

bool same_envelope(const std::string& body) {
    const auto a = parse_envelope(body);
    const auto b = parse_envelope_reference(body);
    return a.ok() && b.ok() && a.value().id == b.value().id && a.value().type == b.value().type &&
           a.value().account == b.value().account && a.value().created == b.value().created;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"parse_envelope (scanner) vs parse_envelope_reference (nlohmann), µs per call"};
    std::vector<std::string> files;
    double seconds = 1.0;
    app.add_option("--fixture", files, "a Stripe event body (repeatable)");
    app.add_option("--seconds", seconds, "time per parser and body")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    if (files.empty()) {
        for (const auto& entry :
             fs::directory_iterator(fs::path(ENVELOPE_BENCH_FIXTURES_DIR) / "api-2020-08-27"))
            if (entry.path().extension() == ".json") files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
    }
    for (const auto& file : files) {
        const std::string body = read_file(file);
        if (!same_envelope(body)) {
            std::fprintf(stderr, "%s: the two parsers disagree or fail\n", file.c_str());
            return 1;
        }
        microseconds_per_parse(parse_envelope, body, seconds / 4); // warm-up
        const double reference = microseconds_per_parse(parse_envelope_reference, body, seconds);
        const double scanner = microseconds_per_parse(parse_envelope, body, seconds);
        std::printf("RESULT file=%s bytes=%zu reference_us=%.3f scanner_us=%.3f speedup=%.2f\n",
                    fs::path(file).filename().c_str(), body.size(), reference, scanner,
                    reference / scanner);
    }
    return 0;
}
