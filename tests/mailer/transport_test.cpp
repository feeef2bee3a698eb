// Integration: the .eml outbox on a real directory, and SMTP through libcurl against a real
// aiosmtpd server on loopback (tests/mailer/smtp_server.py), checked with Python's own parser.
#include "mailer/transport.hpp"
#include "support/ports.hpp"
#include "support/smtp_server.hpp"
#include "tests/support/files.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace dunning::mailer {
namespace {

namespace fs = std::filesystem;
using Kind = SendResult::Kind;
using dunning::testing::read_file;
using dunning::testing::SmtpServer;
using namespace std::chrono_literals;

class TempDir {
  public:
    TempDir() : path_(fs::temp_directory_path() / ("dunning-mail-" + random_suffix())) {
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    static std::string random_suffix() { return std::to_string(std::random_device{}()); }
    fs::path path_;
};

// A child process (openssl, Python) with our pipes on its stdin and stdout; stderr is shared
// with the test. It is killed if it lingers once its stdin is closed.
class Child {
  public:
    explicit Child(const std::vector<std::string>& args) {
        int out[2];
        int in[2];
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(in[0]);
        out_ = out[0];
        in_ = in[1];
        if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            wait();
        }
        ::close(out_);
    }

    std::string read_all() {
        std::string all;
        char buf[4096];
        for (ssize_t n; (n = ::read(out_, buf, sizeof buf)) > 0;)
            all.append(buf, n);
        return all;
    }

    int wait() {
        if (in_ >= 0) ::close(std::exchange(in_, -1));
        int status = 0;
        for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(100ms);
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    int in_ = -1;
};

std::string run(const std::vector<std::string>& args, int* exit_code = nullptr) {
    Child child(args);
    std::string out = child.read_all();
    const int code = child.wait();
    if (exit_code) *exit_code = code;
    return out;
}

// Python's email package reads the message independently of our encoder.
constexpr const char* decode_script = R"PY(
import email, email.policy, json, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
frm, to = m["from"].addresses[0], m["to"].addresses[0]
print(json.dumps({
    "subject": str(m["subject"]), "date": str(m["date"]), "message_id": str(m["message-id"]),
    "from_name": frm.display_name, "from_addr": frm.addr_spec,
    "to_name": to.display_name, "to_addr": to.addr_spec,
    "content_type": m.get_content_type(),
    "text": m.get_body(("plain",)).get_content(), "html": m.get_body(("html",)).get_content(),
    "defects": sum(len(p.defects) for p in m.walk()),
}))
)PY";

nlohmann::json decode_with_python(const fs::path& eml) {
    int code = -1;
    const std::string out = run({DUNNING_PYTHON, "-c", decode_script, eml.string()}, &code);
    EXPECT_EQ(code, 0) << out;
    return nlohmann::json::parse(out);
}

std::string without_cr(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
    return s;
}

std::vector<fs::path> received(const fs::path& store) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(store, ec))
        if (entry.path().extension() == ".eml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<fs::path> all_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        files.push_back(entry.path());
    return files;
}

Email dunning_email(const std::string& to = "Mia Mitglied <mia@example.org>") {
    Email e;
    e.from = "Jürgen Müßig <juergen@example.com>";
    e.to = to;
    e.reply_to = "Support <support@example.com>";
    e.subject = "Letzte Mahnung: Rechnung 2027-0042 über 49,00 € – Zugang wird gesperrt";
    e.text = "Hallo Mia,\n.\nbitte zahle 49,00 € bis 17. März.\n..\nJürgen\n";
    e.html = "<p>Hallo Mia,</p>\n.\n<p>bitte zahle <b>49,00&nbsp;€</b> bis 17. März.</p>\n";
    e.message_id = "<case-12-final_notice@dunning.example.com>";
    e.date = from_unix(1804064400); // 2027-03-03 09:00:00 UTC
    return e;
}

SendResult send(Transport& t, const Email& e) {
    return t.send(e, build_mime(e));
}

// ---------------------------------------------------------------- outbox

TEST(OutboxTransport, WritesOneFileNamedByDateAndMessageIdCreatingTheFolder) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "outbox" / "nested";
    auto outbox = make_outbox_transport(dir.string());
    const Email e = dunning_email();
    const SendResult r = send(*outbox, e);
    EXPECT_EQ(r.kind, Kind::sent) << r.server_answer;
    const fs::path expected = dir / "20270303T090000Z-case-12-final_notice@dunning.example.com.eml";
    EXPECT_EQ(r.server_answer, "written to outbox: " + expected.string());
    EXPECT_EQ(all_files(dir), std::vector<fs::path>{expected}); // no temp file left behind
    EXPECT_EQ(read_file(expected), build_mime(e));
    EXPECT_EQ(decode_with_python(expected)["subject"], e.subject);
}

TEST(OutboxTransport, TheSameMessageIdIsWrittenOnce) {
    TempDir tmp;
    auto outbox = make_outbox_transport(tmp.path().string());
    Email e = dunning_email();
    ASSERT_EQ(send(*outbox, e).kind, Kind::sent);
    const auto files = all_files(tmp.path());
    ASSERT_EQ(files.size(), 1u);
    const std::string first = read_file(files[0]);
    e.date = from_unix(1804064400 + 3600); // a retry an hour later
    e.text = "changed";
    const SendResult again = send(*outbox, e);
    EXPECT_EQ(again.kind, Kind::sent);
    EXPECT_EQ(again.server_answer, "already in outbox: " + files[0].string());
    EXPECT_EQ(all_files(tmp.path()), files);
    EXPECT_EQ(read_file(files[0]), first);
    e.message_id = "<case-12-reminder@dunning.example.com>";
    EXPECT_EQ(send(*outbox, e).kind, Kind::sent);
    EXPECT_EQ(all_files(tmp.path()).size(), 2u);
}

TEST(OutboxTransport, MessageIdCannotEscapeTheFolder) {
    TempDir tmp;
    auto outbox = make_outbox_transport((tmp.path() / "out").string());
    Email e = dunning_email();
    e.message_id = "<../../x y/z@example.com>";
    ASSERT_EQ(send(*outbox, e).kind, Kind::sent);
    EXPECT_EQ(all_files(tmp.path() / "out"),
              std::vector<fs::path>{tmp.path() / "out" /
                                    "20270303T090000Z-..%2F..%2Fx%20y%2Fz@example.com.eml"});
    EXPECT_EQ(all_files(tmp.path()).size(), 1u);
}

// Temp files of write_atomically whose writer is gone (a child that exited) or that carry this
// process's pid (an earlier process with the same pid) are removed at start; those of a writer
// still running (the parent) and every other file stay.
TEST(OutboxTransport, AStartRemovesTheTempFilesOfWritersThatAreGone) {
    TempDir tmp;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    const auto temp = [](const char* name, pid_t pid, int n) {
        return "." + std::string(name) + ".eml.tmp-" + std::to_string(pid) + "-" +
               std::to_string(n);
    };
    const std::vector<std::string> gone = {temp("a", child, 0), temp("b", ::getpid(), 7)};
    const std::vector<std::string> kept = {temp("c", ::getppid(), 1), "20270115T080000Z-d.eml",
                                           ".e.eml.tmp-", ".f.eml.tmp-12-x", ".profile"};
    for (const auto& name : gone)
        std::ofstream(tmp.path() / name) << "half";
    for (const auto& name : kept)
        std::ofstream(tmp.path() / name) << "x";
    auto outbox = make_outbox_transport(tmp.path().string());
    std::vector<fs::path> expected;
    for (const auto& name : kept)
        expected.push_back(tmp.path() / name);
    auto got = all_files(tmp.path());
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected);
}

TEST(OutboxTransport, IoErrorIsTemporary) {
    TempDir tmp;
    std::ofstream(tmp.path() / "plain-file") << "x";
    auto outbox = make_outbox_transport((tmp.path() / "plain-file" / "outbox").string());
    const SendResult r = send(*outbox, dunning_email());
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_NE(r.server_answer.find("outbox"), std::string::npos) << r.server_answer;
}

// ---------------------------------------------------------------- SMTP

class Smtp : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        certs_ = new TempDir;
        int code = -1;
        const std::string out =
            run({DUNNING_OPENSSL_TOOL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key(), "-out",
                 cert()},
                &code);
        ASSERT_EQ(code, 0) << out;
    }
    static void TearDownTestSuite() { delete certs_; }
    static std::string cert() { return (certs_->path() / "cert.pem").string(); }
    static std::string key() { return (certs_->path() / "key.pem").string(); }

    fs::path store() const { return tmp_.path() / "received"; }
    SmtpOptions plain(const SmtpServer& server) const {
        SmtpOptions o;
        o.url = server.url();
        o.allow_plaintext = true;
        o.timeout = 10s;
        return o;
    }

    static TempDir* certs_;
    TempDir tmp_;
};
TempDir* Smtp::certs_ = nullptr;

TEST_F(Smtp, PlaintextAllowedDeliversAMessagePythonReadsBack) {
    SmtpServer server(store(), {});
    auto smtp = make_smtp_transport(plain(server));
    const Email e = dunning_email();
    const SendResult r = send(*smtp, e);
    ASSERT_EQ(r.kind, Kind::sent) << r.server_answer;
    EXPECT_EQ(r.server_answer, "250 2.0.0 Ok: queued as msg-1");
    ASSERT_EQ(received(store()).size(), 1u);
    EXPECT_EQ(read_file(store() / "msg-1.envelope"), "juergen@example.com\nmia@example.org\n");
    EXPECT_EQ(read_file(store() / "msg-1.eml"), build_mime(e)); // dot-stuffing undone exactly
    const auto m = decode_with_python(store() / "msg-1.eml");
    EXPECT_EQ(m["subject"], e.subject);
    EXPECT_EQ(m["from_name"], "Jürgen Müßig");
    EXPECT_EQ(m["from_addr"], "juergen@example.com");
    EXPECT_EQ(m["to_name"], "Mia Mitglied");
    EXPECT_EQ(m["to_addr"], "mia@example.org");
    EXPECT_EQ(m["message_id"], e.message_id);
    EXPECT_EQ(m["date"], "Wed, 03 Mar 2027 09:00:00 +0000");
    EXPECT_EQ(m["content_type"], "multipart/alternative");
    EXPECT_EQ(without_cr(m["text"]), e.text);
    EXPECT_EQ(without_cr(m["html"]), e.html);
    EXPECT_EQ(m["defects"], 0);
}

// build_mime never starts a line with '.', but the transport does not rely on that: libcurl
// dot-stuffs what it uploads, so even a raw "." line cannot end DATA early.
TEST_F(Smtp, LibcurlDotStuffsLinesStartingWithADot) {
    SmtpServer server(store(), {});
    const std::string raw = "Subject: dots\r\n\r\n.\r\n..\r\n.end\r\nlast\r\n";
    const SendResult r = make_smtp_transport(plain(server))->send(dunning_email(), raw);
    ASSERT_EQ(r.kind, Kind::sent) << r.server_answer;
    EXPECT_EQ(read_file(store() / "msg-1.eml"), raw);
}

TEST_F(Smtp, PlaintextNotAllowedAndNoStarttlsIsTemporaryAndDeliversNothing) {
    SmtpServer server(store(), {});
    SmtpOptions o = plain(server);
    o.allow_plaintext = false;
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_NE(r.server_answer.find("STARTTLS required but not offered"), std::string::npos)
        << r.server_answer;
    EXPECT_TRUE(received(store()).empty());
}

TEST_F(Smtp, StarttlsWithTheCaFileDelivers) {
    SmtpServer server(store(), {"--starttls", cert(), key()});
    SmtpOptions o = plain(server);
    o.allow_plaintext = false;
    o.ca_file = cert();
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::sent) << r.server_answer;
    EXPECT_EQ(received(store()).size(), 1u);
}

TEST_F(Smtp, StarttlsWithoutTheCaFileRefusesTheCertificate) {
    SmtpServer server(store(), {"--starttls", cert(), key()});
    SmtpOptions o = plain(server);
    o.allow_plaintext = false;
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_NE(r.server_answer.find("TLS certificate verification failed"), std::string::npos)
        << r.server_answer;
    EXPECT_TRUE(received(store()).empty());
}

TEST_F(Smtp, ImplicitTlsDelivers) {
    SmtpServer server(store(), {"--implicit-tls", cert(), key()});
    SmtpOptions o = plain(server);
    o.url = server.url("smtps");
    o.allow_plaintext = false;
    o.ca_file = cert();
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::sent) << r.server_answer;
    EXPECT_EQ(received(store()).size(), 1u);
}

TEST_F(Smtp, AuthWithTheRightPasswordDelivers) {
    SmtpServer server(store(), {"--auth", "mailer:s3cret-Pw"});
    SmtpOptions o = plain(server);
    o.username = "mailer";
    o.password = "s3cret-Pw";
    EXPECT_EQ(send(*make_smtp_transport(o), dunning_email()).kind, Kind::sent);
    SmtpOptions in_url = plain(server);
    in_url.url = "smtp://mailer:s3cret-Pw@127.0.0.1:" + std::to_string(server.port());
    EXPECT_EQ(send(*make_smtp_transport(in_url), dunning_email()).kind, Kind::sent);
    EXPECT_EQ(received(store()).size(), 2u);
}

TEST_F(Smtp, AuthFailureIsTemporaryAndNeverShowsThePassword) {
    SmtpServer server(store(), {"--auth", "mailer:s3cret-Pw"});
    SmtpOptions o = plain(server);
    o.username = "mailer";
    o.password = "wrong-Pw";
    const SendResult wrong = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(wrong.kind, Kind::temporary);
    EXPECT_NE(wrong.server_answer.find("authentication failed: 535"), std::string::npos)
        << wrong.server_answer;
    EXPECT_EQ(wrong.server_answer.find("wrong-Pw"), std::string::npos);
    const SendResult none = send(*make_smtp_transport(plain(server)), dunning_email());
    EXPECT_EQ(none.kind, Kind::temporary);
    EXPECT_NE(none.server_answer.find("530"), std::string::npos) << none.server_answer;
    EXPECT_TRUE(received(store()).empty());
}

TEST_F(Smtp, RejectedRecipientIsPermanentAndOthersStillGetTheirs) {
    SmtpServer server(store(), {});
    auto smtp = make_smtp_transport(plain(server));
    const SendResult rejected = send(*smtp, dunning_email("Rita <reject-rita@example.org>"));
    EXPECT_EQ(rejected.kind, Kind::permanent);
    EXPECT_EQ(rejected.server_answer, "550 5.1.1 mailbox unavailable");
    const SendResult ok = send(*smtp, dunning_email());
    EXPECT_EQ(ok.kind, Kind::sent) << ok.server_answer;
    ASSERT_EQ(received(store()).size(), 1u);
    EXPECT_EQ(read_file(store() / "msg-1.envelope"), "juergen@example.com\nmia@example.org\n");
}

TEST_F(Smtp, TemporaryFailureThenSuccessOnRetry) {
    SmtpServer server(store(), {"--tempfail-data", "1"});
    auto smtp = make_smtp_transport(plain(server));
    const SendResult first = send(*smtp, dunning_email());
    EXPECT_EQ(first.kind, Kind::temporary);
    EXPECT_EQ(first.server_answer.rfind("451 4.3.0", 0), 0u) << first.server_answer;
    EXPECT_TRUE(received(store()).empty());
    const SendResult retry = send(*smtp, dunning_email());
    EXPECT_EQ(retry.kind, Kind::sent) << retry.server_answer;
    EXPECT_EQ(received(store()).size(), 1u);
}

TEST_F(Smtp, ConcurrentSendsAllArrive) {
    SmtpServer server(store(), {});
    auto smtp = make_smtp_transport(plain(server));
    std::vector<std::thread> threads;
    std::vector<SendResult> results(6);
    for (std::size_t i = 0; i < results.size(); ++i)
        threads.emplace_back([&, i] { results[i] = send(*smtp, dunning_email()); });
    for (auto& t : threads)
        t.join();
    for (const auto& r : results)
        EXPECT_EQ(r.kind, Kind::sent) << r.server_answer;
    EXPECT_EQ(received(store()).size(), results.size());
}

TEST_F(Smtp, ServerDownIsTemporary) {
    const dunning::testing::ClosedPort closed; // refuses connections
    SmtpOptions o;
    o.url = "smtp://127.0.0.1:" + std::to_string(closed.port());
    o.allow_plaintext = true;
    o.timeout = 5s;
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_EQ(r.server_answer.rfind("connection failed: ", 0), 0u) << r.server_answer;
}

TEST_F(Smtp, SilentServerTimesOut) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 4), 0); // the kernel accepts; nobody ever greets
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    SmtpOptions o;
    o.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    o.allow_plaintext = true;
    o.timeout = 1s;
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    ::close(fd);
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_EQ(r.server_answer.rfind("timed out: ", 0), 0u) << r.server_answer;
}

TEST_F(Smtp, UnusableAddressesArePermanentWithoutConnecting) {
    const dunning::testing::ClosedPort closed; // refuses connections
    SmtpOptions o;
    o.url = "smtp://127.0.0.1:" + std::to_string(closed.port());
    auto smtp = make_smtp_transport(o);
    EXPECT_EQ(send(*smtp, dunning_email("Mia <mia@example.org>\r\nBcc: x@evil.example")).kind,
              Kind::permanent);
    EXPECT_EQ(send(*smtp, dunning_email("no address here")).kind, Kind::permanent);
}

TEST_F(Smtp, OtherSchemesAreRefused) {
    const dunning::testing::ClosedPort closed; // refuses connections
    SmtpOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(closed.port());
    const SendResult r = send(*make_smtp_transport(o), dunning_email());
    EXPECT_EQ(r.kind, Kind::temporary);
    EXPECT_EQ(r.server_answer.rfind("bad SMTP URL", 0), 0u) << r.server_answer;
}

} // namespace
} // namespace dunning::mailer
