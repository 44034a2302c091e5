// gardien under an init that speaks sd_notify: started with NOTIFY_SOCKET, it sends READY=1 only
// once its programs are ready, STOPPING=1 when it shuts down and WATCHDOG=1 pings when asked,
// and its programs never inherit that NOTIFY_SOCKET.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

namespace gardien::test {
namespace {

// The init's end: a datagram socket bound to an abstract name ("@...") or a path.
class NotifyListener {
 public:
  explicit NotifyListener(std::string address) : address_(std::move(address)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (fd_ < 0 || address_.size() >= sizeof sa.sun_path)
      throw std::runtime_error("cannot make a notify socket");
    std::memcpy(sa.sun_path, address_.data(), address_.size());
    bool abstract = address_[0] == '@';
    if (abstract) sa.sun_path[0] = '\0';
    auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() + !abstract);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), length) != 0)
      throw std::runtime_error("cannot bind " + address_);
  }
  ~NotifyListener() { ::close(fd_); }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  const std::string& address() const { return address_; }

  // Every datagram received so far, in order.
  const std::vector<std::string>& datagrams() {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd_, buffer, sizeof buffer, 0)) >= 0;) {
      datagrams_.emplace_back(buffer, static_cast<std::size_t>(n));
    }
    return datagrams_;
  }

  // How many received lines are exactly `line` ("READY=1").
  std::size_t count(const std::string& line) {
    std::size_t n = 0;
    for (const std::string& d : datagrams()) {
      std::istringstream in(d);
      for (std::string l; std::getline(in, l);) n += l == line;
    }
    return n;
  }

  // The received lines that start with `prefix` ("STATUS=").
  std::vector<std::string> lines_starting(const std::string& prefix) {
    std::vector<std::string> out;
    for (const std::string& d : datagrams()) {
      std::istringstream in(d);
      for (std::string l; std::getline(in, l);) {
        if (l.rfind(prefix, 0) == 0) out.push_back(l);
      }
    }
    return out;
  }

  std::string dump() {
    std::string out;
    for (const std::string& d : datagrams()) out += "[" + d + "] ";
    return out;
  }

 private:
  std::string address_;
  int fd_ = -1;
  std::vector<std::string> datagrams_;
};

// Sets an environment variable for the daemon to inherit, until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

std::string unique_abstract_name() {
  std::random_device random;
  return "@gardien-test/" + std::to_string(::getpid()) + "/" + std::to_string(random());
}

// A shell command that writes its environment to `path` (atomically), then runs `then`.
std::string env_to(const fs::path& path, const std::string& then) {
  std::string p = path.string();
  return "env > '" + p + ".tmp' && mv '" + p + ".tmp' '" + p + "'; " + then;
}

TEST(UpwardNotify, ReadyOnlyOnceProgramsAreReadyAndStoppingOnTerm) {
  TempDir dir;
  Daemon d(dir);
  NotifyListener init(unique_abstract_name());
  fs::path go = dir / "go";
  fs::path app_env = dir / "app.env";
  fs::path plain_env = dir / "plain.env";
  d.write_config(program("app",
                         {"sh", "-c",
                          env_to(app_env, "while [ ! -e '" + go.string() +
                                              "' ]; do sleep 0.02; done; '" + helper("notifier") +
                                              "' send READY=1 STATUS=serving; exec sleep 1000")},
                         "ready = \"notify\"\nready-timeout = \"20s\"\nstop-timeout = \"1s\"\n") +
                 program("plain", {"sh", "-c", env_to(plain_env, "exec sleep 1000")},
                         "start-seconds = \"0\"\nstop-timeout = \"1s\"\n"));
  {
    ScopedEnv notify_socket("NOTIFY_SOCKET", init.address());
    d.start();
  }
  ASSERT_TRUE(d.wait_state("plain", "running", 10s)) << d.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(app_env); }, 10s)) << d.log();
  Json app = status_of(d, "app");  // a round trip: the daemon's loop has turned since
  EXPECT_EQ(app.value("state", ""), "starting") << app.dump();
  EXPECT_EQ(init.count("READY=1"), 0u) << "READY=1 before app was ready: " << init.dump();

  write_file(go, "");
  ASSERT_TRUE(poll_until([&] { return init.count("READY=1") > 0; }, 10s)) << init.dump() << d.log();
  long long ready_received = now_ms();
  auto app_running = d.states("app", "running");
  ASSERT_EQ(app_running.size(), 1u) << "READY=1 came before app was running\n" << d.log();
  EXPECT_LE(event_ms(app_running[0]), ready_received);
  EXPECT_FALSE(init.lines_starting("STATUS=").empty()) << "a summary: " << init.dump();
  EXPECT_EQ(status_of(d, "app").value("status_text", ""), "serving");

  // The programs' environment: app has its own NOTIFY_SOCKET, plain none.
  auto app_vars = read_key_values(app_env);
  ASSERT_TRUE(app_vars.count("NOTIFY_SOCKET")) << read_file(app_env);
  EXPECT_NE(app_vars["NOTIFY_SOCKET"], init.address()) << "app inherited the daemon's socket";
  EXPECT_FALSE(read_key_values(plain_env).count("NOTIFY_SOCKET")) << read_file(plain_env);

  EXPECT_EQ(init.count("STOPPING=1"), 0u);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
  EXPECT_TRUE(poll_until([&] { return init.count("STOPPING=1") > 0; }, 2s)) << init.dump();
  EXPECT_EQ(init.count("READY=1"), 1u) << "READY=1 once: " << init.dump();
}

// A program that can only fail, and its dependant, do not hold back READY=1: the init above
// hears it once nothing more comes by itself, not at its own start timeout.
TEST(UpwardNotify, ReadyOnceAFatalProgramAndWhatWaitsOnItAreSettled) {
  TempDir dir;
  Daemon d(dir);
  NotifyListener init(unique_abstract_name());
  d.write_config(
      program("db", {"sh", "-c", "exit 3"},
              "start-seconds = \"1s\"\nstart-retries = 1\nbackoff = \"50ms\"\n") +
      program("web", {"sleep", "1000"}, "depends-on = [\"db\"]\nstop-timeout = \"1s\"\n") +
      program("plain", {"sleep", "1000"}, "start-seconds = \"0\"\nstop-timeout = \"1s\"\n"));
  {
    ScopedEnv notify_socket("NOTIFY_SOCKET", init.address());
    d.start();
  }
  ASSERT_TRUE(d.wait_state("db", "fatal", 10s)) << d.log();
  EXPECT_TRUE(poll_until([&] { return init.count("READY=1") > 0; }, 10s)) << init.dump() << d.log();
  EXPECT_EQ(status_of(d, "web").value("state", ""), "stopped");
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
}

// A NOTIFY_SOCKET that is a path works as well, and WATCHDOG_USEC makes the daemon ping.
TEST(UpwardNotify, APathSocketGetsReadyAndWatchdogPings) {
  TempDir dir;
  Daemon d(dir);
  NotifyListener init((dir / "notify.sock").string());
  fs::path plain_env = dir / "plain.env";
  d.write_config(program("plain", {"sh", "-c", env_to(plain_env, "exec sleep 1000")},
                         "start-seconds = \"0\"\nstop-timeout = \"1s\"\n"));
  {
    ScopedEnv notify_socket("NOTIFY_SOCKET", init.address());
    ScopedEnv watchdog("WATCHDOG_USEC", "200000");
    d.start();
  }
  ASSERT_TRUE(poll_until([&] { return init.count("READY=1") > 0; }, 10s)) << init.dump() << d.log();
  EXPECT_TRUE(poll_until([&] { return init.count("WATCHDOG=1") >= 3; }, 5s)) << init.dump();
  ASSERT_TRUE(poll_until([&] { return fs::exists(plain_env); }, 10s));
  auto vars = read_key_values(plain_env);
  EXPECT_FALSE(vars.count("NOTIFY_SOCKET")) << read_file(plain_env);
  EXPECT_FALSE(vars.count("WATCHDOG_USEC")) << read_file(plain_env);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
  EXPECT_TRUE(poll_until([&] { return init.count("STOPPING=1") > 0; }, 2s)) << init.dump();
}

}  // namespace
}  // namespace gardien::test
