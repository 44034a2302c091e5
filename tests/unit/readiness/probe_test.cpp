// Each probe against the real thing: sockets made by the test, a small HTTP server on the same
// loop, real processes spawned and reaped through the Reaper, files in a temp dir. Every wait
// polls with a deadline.
#include "supervisord/readiness/probe.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "loop/pump_until.h"
#include "output/output_test_util.h"
#include "supervisord/process/reaper.h"
#include "supervisord/readiness/http_probe.h"
#include "supervisord/readiness/probe_address.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using testing::pump_until;
using Clock = std::chrono::steady_clock;

ProbeConfig probe_of(ProbeConfig::Kind kind, std::string target) {
  ProbeConfig c;
  c.kind = kind;
  c.target = std::move(target);
  return c;
}
ProbeConfig tcp(std::string target) {
  return probe_of(ProbeConfig::Kind::tcp, std::move(target));
}
ProbeConfig http(std::string url) {
  return probe_of(ProbeConfig::Kind::http, std::move(url));
}
ProbeConfig file(std::string path) {
  return probe_of(ProbeConfig::Kind::file, std::move(path));
}
ProbeConfig exec(std::vector<std::string> command) {
  ProbeConfig c = probe_of(ProbeConfig::Kind::exec, "");
  c.command = std::move(command);
  return c;
}

// A socket bound to 127.0.0.1 on a port of the kernel's choice; listening or not.
class LocalSocket {
 public:
  explicit LocalSocket(bool listening, int backlog = 16) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), length) != 0) return;
    if (listening && ::listen(fd_.get(), backlog) != 0) return;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  int fd() const { return fd_.get(); }
  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Fd fd_;
  int port_ = 0;
};

// An HTTP server on the loop: each connection gets `answer` once its request's headers came
// (and is closed once it is written); with an empty `answer` it never gets anything.
class TestHttpServer {
 public:
  TestHttpServer(EventLoop& loop, std::string answer) : answer_(std::move(answer)) {
    if (socket_.port() == 0 || evutil_make_socket_nonblocking(socket_.fd()) != 0) return;
    listener_ = evconnlistener_new(loop.base(), on_accept, this, LEV_OPT_CLOSE_ON_EXEC, 0,
                                   socket_.fd());  // 0: it listens already
  }
  ~TestHttpServer() {
    for (Connection& c : connections_) {
      if (c.bev) bufferevent_free(c.bev);
    }
    if (listener_) evconnlistener_free(listener_);
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  bool ok() const { return listener_ != nullptr; }
  std::string url(const std::string& path) const { return "http://" + socket_.target() + path; }
  // The first connection's request, as far as it came.
  std::string request() const { return connections_.empty() ? "" : connections_[0].request; }

 private:
  struct Connection {
    TestHttpServer* server = nullptr;
    bufferevent* bev = nullptr;
    std::string request;
    bool answered = false;
  };

  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) {
    auto* server = static_cast<TestHttpServer*>(self);
    event_base* base = evconnlistener_get_base(server->listener_);
    server->connections_.reserve(64);  // the callbacks hold pointers into it
    if (server->connections_.size() == 64) return (void)::close(fd);
    Connection& c = server->connections_.emplace_back();
    c.server = server;
    c.bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c.bev, on_read, nullptr, on_event, &c);
    bufferevent_enable(c.bev, EV_READ | EV_WRITE);
  }
  static void on_read(bufferevent* bev, void* arg) {
    auto& c = *static_cast<Connection*>(arg);
    evbuffer* input = bufferevent_get_input(bev);
    std::size_t n = evbuffer_get_length(input);
    std::string chunk(n, '\0');
    evbuffer_remove(input, chunk.data(), n);
    c.request += chunk;
    if (c.answered || c.server->answer_.empty() || c.request.find("\r\n\r\n") == std::string::npos)
      return;
    c.answered = true;
    // Closed once the answer is written out.
    bufferevent_setcb(bev, on_read, on_written, on_event, &c);
    bufferevent_write(bev, c.server->answer_.data(), c.server->answer_.size());
  }
  static void on_written(bufferevent*, void* arg) { close(*static_cast<Connection*>(arg)); }
  static void on_event(bufferevent*, short what, void* arg) {
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) close(*static_cast<Connection*>(arg));
  }
  static void close(Connection& c) {
    if (!c.bev) return;
    bufferevent_free(c.bev);
    c.bev = nullptr;
  }

  std::string answer_;
  LocalSocket socket_{true};  // listening; outlives the listener that accepts on it
  evconnlistener* listener_ = nullptr;
  std::vector<Connection> connections_;
};

std::string answer(int code, const std::string& body = "ok\n") {
  return "HTTP/1.1 " + std::to_string(code) +
         " Whatever\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// One poll of a probe, waited for with a deadline.
struct Poll {
  std::optional<ProbeResult> result;
  bool called_inside_run = false;
  Clock::time_point started;
  Duration took{};

  void start(Probe& probe, Duration timeout) {
    started = Clock::now();
    probe.run(timeout, [this](ProbeResult r) {
      took = std::chrono::duration_cast<Duration>(Clock::now() - started);
      result = std::move(r);
    });
    called_inside_run = result.has_value();
  }
};

class ProbeTest : public ::testing::Test {
 protected:
  ProbeTest() {
    ::prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper_);
    program_.name = "app";
    program_.command = {"/bin/true"};
  }
  ~ProbeTest() override {
    // The Reaper made this process a subreaper; the other tests in the binary expect none.
    if (!was_subreaper_) ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  std::unique_ptr<Probe> make(const ProbeConfig& config) {
    return make_probe(config, program_, "app", loop_, host_);
  }

  // Runs one poll of `probe` and waits for its result (up to `limit`).
  ProbeResult poll(Probe& probe, Duration timeout = 2s, Duration limit = 10s) {
    Poll p;
    p.start(probe, timeout);
    EXPECT_FALSE(p.called_inside_run) << "done was called from inside run()";
    EXPECT_TRUE(pump_until(
        loop_, [&] { return p.result.has_value(); }, limit))
        << "no result";
    return p.result.value_or(ProbeResult{false, "no result"});
  }
  ProbeResult poll(const ProbeConfig& config, Duration timeout = 2s) {
    auto probe = make(config);
    return poll(*probe, timeout);
  }

  // The pid a command of the form `echo $$ > FILE; exec ...` wrote, once it did.
  std::optional<pid_t> read_pid(const std::string& path) {
    std::optional<pid_t> pid;
    pump_until(
        loop_,
        [&] {
          std::string text = testing::read_file(path);
          if (text.empty() || text.back() != '\n') return false;
          pid = std::stoi(text);
          return true;
        },
        10s);
    return pid;
  }

  // Starts `p` on an exec probe whose shell writes its pid to a file, then sleeps: the probe,
  // and the pid once written.
  std::pair<std::unique_ptr<Probe>, std::optional<pid_t>> start_sleeper(Poll& p, Duration timeout) {
    std::string pid_file = dir_ / "pid";
    auto probe = make(exec({"sh", "-c", "echo $$ > " + pid_file + "; exec sleep 100"}));
    p.start(*probe, timeout);
    return {std::move(probe), read_pid(pid_file)};
  }

  bool gone(pid_t pid) {  // reaped: not even a zombie is left
    return ::kill(pid, 0) != 0 && errno == ESRCH;
  }

  int was_subreaper_ = 0;
  EventLoop loop_;
  Reaper reaper_{loop_};
  SystemProcessHost host_{loop_, reaper_};
  ProgramConfig program_;
  testing::TempDir dir_;
};

// ---- addresses and URLs ----

TEST(ProbeAddress, ReadsIPv4IPv6AndLocalhost) {
  std::string error;
  auto v4 = parse_probe_address("127.0.0.1:5432", std::nullopt, error);
  ASSERT_TRUE(v4) << error;
  EXPECT_EQ(v4->text, "127.0.0.1:5432");
  EXPECT_EQ(v4->storage.ss_family, AF_INET);
  auto v6 = parse_probe_address("[::1]:80", std::nullopt, error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->text, "[::1]:80");
  EXPECT_EQ(v6->storage.ss_family, AF_INET6);
  auto local = parse_probe_address("localhost:6379", std::nullopt, error);
  ASSERT_TRUE(local) << error;
  EXPECT_EQ(local->text, "127.0.0.1:6379");
  auto defaulted = parse_probe_address("10.0.0.1", 80, error);
  ASSERT_TRUE(defaulted) << error;
  EXPECT_EQ(defaulted->text, "10.0.0.1:80");
}

TEST(ProbeAddress, RefusesNamesMissingPortsAndBadPortsWithTheFix) {
  std::string error;
  EXPECT_FALSE(parse_probe_address("db:5432", std::nullopt, error));
  EXPECT_NE(error.find("\"db\" is not an IPv4 address or localhost"), std::string::npos) << error;
  EXPECT_NE(error.find("names are not looked up"), std::string::npos) << error;
  EXPECT_FALSE(parse_probe_address("127.0.0.1", std::nullopt, error));
  EXPECT_NE(error.find("has no port"), std::string::npos) << error;
  for (const char* bad :
       {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:x", "[::1]:"}) {
    EXPECT_FALSE(parse_probe_address(bad, std::nullopt, error)) << bad;
    EXPECT_NE(error.find("from 1 to 65535"), std::string::npos) << bad << ": " << error;
  }
  EXPECT_FALSE(parse_probe_address("::1:80", std::nullopt, error));
  EXPECT_NE(error.find("in brackets"), std::string::npos) << error;
  EXPECT_FALSE(parse_probe_address("[::1:80", std::nullopt, error));
  EXPECT_NE(error.find("no closing ']'"), std::string::npos) << error;
  EXPECT_FALSE(parse_probe_address("[127.0.0.1]:80", std::nullopt, error));
  EXPECT_NE(error.find("not an IPv6 address"), std::string::npos) << error;
  EXPECT_FALSE(parse_probe_address(":80", std::nullopt, error));
  EXPECT_NE(error.find("has no host"), std::string::npos) << error;
  EXPECT_FALSE(parse_probe_address("", std::nullopt, error));
}

TEST(HttpTarget, ReadsHostPortPathAndQuery) {
  std::string error;
  auto t = parse_http_target("http://127.0.0.1:8080/healthz?full=1#top", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->address.text, "127.0.0.1:8080");
  EXPECT_EQ(t->host, "127.0.0.1:8080");
  EXPECT_EQ(t->path, "/healthz?full=1");
  t = parse_http_target("HTTP://localhost", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->address.text, "127.0.0.1:80");
  EXPECT_EQ(t->host, "localhost");
  EXPECT_EQ(t->path, "/");
  t = parse_http_target("http://[::1]:9000?x", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->address.text, "[::1]:9000");
  EXPECT_EQ(t->path, "/?x");
}

TEST(HttpTarget, RefusesWhatItCannotProbeWithTheFix) {
  std::string error;
  EXPECT_FALSE(parse_http_target("https://127.0.0.1/", error));
  EXPECT_NE(error.find("https is not supported"), std::string::npos) << error;
  EXPECT_FALSE(parse_http_target("127.0.0.1:8080/healthz", error));
  EXPECT_NE(error.find("is not an http:// URL"), std::string::npos) << error;
  EXPECT_FALSE(parse_http_target("http://web.internal/healthz", error));
  EXPECT_NE(error.find("not an IPv4 address or localhost"), std::string::npos) << error;
  EXPECT_FALSE(parse_http_target("http://user:pw@127.0.0.1/", error));
  EXPECT_NE(error.find("user or password"), std::string::npos) << error;
  EXPECT_FALSE(parse_http_target("http://127.0.0.1/a b", error));
  EXPECT_NE(error.find("percent-encode"), std::string::npos) << error;
  EXPECT_FALSE(parse_http_target("http://127.0.0.1/a\r\nX: y", error));
}

// ---- make_probe ----

TEST_F(ProbeTest, NotifyAndFdAreNotPolled) {
  ProbeConfig notify;
  notify.kind = ProbeConfig::Kind::notify;
  EXPECT_EQ(make(notify), nullptr);
  ProbeConfig fd;
  fd.kind = ProbeConfig::Kind::fd;
  fd.fd = 3;
  EXPECT_EQ(make(fd), nullptr);
}

TEST_F(ProbeTest, AnUnusableTargetFailsEachPollWithWhyAndTheFix) {
  ProbeResult r = poll(tcp("db:5432"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("tcp probe \"db:5432\": \"db\" is not an IPv4 address"),
            std::string::npos)
      << r.message;
  r = poll(http("https://127.0.0.1/"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("http probe \"https://127.0.0.1/\": https is not supported"),
            std::string::npos)
      << r.message;
  r = poll(file("run/ready"));
  EXPECT_EQ(r.message, "file probe \"run/ready\": not an absolute path: write \"/run/app/ready\"");
  r = poll(exec({}));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("the command is empty"), std::string::npos) << r.message;
}

// ---- tcp ----

TEST_F(ProbeTest, TcpPassesWhenSomethingListens) {
  LocalSocket listening(true);
  ASSERT_NE(listening.port(), 0);
  ProbeResult r = poll(tcp(listening.target()));
  EXPECT_TRUE(r.ok) << r.message;
  r = poll(tcp("localhost:" + std::to_string(listening.port())));
  EXPECT_TRUE(r.ok) << r.message;
}

// Sockets of this host's IPv4 TCP table connected to 127.0.0.1:`port` from elsewhere: a probe's
// own end, which a FIN close would keep for a minute in FIN_WAIT2 or TIME_WAIT.
int client_sockets_to(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  char remote[32];
  std::snprintf(remote, sizeof remote, "0100007F:%04X", port);
  int count = 0;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, peer;
    fields >> slot >> local >> peer;
    if (peer == remote) ++count;
  }
  return count;
}

TEST_F(ProbeTest, TcpPollsLeaveNoClosingSocketBehind) {
  LocalSocket listening(true);
  ASSERT_NE(listening.port(), 0);
  auto probe = make(tcp(listening.target()));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(poll(*probe).ok) << i;
  EXPECT_EQ(client_sockets_to(listening.port()), 0)
      << "each poll's socket is reset on close, not left closing for a minute";
}

TEST_F(ProbeTest, TcpFailsWithTheConnectError) {
  LocalSocket bound_only(false);  // bound, not listening: the kernel refuses connections
  ASSERT_NE(bound_only.port(), 0);
  ProbeResult r = poll(tcp(bound_only.target()));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "connect " + bound_only.target() + ": Connection refused");
}

TEST_F(ProbeTest, TcpOverIPv6) {
  Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  socklen_t length = sizeof addr;
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), length) != 0 ||
      ::listen(s.get(), 4) != 0) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &length);
  ProbeResult r = poll(tcp("[::1]:" + std::to_string(ntohs(addr.sin6_port))));
  EXPECT_TRUE(r.ok) << r.message;
}

TEST_F(ProbeTest, TcpTimesOutWhenTheConnectHangs) {
  // A full accept queue: the kernel drops further SYNs, so a connect neither succeeds nor fails.
  LocalSocket listening(true, 0);
  ASSERT_NE(listening.port(), 0);
  std::vector<Fd> fillers;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(listening.port()));
  bool hangs = false;
  for (int i = 0; i < 8 && !hangs; ++i) {
    Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int rc = ::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{c.get(), POLLOUT, 0};
      hangs = ::poll(&p, 1, 200) == 0;  // still not connected: the queue is full
    }
    fillers.push_back(std::move(c));
  }
  if (!hangs) GTEST_SKIP() << "this kernel does not drop SYNs on a full accept queue";
  auto before = Clock::now();
  ProbeResult r = poll(tcp(listening.target()), 200ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "timed out after 200ms");
  EXPECT_LT(Clock::now() - before, 5s);
}

// ---- http ----

TEST_F(ProbeTest, HttpPassesOn2xxAndSendsAPlainGet) {
  TestHttpServer server(loop_, answer(204, ""));
  ASSERT_TRUE(server.ok());
  ProbeResult r = poll(http(server.url("/healthz?full=1")));
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.message, "HTTP 204");
  std::string request = server.request();
  EXPECT_TRUE(request.starts_with("GET /healthz?full=1 HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("\r\nHost: 127.0.0.1:"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos) << request;
}

TEST_F(ProbeTest, HttpFailsOnAnythingElse) {
  for (int code : {503, 404, 301, 199}) {
    TestHttpServer server(loop_, answer(code));
    ASSERT_TRUE(server.ok());
    ProbeResult r = poll(http(server.url("/")));
    EXPECT_FALSE(r.ok) << code;
    EXPECT_EQ(r.message, "HTTP " + std::to_string(code));
  }
}

TEST_F(ProbeTest, HttpReadsOnlyTheStatusLineOfAHugeAnswer) {
  TestHttpServer server(loop_, answer(200, std::string(4 << 20, 'x')));
  ASSERT_TRUE(server.ok());
  auto probe = make(http(server.url("/")));
  for (int i = 0; i < 3; ++i) {  // and again: the probe is reusable
    ProbeResult r = poll(*probe);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST_F(ProbeTest, HttpTimesOutWhenNoAnswerComes) {
  TestHttpServer server(loop_, "");
  ASSERT_TRUE(server.ok());
  auto before = Clock::now();
  ProbeResult r = poll(http(server.url("/")), 200ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "timed out after 200ms");
  EXPECT_LT(Clock::now() - before, 5s);
  EXPECT_TRUE(server.request().starts_with("GET / HTTP/1.1")) << server.request();
}

TEST_F(ProbeTest, HttpFailsOnGarbageOrAnEarlyClose) {
  TestHttpServer garbage(loop_, "SSH-2.0-OpenSSH\r\n");
  ProbeResult r = poll(http(garbage.url("/")));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "HTTP: not an HTTP status line: \"SSH-2.0-OpenSSH\"");
  TestHttpServer endless(loop_, std::string(20000, 'A'));
  r = poll(http(endless.url("/")));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "HTTP: no status line in the first 8 KiB of the answer");
  TestHttpServer half(loop_, "HTTP/1.1 200");  // closed before the line ends
  r = poll(http(half.url("/")));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("the connection closed before an answer"), std::string::npos)
      << r.message;
}

// Every poll of a hundred health checks a second: each leaves no fd and no event behind.
TEST_F(ProbeTest, HttpPollsLeaveNoFdBehind) {
  TestHttpServer server(loop_, answer(200));
  ASSERT_TRUE(server.ok());
  auto probe = make(http(server.url("/")));
  auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  EXPECT_TRUE(poll(*probe).ok);
  auto before = open_fds();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(poll(*probe).ok) << i;
  EXPECT_EQ(open_fds(), before);
}

TEST_F(ProbeTest, HttpTakesAStatusLineEndedByALoneLineFeed) {
  TestHttpServer server(loop_, "HTTP/1.0 200 OK\n\nok");
  ASSERT_TRUE(server.ok());
  ProbeResult r = poll(http(server.url("/")));
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.message, "HTTP 200");
}

TEST_F(ProbeTest, HttpFailsWithTheConnectError) {
  LocalSocket bound_only(false);
  ProbeResult r = poll(http("http://" + bound_only.target() + "/"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "connect " + bound_only.target() + ": Connection refused");
}

// ---- exec ----

TEST_F(ProbeTest, ExecPassesOnExitZeroAndSaysTheExitCodeOtherwise) {
  EXPECT_TRUE(poll(exec({"true"})).ok);
  ProbeResult r = poll(exec({"false"}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "exit code 1");
  r = poll(exec({"sh", "-c", "kill -TERM $$"}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "killed by SIGTERM");
}

TEST_F(ProbeTest, ExecRunsInTheProgramsDirectoryWithItsEnvironment) {
  program_.directory = dir_.path().string();
  program_.environment["PROBE_SAYS"] = "hello";
  std::string check = "test \"$(pwd -P)\" = \"$(cd " + dir_.path().string() +
                      " && pwd -P)\" && test \"$PROBE_SAYS\" = hello && test \"$GARDIEN_PROGRAM\" "
                      "= app && test ! -t 1";
  ProbeResult r = poll(exec({"sh", "-c", check}));
  EXPECT_TRUE(r.ok) << r.message;
}

TEST_F(ProbeTest, ExecOfAMissingCommandSaysSo) {
  ProbeResult r = poll(exec({"no-such-probe-command-here"}));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("no-such-probe-command-here"), std::string::npos) << r.message;
}

TEST_F(ProbeTest, AHungExecIsKilledAndReapedAtItsTimeout) {
  Poll p;
  auto [probe, pid] = start_sleeper(p, 300ms);
  ASSERT_TRUE(pid);
  ASSERT_TRUE(pump_until(
      loop_, [&] { return p.result.has_value(); }, 10s));
  EXPECT_FALSE(p.result->ok);
  EXPECT_EQ(p.result->message, "timed out after 300ms");
  EXPECT_LT(p.took, 3s);
  EXPECT_TRUE(gone(*pid)) << "the result comes once the process is reaped";
}

TEST_F(ProbeTest, AHungExecDelaysNoOtherProbe) {
  auto hung = make(exec({"sleep", "100"}));
  auto quick = make(exec({"true"}));
  Poll slow_poll;
  Poll quick_poll;
  slow_poll.start(*hung, 2s);
  quick_poll.start(*quick, 2s);
  ASSERT_TRUE(pump_until(
      loop_, [&] { return quick_poll.result.has_value(); }, 10s));
  EXPECT_TRUE(quick_poll.result->ok) << quick_poll.result->message;
  EXPECT_FALSE(slow_poll.result.has_value()) << "the quick one came only after the hung one";
  ASSERT_TRUE(pump_until(
      loop_, [&] { return slow_poll.result.has_value(); }, 10s));
  EXPECT_EQ(slow_poll.result->message, "timed out after 2s");
}

TEST_F(ProbeTest, DestroyingAnExecProbeKillsItsProcessWhichIsStillReaped) {
  Poll p;
  auto [probe, pid] = start_sleeper(p, 10s);
  ASSERT_TRUE(pid);
  probe.reset();
  EXPECT_TRUE(pump_until(
      loop_, [&] { return gone(*pid); }, 10s))
      << "killed and reaped";
  EXPECT_FALSE(p.result.has_value()) << "done is not called for a cancelled poll";
}

TEST_F(ProbeTest, OnePollAtATime) {
  auto probe = make(exec({"sleep", "100"}));
  Poll first;
  Poll second;
  first.start(*probe, 300ms);
  second.start(*probe, 300ms);  // a no-op
  ASSERT_TRUE(pump_until(
      loop_, [&] { return first.result.has_value(); }, 10s));
  EXPECT_FALSE(second.result.has_value());
  Poll third;  // after the result, the next poll runs
  third.start(*probe, 100ms);
  EXPECT_TRUE(pump_until(
      loop_, [&] { return third.result.has_value(); }, 10s));
}

// A host whose process never dies: the kill is sent, the reaping never comes.
class UndyingHost final : public ProcessHost {
 public:
  TimePoint now() override { return Clock::now(); }
  std::unique_ptr<HostTimer> make_timer(std::function<void()>) override { return nullptr; }
  std::optional<SpawnedProcess> spawn(const SpawnPlan& plan, std::string&) override {
    plans.push_back(plan);
    SpawnedProcess child;
    child.pid = 4242;
    return child;
  }
  int kill(pid_t target, int signo) override {
    signals.emplace_back(target, signo);
    return 0;
  }
  bool has_exited(pid_t) override { return false; }
  void watch(pid_t pid, std::function<void(int)>) override { watched.push_back(pid); }
  void forget(pid_t pid) override { forgotten.push_back(pid); }

  std::vector<SpawnPlan> plans;
  std::vector<std::pair<pid_t, int>> signals;
  std::vector<pid_t> watched;
  std::vector<pid_t> forgotten;
};

TEST_F(ProbeTest, AnExecProcessThatSurvivesSigkillIsForgottenAndThePollEnds) {
  UndyingHost host;
  auto probe = make_probe(exec({"true"}), program_, "app", loop_, host);
  Poll p;
  p.start(*probe, 50ms);
  ASSERT_TRUE(pump_until(
      loop_, [&] { return p.result.has_value(); }, 10s));
  EXPECT_EQ(p.result->message, "timed out after 50ms; process 4242 did not die after SIGKILL");
  std::vector<std::pair<pid_t, int>> kills = {{-4242, SIGKILL}, {4242, SIGKILL}};
  EXPECT_EQ(host.signals, kills);
  EXPECT_EQ(host.watched, std::vector<pid_t>{4242});
  EXPECT_EQ(host.forgotten, std::vector<pid_t>{4242});
  ASSERT_EQ(host.plans.size(), 1u);
  EXPECT_EQ(host.plans[0].parent_death_signal, SIGKILL);
  EXPECT_TRUE(host.plans[0].new_session);
  EXPECT_GE(host.plans[0].stdout_fd, 0);  // /dev/null
  EXPECT_EQ(host.plans[0].stdout_fd, host.plans[0].stderr_fd);
}

TEST_F(ProbeTest, DestroyingAnExecProbeInFlightKillsAndForgets) {
  UndyingHost host;
  auto probe = make_probe(exec({"true"}), program_, "app", loop_, host);
  Poll p;
  p.start(*probe, 10s);
  probe.reset();
  std::vector<std::pair<pid_t, int>> kills = {{-4242, SIGKILL}, {4242, SIGKILL}};
  EXPECT_EQ(host.signals, kills);
  EXPECT_EQ(host.forgotten, std::vector<pid_t>{4242});
}

// ---- file ----

TEST_F(ProbeTest, FilePassesOnceThePathExists) {
  std::string path = dir_ / "ready";
  auto probe = make(file(path));
  ProbeResult r = poll(*probe);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, path + " does not exist");
  { std::ofstream(path).put('\n'); }
  r = poll(*probe);
  EXPECT_TRUE(r.ok) << r.message;
  r = poll(file(dir_ / "ready/below-a-file"));
  EXPECT_EQ(r.message, dir_ / "ready/below-a-file" + " does not exist");
}

TEST_F(ProbeTest, DestroyingAProbeWithAResultPendingNeverCallsDone) {
  auto probe = make(file("/"));
  Poll p;
  p.start(*probe, 1s);
  probe.reset();
  Poll other;  // a later turn of the loop, past where the result would have come
  auto second = make(file("/"));
  other.start(*second, 1s);
  ASSERT_TRUE(pump_until(
      loop_, [&] { return other.result.has_value(); }, 10s));
  EXPECT_FALSE(p.result.has_value());
}

}  // namespace
}  // namespace gardien
