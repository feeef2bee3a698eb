#pragma once
// Test support: a real SMTP server on loopback (tests/mailer/smtp_server.py with aiosmtpd, under
// the interpreter CMake found) as a child process, and what it received.
#include "tests/support/files.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace dunning::testing {

class SmtpServer {
  public:
    SmtpServer(const std::filesystem::path& dir, std::vector<std::string> extra = {}) : dir_(dir) {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe");
        std::vector<std::string> args = {DUNNING_PYTHON, DUNNING_SMTP_SERVER_SCRIPT, dir.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start smtp_server.py");
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        const std::string line = read_line();
        if (line.empty())
            throw std::runtime_error(
                "smtp_server.py did not start (is python3-aiosmtpd installed?)");
        port_ = std::stoi(line); // the port the kernel gave it
    }
    ~SmtpServer() { stop(); }
    // Closes its stdin and sends SIGTERM. A server still running 60 s later is reported on
    // stderr and killed, so that a hang on its way out cannot hold the test until ctest's timeout.
    void stop() {
        if (pid_ <= 0) return;
        close(stdin_);
        close(stdout_);
        kill(pid_, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (waitpid(pid_, nullptr, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= until) {
                std::fprintf(stderr,
                             "SmtpServer: smtp_server.py (pid %d) still running 60 s after "
                             "SIGTERM; killed\n",
                             static_cast<int>(pid_));
                kill(pid_, SIGKILL);
                waitpid(pid_, nullptr, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        pid_ = -1;
    }
    int port() const { return port_; }
    std::string url(const std::string& scheme = "smtp") const {
        return scheme + "://127.0.0.1:" + std::to_string(port_);
    }

    // A server started with "--down" (or taken down) refuses connections on its port until
    // this returns.
    void bring_up() {
        if (write(stdin_, "up\n", 3) != 3 || read_line() != "up")
            throw std::runtime_error("smtp_server.py did not come up");
    }
    // An outage: connections to the port are refused from when this returns until bring_up().
    void take_down() {
        if (write(stdin_, "down\n", 5) != 5 || read_line() != "down")
            throw std::runtime_error("smtp_server.py did not go down");
    }

    // Received messages, oldest first, as raw bytes.
    std::vector<std::string> messages() const {
        std::vector<std::filesystem::path> files;
        if (std::filesystem::exists(dir_))
            for (const auto& e : std::filesystem::directory_iterator(dir_))
                if (e.path().extension() == ".eml") files.push_back(e.path());
        std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
            return std::stoi(a.stem().string().substr(4)) < std::stoi(b.stem().string().substr(4));
        });
        std::vector<std::string> out;
        for (const auto& f : files)
            out.push_back(read_file(f));
        return out;
    }

  private:
    // One line of the server's stdout; "" if none comes within a generous bound (no hang).
    std::string read_line() {
        std::string line;
        char c = 0;
        pollfd p{stdout_, POLLIN, 0};
        while (poll(&p, 1, 30'000) > 0 && read(stdout_, &c, 1) == 1 && c != '\n')
            line += c;
        return line;
    }

    std::filesystem::path dir_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

// Decoding, to read what a member reads.
inline std::string decode_qp(const std::string& in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '=') {
            out += in[i];
        } else if (in.compare(i + 1, 2, "\r\n") == 0) {
            i += 2; // soft line break
        } else if (i + 1 < in.size() && in[i + 1] == '\n') {
            i += 1;
        } else if (i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
            out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

inline std::string decode_base64(const std::string& in) {
    static const std::string chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -8;
    for (char c : in) {
        const auto pos = chars.find(c);
        if (pos == std::string::npos) continue;
        val = (val << 6) + static_cast<int>(pos);
        bits += 6;
        if (bits >= 0) {
            out += static_cast<char>((val >> bits) & 0xFF);
            bits -= 8;
        }
    }
    return out;
}

// The Subject header, RFC 2047 words decoded.
inline std::string subject_of(const std::string& mime) {
    const auto start = mime.find("\r\nSubject: ");
    if (start == std::string::npos) return {};
    std::string raw;
    for (auto i = start + 11; i < mime.size(); ++i) {
        if (mime.compare(i, 2, "\r\n") == 0) {
            if (i + 2 < mime.size() && (mime[i + 2] == ' ' || mime[i + 2] == '\t')) {
                i += 2;
                continue;
            }
            break;
        }
        raw += mime[i];
    }
    std::string out;
    for (std::size_t pos = 0; pos < raw.size();) {
        const auto w = raw.find("=?", pos);
        if (w == std::string::npos) {
            out += raw.substr(pos);
            break;
        }
        out += raw.substr(pos, w - pos);
        const auto q1 = raw.find('?', w + 2), q2 = raw.find('?', q1 + 1),
                   end = raw.find("?=", q2 + 1);
        const char enc = static_cast<char>(std::toupper(raw[q1 + 1]));
        auto text = raw.substr(q2 + 1, end - q2 - 1);
        if (enc == 'B')
            out += decode_base64(text);
        else {
            std::replace(text.begin(), text.end(), '_', ' ');
            out += decode_qp(text);
        }
        pos = end + 2;
        while (pos < raw.size() && raw[pos] == ' ' && raw.compare(pos + 1, 2, "=?") == 0)
            ++pos;
    }
    return out;
}

// The decoded text/plain part.
inline std::string text_of(const std::string& mime) {
    const auto part = mime.find("Content-Type: text/plain");
    if (part == std::string::npos) return {};
    const auto body = mime.find("\r\n\r\n", part) + 4;
    const auto end = mime.find("\r\n--", body);
    return decode_qp(mime.substr(body, end - body));
}

} // namespace dunning::testing
