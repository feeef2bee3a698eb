// Hostile clients benchmark (bench/hostile/README.md): the real `dunning serve` binary as a child
// process, a crowd of hostile connections from this process, and the time a correctly signed
// webhook from another client address takes to be answered meanwhile.
//
//   server   `dunning serve` with the default [server] settings (threads, deadlines, caps),
//            started with a soft descriptor limit of 1,024 (systemd's default for a service).
//   crowd    --idle, --half-line, --trickle (one header byte every 3 s), --huge (64 KiB header
//            lines) connections from --clients loopback addresses; what the server closes is
//            opened again. --flood T: T keep-alive connections sending badly signed webhooks
//            back to back.
//   probes   after --settle-ms, --probes signed invoice.payment_failed webhooks one after
//            another from 127.0.0.2, each with Connection: close and a --probe-timeout-s client
//            timeout. Latency: connect to status line. An unanswered probe counts at the timeout.
//
// Prints one `RESULT key=value …` line on stdout.
#include "tests/support/files.hpp"
#include "tests/support/hostile_clients.hpp"
#include "tests/support/process.hpp"
#include "webhook/signature.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

using namespace dunning;
using namespace dunning::testing;
namespace fs = std::filesystem;

const std::string stripe_secret = "whsec_alpha_bench_secret";

struct Options {
    std::string dunning;
    std::string dir;
    std::string name = "run";
    int idle = 0, half_line = 0, trickle = 0, huge = 0, flood = 0, clients = 1;
    int probes = 20, settle_ms = 1000, probe_timeout_s = 60;
};

void write_config(const fs::path& dir) {
    std::ofstream(dir / "dunning.toml") << R"([server]
listen = "127.0.0.1:0"

[storage]
sqlite_path = "dunning.db"
synchronous = "normal"

[mail]
outbox_dir = "outbox"
from = "Bench <billing@bench.example>"

[[creators]]
id = "alpha"
name = "Alpha"
locale = "en"
webhook_secrets = [")" << stripe_secret << R"("]
api_token = "alpha-token-0123456789"
)";
}

// The child gets systemd's default soft limit; this process keeps the hard one for its crowd.
std::unique_ptr<ChildProcess> start_server(const Options& o, const fs::path& dir) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const rlimit service{std::min<rlim_t>(1024, limit.rlim_max), limit.rlim_max};
    ::setrlimit(RLIMIT_NOFILE, &service);
    auto child = std::make_unique<ChildProcess>(
        std::vector<std::string>{o.dunning, "serve", "--config", (dir / "dunning.toml").string()},
        (dir / "server.log").string());
    raise_fd_limit();
    return child;
}

std::string signed_head(const std::string& body) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    return "POST /webhooks/stripe/alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nStripe-Signature: " +
           webhook::sign_payload(body, stripe_secret, now) + "\r\n";
}

std::string event_body(int i) {
    auto j = nlohmann::json::parse(read_file(fs::path(HOSTILE_BENCH_FIXTURES_DIR) /
                                             "api-2020-08-27/invoice.payment_failed.json"));
    j["id"] = "evt_hostile_bench_" + std::to_string(i) + "_" + std::to_string(::getpid());
    return j.dump();
}

int run(const Options& o) {
    const fs::path dir = o.dir;
    fs::create_directories(dir);
    write_config(dir);
    auto server = start_server(o, dir);
    const int port = listening_port((dir / "server.log").string());
    if (port == 0) throw std::runtime_error("the server did not start; see " + o.dir);
    if (probe(port, "127.0.0.2", signed_head(event_body(0)), event_body(0), std::chrono::seconds(5))
            .status != 200)
        throw std::runtime_error("no 200 for a signed webhook without any crowd");

    HostileCrowd crowd(port);
    crowd.add(Hostility::idle, o.idle, o.clients);
    crowd.add(Hostility::half_line, o.half_line, o.clients);
    crowd.add(Hostility::trickle, o.trickle, o.clients);
    crowd.add(Hostility::huge_headers, o.huge, o.clients);
    crowd.start();
    std::unique_ptr<BadSignatureFlood> flood;
    if (o.flood > 0)
        flood = std::make_unique<BadSignatureFlood>(port, "127.0.0.3", o.flood, event_body(-1));
    std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
    const int open_at_start = crowd.open_now();

    std::vector<double> ms;
    int answered = 0;
    for (int i = 1; i <= o.probes; ++i) {
        const auto body = event_body(i);
        const auto r = probe(port, "127.0.0.2", signed_head(body), body,
                             std::chrono::seconds(o.probe_timeout_s));
        answered += r.status == 200;
        ms.push_back(r.status == 200 ? r.ms : o.probe_timeout_s * 1000.0);
        std::fprintf(stderr, "probe %d: status %d, %.1f ms\n", i, r.status, r.ms);
    }
    const long flooded = flood ? flood->answered() : 0;
    flood.reset();
    crowd.stop();
    std::sort(ms.begin(), ms.end());
    const bool all = answered == o.probes;
    std::printf("RESULT scenario=%s crowd_open=%d crowd_reopened=%ld flood_answered=%ld "
                "answered=%d/%d p50_ms=%s%.1f max_ms=%s%.1f\n",
                o.name.c_str(), open_at_start, crowd.reopened(), flooded, answered, o.probes,
                ms[ms.size() / 2] >= o.probe_timeout_s * 1000.0 ? ">=" : "", ms[ms.size() / 2],
                all ? "" : ">=", ms.back());
    return server->terminate() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"hostile clients benchmark"};
    Options o;
    app.add_option("--dunning", o.dunning, "the dunning binary")->required();
    app.add_option("--dir", o.dir, "a fresh working directory")->required();
    app.add_option("--name", o.name, "scenario name for the RESULT line");
    app.add_option("--idle", o.idle);
    app.add_option("--half-line", o.half_line);
    app.add_option("--trickle", o.trickle);
    app.add_option("--huge", o.huge);
    app.add_option("--flood", o.flood);
    app.add_option("--clients", o.clients, "distinct source addresses per kind");
    app.add_option("--probes", o.probes);
    app.add_option("--settle-ms", o.settle_ms);
    app.add_option("--probe-timeout-s", o.probe_timeout_s);
    CLI11_PARSE(app, argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hostile_bench: %s\n", e.what());
        return 1;
    }
}
