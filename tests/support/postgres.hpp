#pragma once
// Test support: a throwaway PostgreSQL server, started by the test itself from Debian's server
// binaries (package postgresql; no system service, nothing on PATH needed).
//
// PostgresCluster runs `initdb` into a fresh directory /tmp/dunning-pg-<pid>-XXXXXX and `postgres`
// on that data directory, listening on a Unix socket in the same directory only (no TCP port, so
// parallel test binaries never collide), with trust authentication for the superuser `dunning`: the
// directory is mode 0700, so only its owner (and root) reaches the socket. Durability is switched
// off (fsync, synchronous_commit, full_page_writes): a test's cluster lives for one process.
//
// PostgreSQL refuses to run as root. When the tests run as root (as here and in CI), the server
// runs as the unprivileged user $DUNNING_PG_USER, or `postgres` (Debian's package creates it),
// and the directory is handed to that user; as any other user it runs as that user.
//
// Readiness is a poll (a connection attempt every 20 ms) bounded by a timeout that fails with the
// server's log; the server's stop is a fast shutdown (SIGINT) waited for, then the directory goes.
// If the test process dies without stopping it, the kernel sends the server SIGINT
// (PR_SET_PDEATHSIG), so no server outlives its test; the directory it leaves is removed by the
// next cluster started on the machine. A test of a database outage stops the server but keeps its
// directory (stop_keeping_data) and starts it again (start_again): the same data, the same socket.
//
// In GoogleTest: register PostgresEnvironment once per test binary (one cluster per binary, not
// per test) and take a database per test with ScratchDatabase, dropped when it goes:
//
//   const auto* const pg = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
//   TEST(X, Y) { ScratchDatabase db(postgres_cluster()); pqxx::connection c(db.url()); … }
//
// If the binaries are missing, every test that asks for the cluster fails with a message naming
// the package: never a skip.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace dunning::testing {

namespace postgres_detail {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline bool has_server_binaries(const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "initdb", ec) && fs::exists(dir / "postgres", ec);
}

// The version number of /usr/lib/postgresql/<N>/bin, 0 if the name is not one.
inline int major_version(const fs::path& versioned_dir) {
    const auto name = versioned_dir.filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
        return 0;
    return std::stoi(name);
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline std::string tail(const std::string& text, std::size_t bytes = 4000) {
    return text.size() <= bytes ? text : "…" + text.substr(text.size() - bytes);
}

// Whom the server runs as: nullopt to stay who we are (not root).
struct RunAs {
    uid_t uid;
    gid_t gid;
    std::string name;
};

inline std::optional<RunAs> server_user() {
    if (geteuid() != 0) return std::nullopt;
    const char* wanted = std::getenv("DUNNING_PG_USER");
    const std::string name = wanted && *wanted ? wanted : "postgres";
    const passwd* pw = getpwnam(name.c_str());
    if (!pw)
        throw std::runtime_error(
            "PostgreSQL refuses to run as root and there is no user '" + name +
            "' to run the test server as: install Debian's postgresql (scripts/install-deps), "
            "which creates the user postgres, or set DUNNING_PG_USER to an unprivileged user");
    if (pw->pw_uid == 0)
        throw std::runtime_error("DUNNING_PG_USER=" + name +
                                 " is root; PostgreSQL needs an "
                                 "unprivileged user");
    return RunAs{pw->pw_uid, pw->pw_gid, name};
}

// A child process running `argv` (argv[0] a path) as `as` (or as we are), stdout and stderr
// appended to `log`, stdin /dev/null, in `cwd`; SIGINT when this thread ends. Only
// async-signal-safe calls between fork and exec: everything is prepared before.
inline pid_t spawn(const std::vector<std::string>& args, const std::optional<RunAs>& as,
                   const fs::path& log, const fs::path& cwd) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The environment without libpq's variables (PGHOST, PGDATA, …), in the C locale.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "PG", 2) != 0 && std::strncmp(*e, "LC_", 3) != 0 &&
            std::strncmp(*e, "LANG=", 5) != 0)
            env_strings.emplace_back(*e);
    env_strings.emplace_back("LC_ALL=C");
    std::vector<char*> envp;
    for (auto& e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::system_error(errno, std::generic_category(), "open " + log.string());
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const std::string cwd_s = cwd.string();
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
        if (null_fd >= 0) dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        if (as) {
            const gid_t groups[] = {as->gid};
            if (setgroups(1, groups) != 0 || setgid(as->gid) != 0 || setuid(as->uid) != 0)
                _exit(126);
        }
        // After the change of user, which clears it.
        prctl(PR_SET_PDEATHSIG, SIGINT);
        if (getppid() != parent) _exit(125); // the test died before the signal was asked for
        if (chdir(cwd_s.c_str()) != 0) _exit(126);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    const int fork_errno = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    if (pid < 0) throw std::system_error(fork_errno, std::generic_category(), "fork");
    return pid;
}

// The child's wait status once it has ended, nullopt while it runs.
inline std::optional<int> exited(pid_t pid) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno == ECHILD) return 0;
    return std::nullopt;
}

// Waits for the child to end, at most `limit`; its wait status, nullopt on timeout.
inline std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
        if (auto s = exited(pid)) return s;
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

inline std::string describe(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

// The directories /tmp/dunning-pg-<pid>-* of test processes that died without removing theirs
// (killed: their servers stopped with them, PR_SET_PDEATHSIG), so that they do not pile up.
inline void remove_orphaned_directories() {
    static const std::regex name(R"(dunning-pg-([0-9]+)-.*)");
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
        std::smatch m;
        const auto file = entry.path().filename().string();
        if (!std::regex_match(file, m, name)) continue;
        const auto pid = static_cast<pid_t>(std::stol(m[1].str()));
        if (kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
    }
}

} // namespace postgres_detail

// Where initdb and postgres are: $DUNNING_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin
// (Debian's layout), else the directory of an initdb on PATH. Throws, naming the package, when
// there are none.
inline std::filesystem::path postgres_bindir() {
    namespace fs = std::filesystem;
    using postgres_detail::has_server_binaries;
    if (const char* dir = std::getenv("DUNNING_PG_BINDIR"); dir && *dir) {
        if (has_server_binaries(dir)) return dir;
        throw std::runtime_error(std::string("DUNNING_PG_BINDIR=") + dir +
                                 " has no initdb and postgres");
    }
    std::error_code ec;
    fs::path best;
    int best_version = 0;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const int v = postgres_detail::major_version(entry.path());
        if (v > best_version && has_server_binaries(entry.path() / "bin")) {
            best = entry.path() / "bin";
            best_version = v;
        }
    }
    if (best_version > 0) return best;
    if (const char* path = std::getenv("PATH")) {
        std::string p = path;
        for (std::size_t at = 0; at <= p.size();) {
            const auto end = std::min(p.find(':', at), p.size());
            const fs::path dir = p.substr(at, end - at);
            if (!dir.empty() && has_server_binaries(dir)) return dir;
            at = end + 1;
        }
    }
    throw std::runtime_error(
        "PostgreSQL's server binaries (initdb, postgres) were not found in "
        "/usr/lib/postgresql/*/bin, on PATH or in $DUNNING_PG_BINDIR: install Debian's package "
        "postgresql (scripts/install-deps does)");
}

// One throwaway PostgreSQL server: started by the constructor (throws with the reason and the
// server's log if it cannot), stopped and its directory removed by the destructor.
class PostgresCluster {
  public:
    static constexpr const char* superuser = "dunning";

    explicit PostgresCluster(std::chrono::milliseconds ready_timeout = std::chrono::seconds(60)) {
        namespace pd = postgres_detail;
        const auto bindir = postgres_bindir();
        const auto as = pd::server_user();
        pd::remove_orphaned_directories();
        std::string tmpl = "/tmp/dunning-pg-" + std::to_string(getpid()) + "-XXXXXX";
        if (!mkdtemp(tmpl.data()))
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        dir_ = tmpl;
        try {
            if (as && chown(dir_.c_str(), as->uid, as->gid) != 0)
                throw std::system_error(errno, std::generic_category(),
                                        "chown " + dir_.string() + " to " + as->name);
            log_ = dir_ / "server.log";
            const auto data = dir_ / "data";

            const auto t0 = pd::Clock::now();
            const pid_t initdb = pd::spawn({(bindir / "initdb").string(), "-D", data.string(), "-U",
                                            superuser, "--auth=trust", "--encoding=UTF8",
                                            "--no-locale", "--no-sync", "--no-instructions"},
                                           as, log_, dir_);
            const auto status = pd::wait_for(initdb, std::chrono::seconds(120));
            if (!status) {
                kill(initdb, SIGKILL);
                pd::wait_for(initdb, std::chrono::seconds(10));
                throw std::runtime_error("initdb did not finish within 120 s" + log_excerpt());
            }
            if (*status != 0)
                throw std::runtime_error("initdb failed (" + pd::describe(*status) + ")" +
                                         log_excerpt());
            const auto t1 = pd::Clock::now();

            bindir_ = bindir;
            as_ = as;
            spawn_server();
            wait_until_ready(ready_timeout);
            initdb_time = std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0);
            start_time =
                std::chrono::duration_cast<std::chrono::milliseconds>(pd::Clock::now() - t1);
        } catch (...) {
            stop();
            throw;
        }
    }

    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;
    ~PostgresCluster() { stop(); }

    // A libpq connection string to `database` as the superuser, over the socket.
    std::string url(const std::string& database = "postgres") const {
        return "host=" + dir_.string() + " port=5432 user=" + superuser + " dbname=" + database;
    }

    // The same as a postgresql:// URL: the form [storage] postgres_url takes in a config file.
    std::string uri(const std::string& database) const {
        return "postgresql:///" + database + "?host=" + dir_.string() +
               "&port=5432&user=" + superuser;
    }

    const std::filesystem::path& directory() const { return dir_; }
    std::string log() const { return postgres_detail::read_text(log_); }
    pid_t pid() const { return pid_; }

    // A new, empty database with a name unique in this cluster; the name is returned.
    std::string create_database(const std::string& prefix = "test") {
        const auto name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++count_);
        pqxx::connection c(url());
        pqxx::nontransaction tx(c);
        tx.exec("CREATE DATABASE " + tx.quote_name(name));
        return name;
    }

    void drop_database(const std::string& name) {
        pqxx::connection c(url());
        pqxx::nontransaction tx(c);
        tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    }

    // Fast shutdown (SIGINT: open sessions are ended, not waited for), itself waited for;
    // then the directory is removed. Idempotent.
    void stop() noexcept {
        end_server();
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
            dir_.clear();
        }
    }

    // An outage: the server stops as stop() stops it, but its directory (data, log) stays, so
    // that start_again() brings the same databases back on the same socket. Idempotent.
    void stop_keeping_data() noexcept { end_server(); }

    // The server stopped by stop_keeping_data() starts again, with the arguments it was first
    // started with; returns once it accepts connections (throws with its log if it does not
    // within `ready_timeout`).
    void start_again(std::chrono::milliseconds ready_timeout = std::chrono::seconds(60)) {
        if (dir_.empty()) throw std::logic_error("start_again: the cluster was stopped for good");
        if (pid_ > 0) throw std::logic_error("start_again: the server is running");
        spawn_server();
        wait_until_ready(ready_timeout);
    }

    std::chrono::milliseconds initdb_time{0}; // initdb
    std::chrono::milliseconds start_time{0};  // postgres started until it accepted a connection

  private:
    // `postgres` on the data directory, listening on the socket in dir_ only; its pid in pid_.
    void spawn_server() {
        const auto data = dir_ / "data";
        pid_ = postgres_detail::spawn({(bindir_ / "postgres").string(), "-D", data.string(), "-k",
                                       dir_.string(), "-c", "listen_addresses=", "-c", "fsync=off",
                                       "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                       "-c", "max_connections=40"},
                                      as_, log_, dir_);
    }

    // Fast shutdown, waited for; an immediate shutdown (SIGQUIT), then SIGKILL, if it takes too
    // long. Nothing to do when the server is not running.
    void end_server() noexcept {
        namespace pd = postgres_detail;
        if (pid_ <= 0) return;
        kill(pid_, SIGINT);
        if (!pd::wait_for(pid_, std::chrono::seconds(30))) {
            kill(pid_, SIGQUIT); // immediate shutdown
            if (!pd::wait_for(pid_, std::chrono::seconds(10))) {
                kill(pid_, SIGKILL);
                pd::wait_for(pid_, std::chrono::seconds(10));
            }
        }
        pid_ = -1;
    }

    std::string log_excerpt() const {
        return "; server log " + log_.string() + ":\n" + postgres_detail::tail(log());
    }

    void wait_until_ready(std::chrono::milliseconds limit) {
        namespace pd = postgres_detail;
        const auto deadline = pd::Clock::now() + limit;
        std::string last_error;
        for (;;) {
            if (auto status = pd::exited(pid_)) {
                pid_ = -1;
                throw std::runtime_error("postgres exited before accepting connections (" +
                                         pd::describe(*status) + ")" + log_excerpt());
            }
            try {
                pqxx::connection c(url() + " connect_timeout=2");
                return;
            } catch (const std::exception& e) {
                last_error = e.what();
            }
            if (pd::Clock::now() >= deadline)
                throw std::runtime_error("postgres did not accept connections on " + dir_.string() +
                                         " within " + std::to_string(limit.count()) +
                                         " ms (last attempt: " + last_error + ")" + log_excerpt());
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    std::filesystem::path dir_;
    std::filesystem::path log_;
    std::filesystem::path bindir_;             // where postgres is
    std::optional<postgres_detail::RunAs> as_; // whom it runs as
    pid_t pid_ = -1;
    std::atomic<int> count_{0};
};

// A database of its own for one test, dropped (even with sessions still open) when it goes.
class ScratchDatabase {
  public:
    explicit ScratchDatabase(PostgresCluster& cluster, const std::string& prefix = "test")
        : cluster_(cluster), name_(cluster.create_database(prefix)) {}
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;
    ~ScratchDatabase() {
        try {
            cluster_.drop_database(name_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "dropping database " << name_ << ": " << e.what();
        }
    }
    const std::string& name() const { return name_; }
    std::string url() const { return cluster_.url(name_); }

  private:
    PostgresCluster& cluster_;
    std::string name_;
};

namespace postgres_detail {
inline PostgresCluster* current_cluster = nullptr;
inline std::string start_error; // why the environment's cluster did not start
} // namespace postgres_detail

// One cluster for the whole test binary: started before its first test, stopped after its last
// (also when tests failed). If it cannot start, every test that asks for it (postgres_cluster())
// fails with the reason: a failure, not a skip.
class PostgresEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        try {
            cluster_ = std::make_unique<PostgresCluster>();
            postgres_detail::current_cluster = cluster_.get();
        } catch (const std::exception& e) {
            postgres_detail::start_error = e.what();
            std::cerr << "cannot start the test PostgreSQL server: " << e.what() << "\n";
        }
    }
    void TearDown() override {
        postgres_detail::current_cluster = nullptr;
        cluster_.reset();
    }

  private:
    std::unique_ptr<PostgresCluster> cluster_;
};

// The cluster PostgresEnvironment started; throws if none is running.
inline PostgresCluster& postgres_cluster() {
    if (!postgres_detail::start_error.empty())
        throw std::runtime_error("cannot start the test PostgreSQL server: " +
                                 postgres_detail::start_error);
    if (!postgres_detail::current_cluster)
        throw std::logic_error("no test PostgreSQL server: register PostgresEnvironment "
                               "(::testing::AddGlobalTestEnvironment) in this test binary");
    return *postgres_detail::current_cluster;
}

#ifdef DUNNING_TEST_POSTGRES
// A suite compiled again with DUNNING_TEST_POSTGRES (CMake: dunning_postgres_twin) runs on
// PostgreSQL: the binary starts one server, and every store a test makes (test_config and
// ChildService of tests/support, TestStore) is a database of its own on it.
inline const auto* const test_store_postgres_environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
#endif

// The database of a test's folder on the binary's server, made on first asking: a test that
// starts the service again on the same folder finds its store there, as it finds a SQLite file.
inline std::string folder_database(const std::filesystem::path& dir) {
    static std::map<std::filesystem::path, std::string> databases;
    static std::mutex databases_mutex;
    std::lock_guard lock(databases_mutex);
    auto& name = databases[dir];
    if (name.empty()) name = postgres_cluster().create_database("e2e");
    return name;
}

} // namespace dunning::testing
