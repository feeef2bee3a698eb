#pragma once
// Test support: run the real `dunning` binary as a child process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace dunning::testing {

struct CommandResult {
    int exit_code = -1;
    std::string output; // stdout and stderr together
};

// Runs a shell command to completion, capturing its output.
inline CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed");
    std::array<char, 4096> buf{};
    while (auto n = fread(buf.data(), 1, buf.size(), pipe))
        r.output.append(buf.data(), n);
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// The port a `dunning serve` child bound (`listen = "127.0.0.1:0"`: the kernel's pick), read
// from its log line "listening on http://HOST:PORT": the first such line after `from` bytes of
// the log. 0 if none appears within a generous bound (the service did not start).
inline int listening_port(const std::string& log_path, std::size_t from = 0) {
    static const std::string marker = "listening on http://";
    for (int i = 0; i < 3000; ++i) {
        std::ifstream in(log_path, std::ios::binary);
        std::string log((std::istreambuf_iterator<char>(in)), {});
        const auto at = log.size() > from ? log.find(marker, from) : std::string::npos;
        const auto end = at == std::string::npos ? at : log.find('\n', at);
        if (end != std::string::npos) {
            const auto colon = log.rfind(':', end);
            return std::stoi(log.substr(colon + 1, end - colon - 1));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

inline std::size_t file_size(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<std::size_t>(size);
}

// How a child's stdout and stderr reach `log_path`: the child appends to the file itself, or
// writes into a pipe this process copies to the file (so a file size limit set on the child,
// RLIMIT_FSIZE, does not silence its log).
enum class LogVia { file, pipe };

// A child process killed (SIGKILL) when the handle goes, unless it was waited for. args[0] is
// looked up on PATH unless it names a path; stdout and stderr go to the end of `log_path`.
class ChildProcess {
  public:
    ChildProcess(const std::vector<std::string>& args, const std::string& log_path,
                 LogVia via = LogVia::file) {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        int fds[2] = {-1, -1};
        if (via == LogVia::pipe && pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error("cannot make a pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (via == LogVia::pipe)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        else
            posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                             O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (via == LogVia::pipe) {
            close(fds[1]);
            relay_ = std::thread([fd = fds[0], log_path] {
                std::ofstream out(log_path, std::ios::binary | std::ios::app);
                char buf[4096];
                for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
                    out.write(buf, n).flush();
                close(fd);
            });
        }
        if (rc != 0) {
            if (relay_.joinable()) relay_.join();
            throw std::runtime_error("cannot start " + args[0]);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (pid_ > 0) kill_hard();
        if (relay_.joinable()) relay_.join();
    }
    void kill_hard() {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    pid_t pid() const { return pid_; }
    bool alive() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
    // Sends `sig` and waits: the exit code, or -signal. A child still running `deadline` later
    // has its threads printed (see print_stacks) and is killed (SIGKILL, so -9): a hang on the
    // way out becomes a failure that shows where it was, not a test that runs into ctest's
    // timeout. -1 when there is no child any more (stopped or killed before).
    int stop(int sig = SIGTERM, std::chrono::seconds deadline = std::chrono::seconds(120)) {
        if (pid_ <= 0) return -1; // kill(-1) would signal every process of the user
        ::kill(pid_, sig);
        int status = 0;
        const auto until = std::chrono::steady_clock::now() + deadline;
        pid_t exited = 0;
        while ((exited = waitpid(pid_, &status, WNOHANG)) == 0 &&
               std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (exited == 0) {
            print_stacks(sig, deadline);
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    int terminate() { // SIGTERM, then the exit code; -1 if it did not exit by itself
        const int code = stop(SIGTERM);
        return code < 0 ? -1 : code;
    }

  private:
    // Where each thread of the child is: its name and the kernel function it waits in
    // (/proc/PID/task/TID/wchan), and gdb's backtraces when gdb is installed and may attach
    // (with Yama's ptrace_scope = 1 it may not: gdb then says so). gdb gets 60 s.
    void print_stacks(int sig, std::chrono::seconds deadline) const {
        const auto pid = std::to_string(pid_);
        std::string report = "ChildProcess: pid " + pid + " still running " +
                             std::to_string(deadline.count()) + " s after signal " +
                             std::to_string(sig) + "; its threads:\n";
        std::error_code ec;
        for (const auto& task : std::filesystem::directory_iterator("/proc/" + pid + "/task", ec)) {
            const auto read = [&](const char* name) {
                std::ifstream in(task.path() / name);
                std::string text((std::istreambuf_iterator<char>(in)), {});
                while (!text.empty() && text.back() == '\n')
                    text.pop_back();
                return text;
            };
            report += "  thread " + task.path().filename().string() + " (" + read("comm") +
                      ") waits in " + read("wchan") + "\n";
        }
        if (run_command("command -v gdb").exit_code == 0)
            report += run_command("timeout -k 5 60 gdb -p " + pid +
                                  " -batch -nx -ex 'thread apply all bt' </dev/null")
                          .output;
        std::fputs(report.c_str(), stderr);
        std::fflush(stderr);
    }

    pid_t pid_ = -1;
    std::thread relay_;
};

} // namespace dunning::testing
