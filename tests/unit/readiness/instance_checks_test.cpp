// One instance's checks on a fake host: the Program creates no process, the checks' own fds and
// sockets are real, so each protocol is driven the way a program would speak it.
#include "supervisord/readiness/instance_checks.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "loop/pump_until.h"
#include "process/fake_process_host.h"
#include "process/lifecycle_driver.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using lifecycle_testing::test_config;
using process_testing::FakeHost;
using testing::pump_until;

std::optional<std::string> env_of(const SpawnPlan& plan, const std::string& key) {
  for (const std::string& kv : plan.envp)
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
  return std::nullopt;
}

// What a program does with sd_notify(3): one datagram to $NOTIFY_SOCKET.
void notify(const std::string& address, const std::string& message) {
  ASSERT_FALSE(address.empty());
  ASSERT_EQ(address[0], '@');
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, address.data() + 1, address.size() - 1);
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&sa), len),
            static_cast<ssize_t>(message.size()));
  ::close(fd);
}

struct Checked {
  explicit Checked(ProgramConfig config)
      : program(loop, host, std::move(config), "web", [](Program&, State) {}),
        checks(loop, host, program) {}
  EventLoop loop;
  FakeHost host;
  Program program;
  InstanceChecks checks;
};

ProgramConfig ready_by(ProbeConfig probe) {
  ProgramConfig c = test_config();
  c.ready = probe;
  c.ready_timeout = 5s;
  return c;
}

TEST(InstanceChecks, TheFdProtocolsLineMakesItReady) {
  ProbeConfig probe;
  probe.kind = ProbeConfig::Kind::fd;
  probe.fd = 3;
  Checked c(ready_by(probe));
  int child_end = -1;
  c.host.on_spawn = [&](const SpawnPlan& plan) {
    ASSERT_EQ(plan.pass_fds.size(), 1u);
    EXPECT_EQ(plan.pass_fds[0].second, 3);
    child_end = ::dup(plan.pass_fds[0].first);  // the child's copy
  };
  c.program.start();
  ASSERT_GE(child_end, 0);
  EXPECT_EQ(c.program.state(), State::starting);
  ASSERT_EQ(::write(child_end, "ready", 5), 5);
  EXPECT_FALSE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 50ms))
      << "no newline yet";
  ASSERT_EQ(::write(child_end, "\n", 1), 1);
  EXPECT_TRUE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 5s));
  ::close(child_end);
}

TEST(InstanceChecks, AnFdClosedWithoutALineLeavesItStartingUntilTheReadyTimeout) {
  ProbeConfig probe;
  probe.kind = ProbeConfig::Kind::fd;
  probe.fd = 4;
  Checked c(ready_by(probe));
  c.host.on_spawn = [&](const SpawnPlan&) {};
  c.program.start();
  pump_until(
      c.loop, [] { return false; }, 20ms);  // EOF: the daemon's copy is closed
  EXPECT_EQ(c.program.state(), State::starting);
  c.host.advance(5s);
  EXPECT_EQ(c.program.state(), State::stopping);
  EXPECT_NE(c.program.status().reason.find("not ready after 5s"), std::string::npos);
}

TEST(InstanceChecks, TheReadyFileIsRemovedBeforeEachStart) {
  auto path =
      std::filesystem::temp_directory_path() / ("gardien-ready-" + std::to_string(::getpid()));
  std::ofstream(path) << "stale";
  ProbeConfig probe;
  probe.kind = ProbeConfig::Kind::file;
  probe.target = path;
  Checked c(ready_by(probe));
  c.program.start();
  EXPECT_FALSE(std::filesystem::exists(path)) << "a stale file would make it ready at once";
}

TEST(InstanceChecks, NotifyGivesTheInstanceItsOwnSocketAndReadyMakesItRunning) {
  ProbeConfig probe;  // notify
  Checked c(ready_by(probe));
  c.program.start();
  ASSERT_FALSE(c.host.plans.empty());
  std::optional<std::string> address = env_of(c.host.plans.back(), "NOTIFY_SOCKET");
  ASSERT_TRUE(address);
  notify(*address, "STATUS=loading the cache\n");
  EXPECT_TRUE(pump_until(
      c.loop, [&] { return c.checks.report().status_text == "loading the cache"; }, 5s));
  EXPECT_EQ(c.program.state(), State::starting);
  notify(*address, "READY=1\nSTATUS=serving\n");
  EXPECT_TRUE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 5s));
  EXPECT_EQ(c.checks.report().status_text, "serving");
}

TEST(InstanceChecks, AWatchdogExportsItsIntervalAndAPingKeepsItRunning) {
  ProbeConfig probe;
  ProgramConfig config = ready_by(probe);
  config.watchdog = 2s;
  Checked c(config);
  c.program.start();
  const SpawnPlan& plan = c.host.plans.back();
  EXPECT_EQ(env_of(plan, "WATCHDOG_USEC"), "2000000");
  EXPECT_EQ(plan.pid_variable, "WATCHDOG_PID");
  std::string address = *env_of(plan, "NOTIFY_SOCKET");
  notify(address, "READY=1");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 5s));
  c.host.advance(1500ms);
  notify(address, "WATCHDOG=1\nSTATUS=pinged");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return c.checks.report().status_text == "pinged"; }, 5s));
  c.host.advance(1500ms);  // 3 s since ready, 1.5 s since the ping
  EXPECT_EQ(c.program.state(), State::running);
  c.host.advance(1s);
  EXPECT_EQ(c.program.state(), State::stopping);
  EXPECT_EQ(c.program.status().reason, "watchdog timeout");
}

// Each phase polls a probe of its own: the readiness file makes the run ready, then the health
// file keeps it healthy until it goes, and failure-threshold failures restart it.
TEST(InstanceChecks, AReadinessProbeThenAHealthCheckEachPollTheirOwn) {
  auto dir =
      std::filesystem::temp_directory_path() / ("gardien-checks-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ProbeConfig ready;
  ready.kind = ProbeConfig::Kind::file;
  ready.target = dir / "ready";
  ready.period = 100ms;
  ProgramConfig config = ready_by(ready);
  ProbeConfig health = ready;
  health.target = dir / "healthy";
  health.failure_threshold = 2;
  config.health = health;
  Checked c(config);
  // Polls are due on the fake clock; their results come on a later turn of the real loop.
  auto poll_until = [&](const std::function<bool()>& done) {
    return pump_until(
        c.loop,
        [&] {
          c.host.advance(100ms);
          return done();
        },
        5s);
  };
  std::ofstream(dir / "healthy") << "";
  c.program.start();
  EXPECT_TRUE(poll_until([&] { return !c.checks.report().not_ready_because.empty(); }));
  EXPECT_EQ(c.program.state(), State::starting);
  std::ofstream(dir / "ready") << "";
  ASSERT_TRUE(poll_until([&] { return c.program.state() == State::running; }));
  EXPECT_TRUE(poll_until([&] { return c.checks.report().health == protocol::Health::healthy; }));
  std::filesystem::remove(dir / "healthy");
  EXPECT_TRUE(poll_until([&] { return c.program.state() == State::stopping; }));
  EXPECT_NE(c.program.status().reason.find("unhealthy:"), std::string::npos)
      << c.program.status().reason;
  std::filesystem::remove_all(dir);
}

TEST(InstanceChecks, WithoutNotifyNoSocketIsGivenNorInherited) {
  Checked c(test_config());
  ::setenv("NOTIFY_SOCKET", "@the-daemons-own", 1);
  c.program.start();
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(env_of(c.host.plans.back(), "NOTIFY_SOCKET"), std::nullopt);
}

}  // namespace
}  // namespace gardien

namespace gardien {
namespace {

// Health fails at every poll (its file never exists), one failure is enough: only a pause keeps
// the instance running.
ProgramConfig notify_with_failing_health() {
  ProgramConfig config = ready_by(ProbeConfig{});  // notify
  ProbeConfig health;
  health.kind = ProbeConfig::Kind::file;
  health.target = "/nonexistent/gardien-health-" + std::to_string(::getpid());
  health.period = 1s;
  health.failure_threshold = 1;
  config.health = health;
  config.health_restarts = 100;
  return config;
}

TEST(InstanceChecks, HealthPausesWhileItReloadsAndResumesAtItsReady) {
  Checked c(notify_with_failing_health());
  std::vector<InstanceChecks::Notice> notices;
  c.checks.on_notice([&](InstanceChecks::Notice n) { notices.push_back(n); });
  c.program.start();
  std::string address = *env_of(c.host.plans.back(), "NOTIFY_SOCKET");
  notify(address, "READY=1\n");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 5s));
  EXPECT_TRUE(notices.empty()) << "the READY=1 of a start is no reload's end";
  notify(address, "RELOADING=1\n");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return c.checks.report().reloading; }, 5s));
  ASSERT_EQ(notices, std::vector{InstanceChecks::Notice::reloading});
  for (int i = 0; i < 10; ++i) {  // ten periods: each would have failed it
    c.host.advance(1s);
    pump_until(
        c.loop, [] { return false; }, 5ms);
  }
  EXPECT_EQ(c.program.state(), State::running) << c.program.status().reason;
  EXPECT_EQ(c.checks.report().health, protocol::Health::none) << "not checked while reloading";

  notify(address, "READY=1\n");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return !c.checks.report().reloading; }, 5s));
  EXPECT_EQ(notices.back(), InstanceChecks::Notice::reloaded);
  bool restarted = false;
  for (int i = 0; i < 5 && !restarted; ++i) {
    c.host.advance(1s);
    restarted = pump_until(
        c.loop, [&] { return c.program.state() != State::running; }, 50ms);
  }
  EXPECT_TRUE(restarted) << "the checks resume after the READY=1";
  EXPECT_NE(c.program.status().reason.find("unhealthy"), std::string::npos)
      << c.program.status().reason;
}

TEST(InstanceChecks, AReadyWithoutReloadingIsANoticeToo) {
  Checked c(ready_by(ProbeConfig{}));
  std::vector<InstanceChecks::Notice> notices;
  c.checks.on_notice([&](InstanceChecks::Notice n) { notices.push_back(n); });
  c.program.start();
  std::string address = *env_of(c.host.plans.back(), "NOTIFY_SOCKET");
  notify(address, "READY=1\n");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return c.program.state() == State::running; }, 5s));
  notify(address, "READY=1\n");
  ASSERT_TRUE(pump_until(
      c.loop, [&] { return !notices.empty(); }, 5s));
  EXPECT_EQ(notices, std::vector{InstanceChecks::Notice::ready});
}

}  // namespace
}  // namespace gardien
