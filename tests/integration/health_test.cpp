// Health with the real daemon: failure-threshold failures in a row restart a running instance,
// a check that always fails goes fatal after the health-restarts budget, and a missed watchdog
// ping restarts the program.
#include <signal.h>

#include <string>

#include "harness.h"

namespace gardien::test {
namespace {

bool healthy_and_running(const Json& s) {
  return s.value("state", "") == "running" && s.value("ready", false) &&
         s.value("health", "") == "healthy";
}

// Some event of `program` mentions `text` (in its reason, info or message).
bool logged(const Daemon& d, const std::string& program, const std::string& text) {
  for (const Json& e : d.events()) {
    if (e.value("program", "") == program && e.dump().find(text) != std::string::npos) return true;
  }
  return false;
}

// The server answers 500 while `sick` holds its pid: three failed checks restart it once, and
// the new process (another pid) is healthy again.
TEST(Health, ThreeFailuresRestartOnceThenHealthyAgain) {
  TempDir dir;
  Daemon d(dir);
  int port = free_tcp_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
  fs::path sick = dir / "sick";
  d.write_config(program("web",
                         {helper("listen_after"), std::to_string(port), "0",
                          (dir / "report").string(), "http", sick.string()},
                         "ready = { http = " + toml_string(url) + ", period = \"100ms\" }\n" +
                             "health = { http = " + toml_string(url) +
                             ", period = \"100ms\", timeout = \"1s\", failure-threshold = 3, "
                             "start-period = \"0s\" }\n"
                             "ready-timeout = \"10s\"\nstop-timeout = \"2s\"\nbackoff = \"100ms\"\n"
                             "backoff-max = \"30s\"\nhealth-restarts = 5\n"));
  d.start();
  Json s = wait_status(d, "web", healthy_and_running, 10s);
  ASSERT_TRUE(healthy_and_running(s)) << s.dump() << d.log();
  EXPECT_EQ(s.value("health_failures", -1), 0) << s.dump();
  pid_t first = status_pid(s);
  ASSERT_GT(first, 0);

  write_file(sick, std::to_string(first) + "\n");
  ASSERT_TRUE(d.wait_spawn("web", 10s, 2)) << "three failures restart it\n" << d.log();
  s = wait_status(
      d, "web", [&](const Json& j) { return healthy_and_running(j) && status_pid(j) != first; },
      10s);
  ASSERT_TRUE(healthy_and_running(s)) << s.dump() << d.log();
  EXPECT_EQ(s.value("restarts", -1), 1) << s.dump();
  EXPECT_EQ(s.value("last_run", ""), "unhealthy") << s.dump();
  EXPECT_EQ(s.value("health_failures", -1), 0) << s.dump();
  EXPECT_TRUE(logged(d, "web", "unhealthy:")) << "the reason says why\n" << d.log();
  EXPECT_FALSE(process_alive(first));
  // Exactly one restart: the new process stays (a few health periods).
  EXPECT_FALSE(poll_until([&] { return d.events("spawn", "web").size() > 2; }, 600ms)) << d.log();
  s = status_of(d, "web");
  EXPECT_TRUE(healthy_and_running(s)) << s.dump();
  EXPECT_EQ(s.value("restarts", -1), 1) << s.dump();
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// A check that always fails: restarted health-restarts times, then fatal, not in a loop.
TEST(Health, AFlappingCheckGoesFatalAfterTheBudget) {
  TempDir dir;
  Daemon d(dir);
  d.write_config(program("flap", {"sleep", "1000"},
                         "start-seconds = \"0\"\n"
                         "health = { exec = [\"false\"], period = \"100ms\", timeout = \"300ms\", "
                         "failure-threshold = 1 }\n"
                         "health-restarts = 2\nbackoff = \"100ms\"\nbackoff-max = \"30s\"\n"
                         "stop-timeout = \"1s\"\n"));
  d.start();
  Json s = wait_status(d, "flap", "fatal", 15s);
  ASSERT_EQ(s.value("state", ""), "fatal") << s.dump() << d.log();
  EXPECT_EQ(d.events("spawn", "flap").size(), 3u) << "the first run and two health restarts\n"
                                                  << d.log();
  EXPECT_EQ(s.value("restarts", -1), 2) << s.dump();
  EXPECT_NE(s.value("info", "").find("unhealthy"), std::string::npos) << s.dump();
  EXPECT_EQ(status_pid(s), 0) << "nothing left running";
  EXPECT_FALSE(poll_until([&] { return d.events("spawn", "flap").size() > 3; }, 500ms))
      << "fatal is the end";
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// WATCHDOG=1 three times, then silence: the program is restarted with "watchdog timeout".
TEST(Health, AMissedWatchdogRestarts) {
  TempDir dir;
  Daemon d(dir);
  fs::path report = dir / "dog.report";
  d.write_config(program("dog", {helper("notifier"), "watchdog", "3", report.string()},
                         "ready = \"notify\"\nwatchdog = \"400ms\"\nready-timeout = \"5s\"\n"
                         "stop-timeout = \"1s\"\nbackoff = \"100ms\"\nbackoff-max = \"30s\"\n"));
  d.start();
  std::map<std::string, std::string> pinged;
  ASSERT_TRUE(poll_until(
      [&] {
        pinged = read_key_values(report);
        return pinged.count("last_ping_ms") > 0;
      },
      10s))
      << d.log();
  auto first = d.wait_spawn("dog", 1s);
  ASSERT_TRUE(first);
  EXPECT_EQ(pinged["WATCHDOG_USEC"], "400000");
  EXPECT_EQ(pinged["WATCHDOG_PID"], std::to_string(*first));
  EXPECT_EQ(pinged["pid"], std::to_string(*first));

  auto timed_out = d.wait_event(
      [](const Json& e) {
        return e.value("program", "") == "dog" &&
               e.dump().find("watchdog timeout") != std::string::npos;
      },
      10s);
  ASSERT_TRUE(timed_out) << d.log();
  long long last_ping = std::atoll(pinged["last_ping_ms"].c_str());
  EXPECT_GE(event_ms(*timed_out), last_ping + 390) << "restarted before a ping was missed";
  // Nothing left the running state while the pings came.
  for (const Json& e : d.events("state", "dog")) {
    if (e.value("from", "") == "running") {
      EXPECT_GE(event_ms(e), last_ping + 390) << e.dump();
    }
  }
  ASSERT_TRUE(d.wait_spawn("dog", 10s, 2)) << d.log();
  EXPECT_TRUE(d.wait_state("dog", "running", 10s, 2)) << d.log();
  EXPECT_FALSE(process_alive(*first));
  Json s = status_of(d, "dog");
  EXPECT_GE(s.value("restarts", 0), 1) << s.dump();
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

}  // namespace
}  // namespace gardien::test
