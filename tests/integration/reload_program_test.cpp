// `gardienctl reload NAME` against a live gardien: a notify program is reloaded when its READY=1
// after the signal arrives (not before), one that never sends it times out and keeps running,
// a program without a readiness protocol just gets its reload-signal, and health checks pause
// while an instance reloads.
#include <future>

#include "harness.h"

namespace gardien::test {
namespace {

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool reloading(const Json& s) {
  return s.value("state", "") == "running" && s.value("reloading", false);
}

// The reloader helper: READY=1 at start; on SIGHUP, RELOADING=1, then READY=1 once `gate` exists.
class ReloadProgramTest : public ::testing::Test {
 protected:
  void start(const std::string& extra = {}) {
    d.write_config(
        "[supervisor]\nshutdown-timeout = \"5s\"\n\n" +
        program("web", {helper("notifier"), "reloader", report.string(), gate.string()},
                "ready = \"notify\"\nready-timeout = \"10s\"\nstop-timeout = \"2s\"\n" + extra));
    d.start();
    ASSERT_TRUE(d.wait_state("web", "running", 10s)) << d.log();
  }
  void TearDown() override {
    d.ctl({"shutdown"});
    d.wait_exit(10s);
  }

  TempDir dir;
  Daemon d{dir};
  fs::path report = dir / "report";
  fs::path gate = dir / "gate";
};

TEST_F(ReloadProgramTest, ReloadReturnsOnlyAfterTheReadyThatEndsIt) {
  start();
  pid_t pid = status_pid(status_of(d, "web"));
  auto reload = std::async(std::launch::async, [&] { return d.ctl({"reload", "web"}, 30s); });
  Json s = wait_status(d, "web", reloading, 10s);
  ASSERT_TRUE(reloading(s)) << s.dump() << d.log();
  EXPECT_TRUE(contains(d.ctl({"status", "web"}).output, "running (reloading)"));
  // Reloading for as long as the program likes: the verb waits.
  EXPECT_EQ(reload.wait_for(300ms), std::future_status::timeout) << "it answered before READY=1";
  write_file(gate, "go\n");
  ASSERT_EQ(reload.wait_for(20s), std::future_status::ready);
  RunResult r = reload.get();
  // The program wrote "ready-sent" before it sent READY=1: the answer came after both.
  EXPECT_EQ(lines_of(report),
            (std::vector<std::string>{"started", "hup", "reloading-sent", "ready-sent"}));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "web: running (pid " + std::to_string(pid) +
                                     "): reloaded (SIGHUP sent, then READY=1)"))
      << r.output;
  s = status_of(d, "web");
  EXPECT_FALSE(s.value("reloading", true)) << s.dump();
  EXPECT_EQ(status_pid(s), pid) << "a reload is no restart";
  EXPECT_EQ(s.value("restarts", -1), 0);
  // The daemon's log has the same order.
  std::vector<std::string> order;
  for (const Json& e : d.events()) {
    std::string event = e.value("event", "");
    if (e.value("program", "") == "web" &&
        (event == "reload_signal" || event == "reloading" || event == "reloaded"))
      order.push_back(event);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"reload_signal", "reloading", "reloaded"})) << d.log();
}

TEST_F(ReloadProgramTest, AReloadWithoutItsReadyTimesOutAndTheProgramKeepsRunning) {
  start();
  pid_t pid = status_pid(status_of(d, "web"));
  RunResult r = d.ctl({"reload", "web", "--timeout", "500ms"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output,
                       "web did not reload in time: it is running (SIGHUP sent, "
                       "RELOADING=1, no READY=1 since)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "timed out after 500ms waiting for web (running)")) << r.output;
  EXPECT_TRUE(contains(r.output, "may still be reloading")) << r.output;
  Json s = status_of(d, "web");
  EXPECT_TRUE(reloading(s)) << s.dump();
  EXPECT_EQ(status_pid(s), pid);
  // It finishes later, on its own: the status says so.
  write_file(gate, "go\n");
  s = wait_status(
      d, "web", [](const Json& j) { return !j.value("reloading", true); }, 10s);
  EXPECT_FALSE(s.value("reloading", true)) << s.dump() << d.log();
  EXPECT_EQ(status_pid(s), pid);
}

TEST_F(ReloadProgramTest, HealthChecksPauseWhileItReloads) {
  fs::path healthy = dir / "healthy";
  write_file(healthy, "yes\n");
  start("health = { file = " + toml_string(healthy.string()) +
        ", period = \"50ms\", failure-threshold = 1 }\nhealth-restarts = 5\n");
  ASSERT_TRUE(wait_status(
                  d, "web", [](const Json& j) { return j.value("health", "") == "healthy"; }, 10s)
                  .value("health", "") == "healthy")
      << d.log();
  auto reload = std::async(std::launch::async, [&] { return d.ctl({"reload", "web"}, 30s); });
  ASSERT_TRUE(reloading(wait_status(d, "web", reloading, 10s))) << d.log();
  fs::remove(healthy);  // every check fails from now on, and one failure restarts it
  // Twenty periods: any check would have restarted it.
  EXPECT_FALSE(poll_until([&] { return d.events("spawn", "web").size() > 1; }, 1s)) << d.log();
  EXPECT_TRUE(reloading(status_of(d, "web")));
  write_file(gate, "go\n");
  ASSERT_EQ(reload.wait_for(20s), std::future_status::ready);
  RunResult r = reload.get();
  EXPECT_EQ(r.status, 0) << r.output << d.log();
  // The checks resume with its READY=1: the missing file now restarts it.
  EXPECT_TRUE(d.wait_spawn("web", 10s, 2)) << d.log();
}

TEST_F(ReloadProgramTest, AProgramWithoutAReadinessProtocolJustGetsItsSignal) {
  fs::path plain = dir / "plain";
  fs::path usr1 = dir / "usr1";
  d.write_config("[supervisor]\nshutdown-timeout = \"5s\"\n\n" +
                 program("plain", {helper("probe"), plain.string()}, "start-seconds = \"0\"\n") +
                 program("usr1", {helper("probe"), usr1.string()},
                         "start-seconds = \"0\"\nreload-signal = \"USR1\"\n") +
                 program("off", {"sleep", "600"}, "autostart = false\n"));
  d.start();
  ASSERT_TRUE(d.wait_state("plain", "running", 10s)) << d.log();
  ASSERT_TRUE(d.wait_state("usr1", "running", 10s)) << d.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(plain) && fs::exists(usr1); }, 10s));

  RunResult r = d.ctl({"reload", "plain", "usr1"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "SIGHUP sent; no readiness protocol to wait for")) << r.output;
  EXPECT_TRUE(contains(r.output, "SIGUSR1 sent; no readiness protocol to wait for")) << r.output;
  fs::path plain_signals = plain.string() + ".signals";
  fs::path usr1_signals = usr1.string() + ".signals";
  EXPECT_TRUE(poll_until([&] { return read_file(plain_signals) == "HUP\n"; }, 10s))
      << read_file(plain_signals);
  EXPECT_TRUE(poll_until([&] { return read_file(usr1_signals) == "USR1\n"; }, 10s))
      << read_file(usr1_signals);

  RunResult off = d.ctl({"reload", "off"});
  EXPECT_EQ(off.status, 1) << off.output;
  EXPECT_TRUE(contains(off.output, "off is stopped: nothing to reload")) << off.output;
  RunResult unknown = d.ctl({"reload", "nope"});
  EXPECT_EQ(unknown.status, 1) << unknown.output;
  // Without NAME it is the config reload it always was.
  RunResult config = d.ctl({"reload"});
  EXPECT_EQ(config.status, 0) << config.output;
  EXPECT_TRUE(contains(config.output, "nothing to do: the config did not change")) << config.output;
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// The default SIGHUP ends a program that does not handle it: the reload fails and says so.
TEST_F(ReloadProgramTest, ANotifyProgramThatDiesOfItsSignalFailsItsReload) {
  if (::access("/usr/bin/systemd-notify", X_OK) != 0 && ::access("/bin/systemd-notify", X_OK) != 0)
    GTEST_SKIP() << "systemd-notify is not installed";
  d.write_config("[supervisor]\nshutdown-timeout = \"5s\"\n\n" +
                 program("web", {"/bin/sh", "-c", "systemd-notify --ready; exec sleep 600"},
                         "ready = \"notify\"\nrestart = \"never\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_state("web", "running", 10s)) << d.log();
  RunResult r = d.ctl({"reload", "web", "--timeout", "20s"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "web exited during its reload: killed by SIGHUP")) << r.output;
}

}  // namespace
}  // namespace gardien::test
