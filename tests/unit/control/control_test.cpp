// The control server on a real Unix socket in a temp dir, its loop run by the test, a fake
// supervisor behind it. Hostile and broken clients first, then: does it still answer?
#include "supervisord/control/control.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/socket_path.h"
#include "control/fake_control_target.h"
#include "ctl/client.h"
#include "loop/pump_until.h"
#include "supervisord/loop/log.h"

using namespace gardien;
using namespace std::chrono_literals;
using gardien::testing::FakeControlTarget;
using nlohmann::json;
using protocol::ErrorCode;

namespace {

constexpr uid_t kNobody = 65534;

std::string make_temp_dir() {
  char tmpl[] = "/tmp/gardien-control-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (!dir) throw std::runtime_error("mkdtemp failed");
  return dir;
}

std::string request_line(std::int64_t id, const std::string& cmd, json args = json::object()) {
  return protocol::encode_request({id, cmd, std::move(args)});
}

// The fds this process has open (not counting the one used to list them).
std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return fds;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd != ::dirfd(dir)) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

bool close_on_exec(int fd) {
  return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

// A raw, non-blocking client the test drives between loop turns.
class TestClient {
 public:
  explicit TestClient(const std::string& path) {
    sockaddr_un addr{};
    socklen_t len = 0;
    make_socket_address(path, addr, len);
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0;
    ::fcntl(fd_.get(), F_SETFL, O_NONBLOCK);
  }
  bool connected() const { return connected_; }

  std::size_t send_some(std::string_view data) {
    ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  void read_available() {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        buffer_.append(std::string_view(buf, static_cast<std::size_t>(n)));
        received_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof_ = true;
      return;
    }
  }
  std::optional<std::string> next_line() { return buffer_.next_line(); }
  bool eof() const { return eof_; }
  std::size_t received() const { return received_; }
  void close() { fd_.reset(); }
  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
  bool connected_ = false;
  protocol::LineBuffer buffer_{protocol::kMaxResponseBytes};
  bool eof_ = false;
  std::size_t received_ = 0;
};

// Streams lines from a timer until told to stop, or forever; the "stream" of the tests.
class Flood final : public PendingCall {
 public:
  Flood(EventLoop& loop, Responder& responder, std::size_t line_bytes, int lines, bool& alive,
        int& count)
      : responder_(responder),
        chunk_(line_bytes, 'x'),
        lines_left_(lines),
        alive_(alive),
        timer_(loop, [this] { tick(); }) {
    alive_ = true;
    ++count;
    timer_.arm(0ms);
  }
  ~Flood() override { alive_ = false; }

 private:
  void tick() {
    for (int i = 0; i < 4; ++i) {
      if (lines_left_ == 0) return responder_.reply("done");
      if (lines_left_ > 0) --lines_left_;
      if (!responder_.progress(chunk_)) return;  // the client was dropped: stop producing
    }
    timer_.arm(lines_left_ < 0 ? 0ms : 1ms);
  }
  Responder& responder_;
  std::string chunk_;
  int lines_left_;  // < 0: forever
  bool& alive_;
  Timer timer_;
};

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    path_ = dir_ + "/ctl.sock";
    target_.add("db", 1);
    target_.add("web", 2);
    commands_.add({"flood", true, "flood: stream lines",
                   [this](const protocol::Request& request, Responder& r) {
                     int lines = request.args.value("lines", -1);
                     std::size_t bytes = request.args.value("bytes", 16384);
                     r.keep(std::make_unique<Flood>(loop_, r, bytes, lines, flood_alive_, floods_));
                   }});
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ControlOptions options() {
    ControlOptions o;
    o.path = path_;
    return o;
  }
  void start(const ControlOptions& o) {
    server_ = std::make_unique<ControlServer>(loop_, o, commands_);
  }
  void start() { start(options()); }

  bool pump_until(const std::function<bool()>& done, Duration limit = 5s) {
    return gardien::testing::pump_until(loop_, done, limit);
  }
  // Runs the loop for a while: only to show that something does *not* happen meanwhile.
  void pump_for(Duration d) {
    pump_until([] { return false; }, d);
  }

  void send(TestClient& c, std::string_view data) {
    std::size_t done = 0;
    ASSERT_TRUE(pump_until([&] {
      done += c.send_some(data.substr(done));
      return done == data.size();
    }));
  }
  std::optional<std::string> read_line(TestClient& c, Duration limit = 5s) {
    std::optional<std::string> line;
    pump_until(
        [&] {
          c.read_available();
          line = c.next_line();
          return line.has_value() || c.eof();
        },
        limit);
    return line;
  }
  protocol::Response read_response(TestClient& c) {
    auto line = read_line(c);
    if (!line) {
      ADD_FAILURE() << "no response line";
      return {};
    }
    auto parsed = protocol::parse_response(*line);
    if (auto* e = std::get_if<std::string>(&parsed)) {
      ADD_FAILURE() << *e << ": " << *line;
      return {};
    }
    return std::get<protocol::Response>(parsed);
  }
  bool wait_eof(TestClient& c, Duration limit = 5s) {
    return pump_until(
        [&] {
          c.read_available();
          while (c.next_line()) {
          }
          return c.eof();
        },
        limit);
  }
  // One request on a fresh connection; its final answer.
  protocol::Response ask(const std::string& cmd, json args = json::object()) {
    TestClient c(path_);
    EXPECT_TRUE(c.connected());
    send(c, request_line(1, cmd, std::move(args)));
    protocol::Response r;
    do {
      r = read_response(c);
    } while (r.ok && r.more);
    return r;
  }
  // A fresh client is answered, and its connection goes away when it does.
  void expect_still_answers() {
    std::size_t clients = server_->client_count();
    protocol::Response r = ask("version");
    EXPECT_TRUE(r.ok) << r.error_message;
    EXPECT_EQ(r.result.value("protocol", 0), 1);
    EXPECT_TRUE(pump_until([&] { return server_->client_count() <= clients; }));
  }

  // Forks a child that takes `uid`/`gid`/`groups` and runs `body`; its exit code (-1: killed).
  int run_as(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 ||
          ::setuid(uid) != 0)
        _exit(99);
      _exit(body());
    }
    int status = 0;
    bool exited = pump_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 15s);
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // In a child: one request on `client`, the code of its answer ("ok" when it succeeded).
  static std::string exchange(ctl::Client& client, const std::string& cmd,
                              json args = json::object()) {
    std::string error, line;
    if (!client.send(request_line(1, cmd, std::move(args)), error)) return "send failed";
    for (;;) {
      auto read = client.read_line(line, std::chrono::steady_clock::now() + 5s, error);
      if (read != ctl::Client::Read::line) return "no answer";
      auto parsed = protocol::parse_response(line);
      if (!std::holds_alternative<protocol::Response>(parsed)) return "bad answer";
      auto& r = std::get<protocol::Response>(parsed);
      if (r.more) continue;
      if (r.ok) return "ok";
      std::fprintf(stderr, "child got: %s\n", line.c_str());
      return r.error_code + ": " + r.error_message;
    }
  }

  EventLoop loop_;
  FakeControlTarget target_{&loop_};
  Commands commands_{loop_, &target_};
  std::unique_ptr<ControlServer> server_;
  std::string dir_;
  std::string path_;
  bool flood_alive_ = false;
  int floods_ = 0;
};

}  // namespace

TEST_F(ControlTest, AnswersVersionAndPid) {
  start();
  protocol::Response r = ask("version");
  ASSERT_TRUE(r.ok) << r.error_message;
  EXPECT_EQ(r.id, 1);
  EXPECT_EQ(r.result, json({{"daemon", GARDIEN_VERSION}, {"protocol", 1}}));
  r = ask("pid");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result.at("pid"), ::getpid());
  r = ask("status", {{"names", {"web"}}});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result.at("instances").size(), 2u);
}

TEST_F(ControlTest, SocketIs0600AndRemovedOnExit) {
  start();
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlTest, ModeAndGroupAreApplied) {
  ControlOptions o = options();
  o.mode = 0660;
  o.group = ::getegid();  // a group we may always give our files to
  start(o);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST_F(ControlTest, AStaleSocketIsReplaced) {
  {
    sockaddr_un addr{};
    socklen_t len = 0;
    make_socket_address(path_, addr, len);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  }  // closed without unlink: what a crashed daemon leaves
  ASSERT_TRUE(std::filesystem::exists(path_));
  start();
  expect_still_answers();
}

TEST_F(ControlTest, ALiveDaemonIsNotReplaced) {
  start();
  EventLoop other_loop;
  Commands other_commands(other_loop);
  try {
    ControlServer second(other_loop, options(), other_commands);
    FAIL() << "a second server started on a live socket";
  } catch (const ControlError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("another daemon is already listening on " + path_), std::string::npos)
        << what;
    EXPECT_NE(what.find("(pid " + std::to_string(::getpid()) + ")"), std::string::npos) << what;
  }
  expect_still_answers();
}

TEST_F(ControlTest, SomethingElseAtThePathIsNotDeleted) {
  std::ofstream(path_) << "precious";
  try {
    start();
    FAIL() << "started over a regular file";
  } catch (const ControlError& e) {
    EXPECT_NE(std::string(e.what()).find("exists and is not a socket"), std::string::npos)
        << e.what();
  }
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlTest, BadPathsAreClearErrors) {
  ControlOptions o = options();
  o.path = dir_ + "/" + std::string(120, 'x');
  EXPECT_THROW(
      {
        try {
          start(o);
        } catch (const ControlError& e) {
          EXPECT_NE(std::string(e.what()).find("too long"), std::string::npos) << e.what();
          throw;
        }
      },
      ControlError);
  o.path = dir_ + "/missing/ctl.sock";
  EXPECT_THROW(
      {
        try {
          start(o);
        } catch (const ControlError& e) {
          EXPECT_NE(std::string(e.what()).find("its directory does not exist"), std::string::npos)
              << e.what();
          throw;
        }
      },
      ControlError);
}

TEST_F(ControlTest, ASocketInADirectoryOthersCanWriteIsRefused) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  try {
    start();
    FAIL() << "started in a world-writable directory";
  } catch (const ControlError& e) {
    EXPECT_NE(std::string(e.what()).find("lets others replace the socket"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);  // sticky, like /tmp: our own path is fine
  start();
  expect_still_answers();
}

TEST_F(ControlTest, ADeletedSocketFileIsRecreated) {
  start();
  TestClient before(path_);  // connections made before keep working
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  ASSERT_TRUE(pump_until([&] { return std::filesystem::exists(path_); }));
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  expect_still_answers();
  send(before, request_line(5, "version"));
  EXPECT_EQ(read_response(before).id, 5);
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// gardienctl checks who serves the socket before it trusts an answer.
TEST_F(ControlTest, TheClientRefusesAServerRunByAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a server as another user";
  ASSERT_EQ(::chown(dir_.c_str(), kNobody, kNobody), 0);
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  pid_t squatter = ::fork();
  if (squatter == 0) {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) _exit(99);
    sockaddr_un addr{};
    socklen_t len = 0;
    make_socket_address(path_, addr, len);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4) != 0) _exit(98);
    ::chmod(path_.c_str(), 0666);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    _exit(0);
  }
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  std::string error;
  auto client = ctl::Client::connect(path_, error);
  ::kill(squatter, SIGKILL);
  ::waitpid(squatter, nullptr, 0);
  EXPECT_FALSE(client);
  EXPECT_NE(error.find("it runs as uid 65534"), std::string::npos) << error;
  EXPECT_NE(error.find("neither root nor you"), std::string::npos) << error;
}

TEST_F(ControlTest, MalformedRequestsAreAnsweredAndTheConnectionStaysUsable) {
  start();
  TestClient c(path_);
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"hello", "bad_request"},
      {"{}", "bad_request"},
      {"[1,2,3]", "bad_request"},
      {R"({"v":1})", "bad_request"},
      {R"({"v":9,"id":3,"cmd":"status"})", "unsupported_version"},
      {std::string("{\"v\":1,\"id\":4,\"cmd\":\"\xff\"}"), "bad_request"},
      {std::string("\0\x01\x02\x7f", 4), "bad_request"},
      {R"({"v":1,"id":5,"cmd":"frobnicate"})", "unknown_command"},
      {R"({"v":1,"id":6,"cmd":"stop","args":{"names":["nope"]}})", "unknown_program"},
      {R"({"v":1,"id":7,"cmd":"stop"})", "bad_request"},
  };
  for (const auto& [line, code] : garbage) {
    SCOPED_TRACE(line);
    send(c, line + "\n");
    protocol::Response r = read_response(c);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, code) << r.error_message;
  }
  send(c, request_line(8, "version"));
  protocol::Response r = read_response(c);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.id, 8);
  EXPECT_TRUE(target_.calls.empty());
}

TEST_F(ControlTest, ALineOver64KiBEndsTheConnection) {
  start();
  for (bool with_newline : {false, true}) {
    TestClient c(path_);
    std::string huge(protocol::kMaxLineBytes + 10, 'a');
    if (with_newline) huge += '\n';
    send(c, huge);
    protocol::Response r = read_response(c);
    EXPECT_TRUE(r.is(ErrorCode::line_too_long)) << r.error_code;
    EXPECT_TRUE(wait_eof(c));
  }
  {  // a request of exactly the limit is fine
    TestClient c(path_);
    std::string prefix = R"({"v":1,"id":2,"cmd":"version")";
    send(c, prefix + std::string(protocol::kMaxLineBytes - prefix.size() - 1, ' ') + "}\n");
    EXPECT_TRUE(read_response(c).ok);
  }
  expect_still_answers();
}

TEST_F(ControlTest, HalfLinesAndAbruptDisconnectsLeaveNothingBehind) {
  start();
  std::vector<int> before = open_fds();
  for (int i = 0; i < 40; ++i) {
    TestClient c(path_);
    switch (i % 4) {
      case 0:
        break;  // connect, vanish
      case 1:
        c.send_some(R"({"v":1,"id":1,"cmd":"sta)");
        break;  // half a line
      case 2:
        c.send_some(request_line(1, "status"));
        break;  // a request, gone before the answer
      case 3:
        c.send_some(request_line(1, "wait", {{"names", {"web"}}, {"for", "fatal"}}));
        break;  // mid-wait
    }
    if (i % 8 == 3) pump_until([&] { return target_.state_changes().listener_count() == 1; });
    c.close();
  }
  ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
  pump_until([&] { return open_fds() == before; });
  EXPECT_EQ(open_fds(), before);
  EXPECT_EQ(target_.state_changes().listener_count(), 0u);
  expect_still_answers();
}

TEST_F(ControlTest, AHalfClosedClientStillGetsItsAnswers) {
  start();
  TestClient c(path_);
  send(c, request_line(1, "version") + request_line(2, "pid"));
  c.shutdown_write();  // like `socat` or `nc -N` after the request
  EXPECT_EQ(read_response(c).id, 1);
  EXPECT_EQ(read_response(c).id, 2);
  EXPECT_TRUE(wait_eof(c));
}

TEST_F(ControlTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  TestClient c(path_);
  send(c, request_line(1, "stop", {{"names", {"db"}}}) + request_line(2, "version") +
              request_line(3, "pid"));
  // stop streams db's line, then its final answer; the others wait their turn.
  protocol::Response r = read_response(c);
  EXPECT_EQ(r.id, 1);
  EXPECT_TRUE(r.more);
  r = read_response(c);
  EXPECT_EQ(r.id, 1);
  EXPECT_TRUE(r.ok && !r.more);
  EXPECT_EQ(read_response(c).id, 2);
  EXPECT_EQ(read_response(c).id, 3);
}

// Clients pipelining thousands of requests are served one request per loop turn: a status from
// another client is answered while they are at it, after a few of theirs, not thousands.
TEST_F(ControlTest, PipeliningClientsDoNotHoldTheLoop) {
  start();
  constexpr int kFlooders = 20;
  constexpr int kRequests = 2000;
  std::string batch;
  for (int i = 1; i <= kRequests; ++i) batch += request_line(i, "status");
  std::vector<std::unique_ptr<TestClient>> flooders;
  std::vector<int> answers(kFlooders, 0);
  auto read_flooders = [&] {
    for (int k = 0; k < kFlooders; ++k) {
      flooders[k]->read_available();
      while (flooders[k]->next_line()) ++answers[k];
    }
  };
  for (int k = 0; k < kFlooders; ++k) flooders.push_back(std::make_unique<TestClient>(path_));
  std::vector<std::size_t> sent(kFlooders, 0);
  ASSERT_TRUE(pump_until(
      [&] {
        read_flooders();
        bool all = true;
        for (int k = 0; k < kFlooders; ++k) {
          sent[k] += flooders[k]->send_some(std::string_view(batch).substr(sent[k]));
          all = all && sent[k] == batch.size();
        }
        return all;
      },
      20s));

  TestClient probe(path_);
  std::size_t before = target_.instances_calls;
  send(probe, request_line(7, "status"));
  std::optional<std::string> line;
  ASSERT_TRUE(pump_until(
      [&] {
        read_flooders();
        probe.read_available();
        line = probe.next_line();
        return line.has_value();
      },
      20s));
  std::size_t flood_answered_meanwhile = target_.instances_calls - before;
  EXPECT_LT(flood_answered_meanwhile, std::size_t(kFlooders * 10));
  EXPECT_NE(line->find(R"("id":7)"), std::string::npos) << *line;

  // Nobody was dropped: every flooder gets all its answers.
  ASSERT_TRUE(pump_until(
      [&] {
        read_flooders();
        return std::all_of(answers.begin(), answers.end(), [](int n) { return n == kRequests; });
      },
      60s));
}

// A client that pipelines requests and hangs up: what it left unanswered is dropped, not done.
TEST_F(ControlTest, AClosedClientsPendingRequestsAreDropped) {
  start();
  std::string batch;
  for (int i = 1; i <= 2000; ++i) batch += request_line(i, "status");
  {
    TestClient c(path_);
    ASSERT_EQ(c.send_some(batch), batch.size());
    c.close();
  }
  ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
  EXPECT_LT(target_.instances_calls, 200u);
  expect_still_answers();
}

// Answers wait for a client that does not read them instead of piling up; it is not dropped.
TEST_F(ControlTest, AnswersToAClientThatDoesNotReadWaitInsteadOfPilingUp) {
  ControlOptions o = options();
  o.max_output_bytes = 64 * 1024;
  start(o);
  target_.add("many", 200);
  std::string batch;
  for (int i = 1; i <= 400; ++i) batch += request_line(i, "status");
  TestClient c(path_);
  send(c, batch);
  pump_for(300ms);
  EXPECT_EQ(server_->client_count(), 1u);
  // The kernel's buffers hold some; the daemon's share stays within the bound.
  std::size_t taken = target_.instances_calls;
  EXPECT_LT(taken, 400u);
  int answered = 0;
  ASSERT_TRUE(pump_until(
      [&] {
        c.read_available();
        while (c.next_line()) ++answered;
        return answered == 400;
      },
      30s));
}

// Requests sent behind one still in progress are bounded, and the error says what overflowed.
TEST_F(ControlTest, RequestsQueuedBehindAWaitAreBoundedAndTheErrorSaysSo) {
  start();
  TestClient c(path_);
  send(c, request_line(3, "wait", {{"names", {"db"}}, {"for", "stopped"}}));
  ASSERT_TRUE(pump_until([&] { return target_.state_changes().listener_count() == 1; }));
  std::string more;
  while (more.size() <= protocol::kMaxLineBytes) more += request_line(4, "version");
  send(c, more);
  protocol::Response r = read_response(c);
  EXPECT_TRUE(r.is(ErrorCode::bad_request)) << r.error_code;
  EXPECT_NE(r.error_message.find("queued behind request 3 (wait)"), std::string::npos)
      << r.error_message;
  EXPECT_TRUE(wait_eof(c));
  EXPECT_EQ(target_.state_changes().listener_count(), 0u);
}

// A NUL byte is refused; what follows it is not silently accepted as the request.
TEST_F(ControlTest, ANulByteInARequestIsRefused) {
  start();
  TestClient c(path_);
  std::string line = request_line(1, "version");
  line.insert(line.size() - 1, std::string("\0junk", 5));
  send(c, line);
  protocol::Response r = read_response(c);
  EXPECT_TRUE(r.is(ErrorCode::bad_request)) << r.error_code;
  EXPECT_NE(r.error_message.find("NUL byte"), std::string::npos) << r.error_message;
  send(c, request_line(2, "version"));
  EXPECT_TRUE(read_response(c).ok);
}

// Out of fds, accepting is retried every 100 ms; the log says so once, and once when it recovers.
TEST_F(ControlTest, AnAcceptFailureIsLoggedOncePerBurst) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "with no fd left, UBSan's vptr check cannot probe memory (it writes it to a "
                  "pipe) and reports false errors; the Release build runs this test";
#endif
  start();
  std::vector<std::string> lines;
  log::set_line_writer([&](std::string_view line) { lines.emplace_back(line); });
  struct Restore {
    ~Restore() { log::set_line_writer(nullptr); }
  } restore;
  TestClient c(path_);  // waits in the backlog
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  rlimit none_left{static_cast<rlim_t>(open_fds().back() + 1), original.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none_left), 0);
  std::vector<Fd> holes;  // fd numbers below the limit that are free
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) holes.emplace_back(fd);
  pump_for(700ms);
  holes.clear();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
  ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
  auto count = [&](const std::string& what) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(what) != std::string::npos; });
  };
  EXPECT_EQ(count("accept failed"), 1) << ::testing::PrintToString(lines);
  EXPECT_EQ(count("accepting again"), 1) << ::testing::PrintToString(lines);
}

TEST_F(ControlTest, IdleConnectionsTimeOutButWaitingOnesDoNot) {
  ControlOptions o = options();
  o.idle_timeout = 300ms;
  start(o);
  TestClient idle(path_);
  TestClient waiting(path_);
  send(waiting, request_line(1, "wait", {{"names", {"db"}}, {"for", "stopped"}}));
  ASSERT_TRUE(pump_until([&] { return target_.state_changes().listener_count() == 1; }));

  protocol::Response r = read_response(idle);
  EXPECT_TRUE(r.is(ErrorCode::timeout)) << r.error_code;
  EXPECT_NE(r.error_message.find("after 300ms without a request"), std::string::npos)
      << r.error_message;
  EXPECT_TRUE(wait_eof(idle));

  pump_for(400ms);  // longer than the idle timeout: the waiting client stays
  target_.set_state("db", protocol::InstanceState::stopped);
  r = read_response(waiting);
  EXPECT_TRUE(r.more);
  r = read_response(waiting);
  EXPECT_TRUE(r.ok) << r.error_message;
  // Once answered it is idle again.
  r = read_response(waiting);
  EXPECT_TRUE(r.is(ErrorCode::timeout));
}

TEST_F(ControlTest, ClientsBeyondTheCapAreRefused) {
  ControlOptions o = options();
  o.max_clients = 3;
  start(o);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<TestClient>(path_));
  ASSERT_TRUE(pump_until([&] { return server_->client_count() == 3; }));

  TestClient extra(path_);
  protocol::Response r = read_response(extra);
  EXPECT_TRUE(r.is(ErrorCode::too_many_clients)) << r.error_code;
  EXPECT_TRUE(wait_eof(extra));
  EXPECT_EQ(server_->client_count(), 3u);

  clients.pop_back();
  ASSERT_TRUE(pump_until([&] { return server_->client_count() == 2; }));
  protocol::Response answer = ask("version");
  EXPECT_TRUE(answer.ok);
}

TEST_F(ControlTest, AClientThatStopsReadingAStreamIsDropped) {
  ControlOptions o = options();
  o.max_output_bytes = 256 * 1024;
  start(o);
  TestClient reader(path_);
  send(reader, request_line(1, "flood", {{"lines", 20}, {"bytes", 1000}}));
  int lines = 0;
  protocol::Response r;
  do {
    r = read_response(reader);
    ++lines;
  } while (r.ok && r.more);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(lines, 21);
  ASSERT_TRUE(pump_until([&] { return !flood_alive_; }));

  TestClient sleeper(path_);
  send(sleeper, request_line(2, "flood"));
  // Never reads: dropped once its unread answers pass the bound; the stream stops.
  ASSERT_TRUE(pump_until(
      [&] { return floods_ == 2 && server_->client_count() == 1 && !flood_alive_; }, 10s));
  sleeper.read_available();
  EXPECT_LT(sleeper.received(), 4u << 20);
  expect_still_answers();
}

TEST_F(ControlTest, ShutdownKeepsTheConnectionUntilTheDaemonExits) {
  ControlOptions o = options();
  o.idle_timeout = 200ms;
  start(o);
  TestClient c(path_);
  send(c, request_line(1, "shutdown"));
  TestClient half_closed(path_);  // like `echo ... | socat`: it still waits for the end
  send(half_closed, request_line(2, "shutdown"));
  half_closed.shutdown_write();
  protocol::Response r = read_response(c);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result.at("pid"), ::getpid());
  EXPECT_TRUE(read_response(half_closed).ok);
  pump_for(500ms);  // well past the idle timeout
  c.read_available();
  half_closed.read_available();
  EXPECT_FALSE(c.eof());
  EXPECT_FALSE(half_closed.eof());
  server_.reset();  // the daemon exits
  EXPECT_TRUE(wait_eof(c));
  EXPECT_TRUE(wait_eof(half_closed));
}

TEST_F(ControlTest, EveryFdIsCloseOnExec) {
  std::vector<int> before = open_fds();
  start();
  TestClient c(path_);
  send(c, request_line(1, "version"));
  ASSERT_TRUE(read_response(c).ok);
  std::vector<int> now = open_fds();
  int checked = 0;
  for (int fd : now) {
    if (std::binary_search(before.begin(), before.end(), fd)) continue;
    if (fd == c.fd()) continue;
    EXPECT_TRUE(close_on_exec(fd)) << "fd " << fd << " leaks into children";
    ++checked;
  }
  EXPECT_GE(checked, 2);  // the listener and the accepted connection
}

TEST_F(ControlTest, NobodyIsRefusedAndTheAttemptNamesTheUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a client as nobody";
  ControlOptions o = options();
  o.mode = 0666;  // the file lets anyone connect; the credentials check decides
  ::chmod(dir_.c_str(), 0755);
  start(o);
  std::string path = path_;
  int code = run_as(kNobody, kNobody, {}, [&] {
    std::string error;
    auto client = ctl::Client::connect(path, error);
    if (!client) return 10;
    std::string answer = exchange(*client, "version");
    if (answer.rfind(
            "permission_denied: permission denied: uid 65534 may not use this control socket", 0) !=
        0) {
      return 11;
    }
    std::string line;
    if (client->read_line(line, std::chrono::steady_clock::now() + 5s, error) !=
        ctl::Client::Read::eof)
      return 12;
    return 0;
  });
  EXPECT_EQ(code, 0);
  expect_still_answers();
}

TEST_F(ControlTest, ReadersReadAndGroupMembersControl) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run clients as other users";
  constexpr gid_t kReaders = 4242;
  constexpr gid_t kOperators = 4243;
  ControlOptions o = options();
  o.mode = 0666;
  o.readers = kReaders;
  o.group = kOperators;
  ::chmod(dir_.c_str(), 0755);
  start(o);
  std::string path = path_;
  auto reader = [&] {
    std::string error;
    auto client = ctl::Client::connect(path, error);
    if (!client) return 10;
    if (exchange(*client, "version") != "ok") return 11;
    if (exchange(*client, "status") != "ok") return 12;
    if (exchange(*client, "stop", {{"names", {"web"}}}).rfind("permission_denied", 0) != 0)
      return 13;
    if (exchange(*client, "status") != "ok") return 14;  // still connected
    return 0;
  };
  EXPECT_EQ(run_as(kNobody, kNobody, {kReaders}, reader), 0);  // supplementary group
  EXPECT_EQ(run_as(kNobody, kReaders, {}, reader), 0);         // primary group
  EXPECT_TRUE(target_.calls.empty());

  int code = run_as(kNobody, kNobody, {kOperators}, [&] {
    std::string error;
    auto client = ctl::Client::connect(path, error);
    if (!client) return 10;
    return exchange(*client, "stop", {{"names", {"web"}}, {"wait", false}}) == "ok" ? 0 : 11;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(target_.calls, std::vector<std::string>{"stop"});
  expect_still_answers();
}

// A child as `uid` in the readers group: opens `count` connections, asks `version` on each,
// writes what each got ("ok" or the error code) to `report`, keeps them until `go` closes.
static pid_t fork_holder(const std::string& path, uid_t uid, gid_t readers, int count,
                         int report[2], int go[2]) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(report[0]);
  ::close(go[1]);
  if (::setgroups(1, &readers) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) _exit(99);
  std::vector<ctl::Client> held;
  std::string answers;
  for (int i = 0; i < count; ++i) {
    std::string error, line;
    auto client = ctl::Client::connect(path, error);
    if (!client) _exit(98);
    if (!client->send(request_line(1, "version"), error)) _exit(97);
    if (client->read_line(line, std::chrono::steady_clock::now() + 5s, error) !=
        ctl::Client::Read::line)
      _exit(96);
    auto r = std::get<protocol::Response>(protocol::parse_response(line));
    answers += r.ok ? "ok" : r.error_code + ":" + r.error_message;
    answers += '\n';
    if (r.ok) held.push_back(std::move(*client));
  }
  answers += "end\n";
  (void)!::write(report[1], answers.data(), answers.size());
  char byte;
  (void)!::read(go[0], &byte, 1);
  _exit(0);
}

TEST_F(ControlTest, ReadersCannotTakeTheSlotsKeptForControlNorMoreThanTheirShare) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run clients as other users";
  constexpr gid_t kReaders = 4242;
  ControlOptions o = options();
  o.mode = 0666;
  o.readers = kReaders;
  o.max_clients = 6;
  o.control_reserve = 2;
  o.max_clients_per_uid = 3;
  ::chmod(dir_.c_str(), 0755);
  start(o);
  auto holder = [&](uid_t uid, int count, int go[2]) {
    int report[2];
    EXPECT_EQ(::pipe2(report, O_CLOEXEC | O_NONBLOCK), 0);
    pid_t pid = fork_holder(path_, uid, kReaders, count, report, go);
    ::close(report[1]);
    std::string text;
    EXPECT_TRUE(pump_until(
        [&] {
          char buf[4096];
          ssize_t n = ::read(report[0], buf, sizeof buf);
          if (n > 0) text.append(buf, static_cast<std::size_t>(n));
          return text.find("end\n") != std::string::npos;
        },
        15s));
    ::close(report[0]);
    return std::make_pair(pid, text);
  };
  int go[2];
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  auto [first, first_text] = holder(kNobody, 4, go);
  EXPECT_EQ(first_text.rfind("ok\nok\nok\ntoo_many_clients:too many connections from uid 65534 "
                             "(3, the limit per user)",
                             0),
            0u)
      << first_text;
  auto [second, second_text] = holder(kNobody - 1, 2, go);
  EXPECT_EQ(second_text.rfind("ok\ntoo_many_clients:", 0), 0u) << second_text;
  EXPECT_NE(second_text.find("the last 2 are kept for users who may control"), std::string::npos)
      << second_text;
  EXPECT_EQ(server_->client_count(), 4u);
  protocol::Response r = ask("version");  // root gets a kept slot
  EXPECT_TRUE(r.ok) << r.error_message;
  ::close(go[0]);
  ::close(go[1]);
  int status = 0;
  EXPECT_TRUE(pump_until([&] { return ::waitpid(first, &status, WNOHANG) == first; }, 15s));
  EXPECT_TRUE(pump_until([&] { return ::waitpid(second, &status, WNOHANG) == second; }, 15s));
  EXPECT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
}

// When slots run short, a reader's long wait counts as idle: it cannot hold its slot forever.
TEST_F(ControlTest, WaitsOfReadersCountAsIdleWhenSlotsRunShort) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run clients as other users";
  constexpr gid_t kReaders = 4242;
  ControlOptions o = options();
  o.mode = 0666;
  o.readers = kReaders;
  o.max_clients = 8;
  o.control_reserve = 0;
  o.max_clients_per_uid = 8;
  o.idle_timeout = 300ms;
  ::chmod(dir_.c_str(), 0755);
  start(o);
  std::string path = path_;
  int code = run_as(kNobody, kNobody, {kReaders}, [&] {
    std::vector<ctl::Client> waits;
    for (int i = 0; i < 7; ++i) {  // 7 of 8: more than three quarters
      std::string error;
      auto client = ctl::Client::connect(path, error);
      if (!client) return 10;
      if (!client->send(request_line(1, "wait", {{"names", {"db"}}, {"for", "fatal"}}), error))
        return 11;
      waits.push_back(std::move(*client));
    }
    // Once one has gone the slots are no longer short: the others may stay.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& client : waits) {
        std::string error, line;
        auto read = client.read_line(line, std::chrono::steady_clock::now() + 10ms, error);
        if (read == ctl::Client::Read::timeout) continue;
        if (read != ctl::Client::Read::line) return 12;
        auto r = std::get<protocol::Response>(protocol::parse_response(line));
        if (!r.is(ErrorCode::timeout)) return 13;
        if (r.error_message.find("short of connection slots") == std::string::npos) return 14;
        return 0;
      }
    }
    return 15;
  });
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(pump_until([&] { return target_.state_changes().listener_count() == 0; }));
}

TEST(ControlAccess, Rules) {
  AccessPolicy policy{1000, 50, 60};
  auto access = [&](uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
    return decide_access(PeerCredentials{1, uid, gid, std::move(groups)}, policy);
  };
  EXPECT_EQ(access(0, 0), Access::control);
  EXPECT_EQ(access(1000, 1000), Access::control);
  EXPECT_EQ(access(2000, 50), Access::control);
  EXPECT_EQ(access(2000, 2000, {7, 50}), Access::control);
  EXPECT_EQ(access(2000, 60), Access::read);
  EXPECT_EQ(access(2000, 2000, {60}), Access::read);
  EXPECT_EQ(access(2000, 2000, {60, 50}), Access::control);
  EXPECT_EQ(access(2000, 2000, {7}), Access::none);
  EXPECT_EQ(decide_access(PeerCredentials{1, 2000, 50, {}},
                          AccessPolicy{1000, std::nullopt, std::nullopt}),
            Access::none);
}

TEST(ControlAccess, PeerCredentialsOfASocketPair) {
  FdPair pair;
  ASSERT_TRUE(make_socketpair(pair));
  auto peer = peer_credentials(pair.read.get());
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->pid, ::getpid());
  EXPECT_EQ(peer->uid, ::geteuid());
  EXPECT_EQ(peer->gid, ::getegid());
  std::vector<gid_t> groups(::getgroups(0, nullptr));
  ::getgroups(static_cast<int>(groups.size()), groups.data());
  std::sort(groups.begin(), groups.end());
  std::sort(peer->groups.begin(), peer->groups.end());
  EXPECT_EQ(peer->groups, groups);
}
