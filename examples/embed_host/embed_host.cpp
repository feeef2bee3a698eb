// A course platform that links the module in instead of talking to it over HTTP.
//
//   embed_host --config dunning.toml [--member cus_… --course course-101]
//
// It runs the module (Stripe's webhooks still arrive over HTTP at [server] listen), prints every
// access change the moment it is made, and, when asked about one member and course, prints the
// answer at start and again after each change of that member. A real platform would update its
// own enrolment table in the listener instead of printing.
#include "config/config.hpp"
#include "plugin/module.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

void print_answer(const dunning::access::AccessAnswer& a) {
    std::cout << "access " << a.member << " " << a.course << ": " << dunning::to_string(a.level)
              << " (" << a.reason << ")" << std::endl;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Runs the dunning module inside a host program and prints access changes."};
    std::string config_path, member, course;
    app.add_option("--config", config_path, "the module's TOML configuration")->required();
    app.add_option("--member", member, "a Stripe customer id to watch");
    app.add_option("--course", course, "a course id (or Stripe product id) to watch");
    CLI11_PARSE(app, argc, argv);

    auto loaded = dunning::config::load_config(config_path);
    if (!loaded) {
        for (const auto& problem : loaded.error())
            std::cerr << problem << '\n';
        return 2;
    }
    auto config = std::move(loaded).value();
    const std::string creator = config.creators.empty() ? "" : config.creators.front().id;

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    dunning::plugin::Module module(std::move(config));
    std::mutex out;
    auto show = [&] {
        if (member.empty() || course.empty()) return;
        if (const auto a = module.access(creator, member, course))
            print_answer(*a);
        else
            std::cout << "access " << member << " " << course << ": unknown course" << std::endl;
    };

    // Called from the module's worker thread, in order, at least once per change: dedupe on
    // e.sequence if the platform must apply each change exactly once.
    module.on_access_change([&](const dunning::jobs::AccessEvent& e) {
        std::lock_guard lock(out);
        std::cout << "change #" << e.sequence << " " << e.creator << " " << e.member << " "
                  << e.product << " [" << join(e.courses) << "]: " << dunning::to_string(e.from)
                  << " -> " << dunning::to_string(e.to) << " (" << e.reason << ")" << std::endl;
        if (e.member == member) show();
    });
    show();

    std::thread stopper([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        module.stop();
    });
    const bool served = module.serve();
    if (!served) {
        std::cerr << "embed_host: cannot listen on " << module.config().server.listen << '\n';
        pthread_kill(stopper.native_handle(), SIGTERM);
    }
    stopper.join();
    return served ? 0 : 1;
}
