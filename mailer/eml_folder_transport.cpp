#include "mailer/mime_encoding.hpp"
#include "mailer/transport.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>
#include <unistd.h>
#include <unordered_map>
#include <utility>

namespace dunning::mailer {

const char* to_string(SendResult::Kind k) {
    switch (k) {
    case SendResult::Kind::sent:
        return "sent";
    case SendResult::Kind::temporary:
        return "temporary";
    case SendResult::Kind::permanent:
        return "permanent";
    }
    return "unknown";
}

namespace {

namespace fs = std::filesystem;
using Kind = SendResult::Kind;

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

  private:
    int fd_;
};

// "20270303T090000Z"
std::string compact_utc(Timestamp t) {
    using namespace std::chrono;
    const auto day_start = floor<days>(t);
    const year_month_day ymd{day_start};
    const hh_mm_ss hms{t - day_start};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

// The Message-ID as a file name part: unsafe octets become %XX, so distinct ids stay distinct.
std::string file_id(const Email& email, const std::string& mime) {
    std::string_view id = email.message_id;
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.front())))
        id.remove_prefix(1);
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back())))
        id.remove_suffix(1);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    const std::string hash = id.empty() ? detail::hex64(detail::fnv1a(mime)) : std::string{};
    if (id.empty()) id = hash;
    std::string out;
    for (char c : id) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || (c != '\0' && std::strchr(".@_+-", c) != nullptr)) {
            out += c;
        } else {
            char esc[4];
            std::snprintf(esc, sizeof esc, "%%%02X", u);
            out += esc;
        }
    }
    if (out.size() > 180) out = out.substr(0, 160) + "~" + detail::hex64(detail::fnv1a(id));
    return out;
}

// The file names' Message-ID parts, and the files: what the folder held when it was first listed.
// A name is "<YYYYMMDDTHHMMSSZ>-<id>.eml"; hidden temp files do not count.
std::unordered_map<std::string, fs::path> list_written(const fs::path& dir, std::error_code& ec) {
    std::unordered_map<std::string, fs::path> out;
    const std::size_t stamp = std::string_view("YYYYMMDDTHHMMSSZ-").size();
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > stamp + 4 && !name.starts_with('.') && name.ends_with(".eml"))
            out.emplace(name.substr(stamp, name.size() - stamp - 4), entry.path());
    }
    return out;
}

std::string errno_text(const std::string& what, const fs::path& path) {
    return "outbox: " + what + " " + path.string() + ": " + std::strerror(errno);
}

std::optional<std::string> write_all_synced(const fs::path& path, const std::string& bytes) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (fd.get() < 0) return errno_text("cannot create", path);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_text("cannot write", path);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return errno_text("cannot fsync", path);
    if (::close(fd.release()) != 0) return errno_text("cannot close", path);
    return std::nullopt;
}

// Temp file in the same directory, fsync, rename, fsync the directory: after a crash the file
// is either absent or complete, and once we report it written it survives a power cut.
std::optional<std::string> write_atomically(const fs::path& path, const std::string& bytes) {
    static std::atomic<unsigned> counter{0};
    const fs::path tmp =
        path.parent_path() / ("." + path.filename().string() + ".tmp-" +
                              std::to_string(::getpid()) + "-" + std::to_string(counter++));
    if (auto error = write_all_synced(tmp, bytes)) {
        ::unlink(tmp.c_str());
        return error;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto error = errno_text("cannot rename to", path);
        ::unlink(tmp.c_str());
        return error;
    }
    Fd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0)
        return errno_text("cannot fsync directory", path.parent_path());
    return std::nullopt;
}

// The writer of write_atomically's temp file ".<name>.eml.tmp-<pid>-<n>", or nullopt when the
// name is not one.
std::optional<pid_t> temp_file_writer(const std::string& name) {
    constexpr std::string_view tag = ".eml.tmp-";
    const auto mark = name.rfind(tag);
    if (!name.starts_with('.') || mark == std::string::npos) return std::nullopt;
    const std::string_view rest = std::string_view(name).substr(mark + tag.size());
    const auto dash = rest.find('-');
    const auto number = [](std::string_view t) {
        return !t.empty() &&
               std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (dash == std::string_view::npos || dash > 9 || !number(rest.substr(0, dash)) ||
        !number(rest.substr(dash + 1)))
        return std::nullopt;
    return static_cast<pid_t>(std::stol(std::string(rest.substr(0, dash))));
}

// Half-written emails of a process killed while writing (kill -9, power cut): a mail pipeline
// that takes every file in the folder must never see them. Those of a process still running
// (another writer on the same folder) are left alone; our own pid's are from an earlier life
// of this pid, since this process has not written yet.
void remove_stale_temp_files(const fs::path& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto writer = temp_file_writer(entry.path().filename().string());
        if (!writer) continue;
        const bool alive = *writer != ::getpid() && (::kill(*writer, 0) == 0 || errno == EPERM);
        if (!alive) fs::remove(entry.path(), ec);
    }
}

class OutboxTransport final : public Transport {
  public:
    explicit OutboxTransport(fs::path dir) : dir_(std::move(dir)) { remove_stale_temp_files(dir_); }

    SendResult send(const Email& email, const std::string& mime) override {
        const std::lock_guard lock(mutex_);
        std::error_code ec;
        fs::create_directories(dir_, ec);
        if (ec)
            return {Kind::temporary,
                    "outbox: cannot create " + dir_.string() + ": " + ec.message()};
        const std::string id = file_id(email, mime);
        if (!listed_) {
            written_ = list_written(dir_, ec);
            if (ec)
                return {Kind::temporary,
                        "outbox: cannot list " + dir_.string() + ": " + ec.message()};
            listed_ = true;
        }
        if (const auto it = written_.find(id); it != written_.end())
            return {Kind::sent, "already in outbox: " + it->second.string()};
        const fs::path path = dir_ / (compact_utc(email.date) + "-" + id + ".eml");
        if (auto error = write_atomically(path, mime)) return {Kind::temporary, *error};
        written_.emplace(id, path);
        return {Kind::sent, "written to outbox: " + path.string()};
    }

  private:
    fs::path dir_;
    std::mutex mutex_; // one writer per id at a time within this process
    // Every Message-ID written, so that a send costs the same however full the folder is: the
    // folder is listed once, at the first send (emails a pipeline took away since stay known).
    bool listed_ = false;
    std::unordered_map<std::string, fs::path> written_;
};

} // namespace

std::unique_ptr<Transport> make_outbox_transport(const std::string& dir) {
    return std::make_unique<OutboxTransport>(dir);
}

} // namespace dunning::mailer
