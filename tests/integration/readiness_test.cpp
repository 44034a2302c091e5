// Readiness with the real daemon: an instance stays `starting` until it says it is ready (its own
// NOTIFY_SOCKET, the s6 fd) or a probe passes (tcp, http, exec, file), its dependants wait for
// that, and one that is not ready in time is a failed start.
#include <signal.h>

#include <string>
#include <vector>

#include "harness.h"

namespace gardien::test {
namespace {

bool running_and_ready(const Json& s) {
  return s.value("state", "") == "running" && s.value("ready", false);
}

// The first value of `key` in `report` once the file exists.
std::optional<long long> wait_report_value(const fs::path& report, const std::string& key,
                                           Ms timeout = 10s) {
  std::optional<long long> value;
  poll_until(
      [&] {
        auto kv = read_key_values(report);
        if (!kv.count(key)) return false;
        value = std::atoll(kv[key].c_str());
        return true;
      },
      timeout);
  return value;
}

// The classic race: systemd-notify sends READY=1 and exits before the daemon reads it, and the
// shell goes on. Every run must be seen ready, by its own instance: 20 rounds of 10 instances.
TEST(Readiness, SystemdNotifyFromAShortLivedHelperIsNeverLost) {
  if (::access("/usr/bin/systemd-notify", X_OK) != 0 && ::access("/bin/systemd-notify", X_OK) != 0)
    GTEST_SKIP() << "systemd-notify is not installed";
  TempDir dir;
  Daemon d(dir);
  constexpr int kInstances = 10;
  constexpr int kRounds = 20;
  d.write_config(program("n",
                         {"sh", "-c",
                          "systemd-notify --ready --status=\"I am $GARDIEN_INSTANCE\"; "
                          "exec sleep 1000"},
                         "instances = " + std::to_string(kInstances) +
                             "\nautostart = false\nready = \"notify\"\nready-timeout = \"10s\"\n"
                             "stop-timeout = \"2s\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_ready()) << d.log();
  for (int round = 0; round < kRounds; ++round) {
    RunResult started = d.ctl({"start", "n"}, 30s);
    ASSERT_EQ(started.status, 0) << "round " << round << ": " << started.output << d.log();
    ASSERT_TRUE(wait_statuses(d, kInstances, running_and_ready, 15s))
        << "round " << round << ": " << d.ctl({"status", "--json"}).output;
    for (auto& [name, s] : statuses_of(d)) {
      EXPECT_EQ(s.value("status_text", ""), "I am " + name) << "a message went to another instance";
    }
    RunResult stopped = d.ctl({"stop", "n"}, 30s);
    ASSERT_EQ(stopped.status, 0) << "round " << round << ": " << stopped.output;
    ASSERT_TRUE(wait_statuses(
        d, kInstances, [](const Json& s) { return s.value("state", "") == "stopped"; }, 10s))
        << d.ctl({"status", "--json"}).output;
  }
  EXPECT_EQ(d.events("spawn").size(), static_cast<std::size_t>(kInstances * kRounds))
      << "every run was ready the first time: no respawn";
  for (const Json& e : d.events("state")) {
    std::string to = e.value("to", "");
    EXPECT_TRUE(to != "backoff" && to != "fatal") << e.dump();
  }
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// A daemon that forks: the main exits 0 once its child has sent MAINPID=<child> and READY=1.
// The child is the instance's process from then on: its death ends the run.
TEST(Readiness, AForkingDaemonsMainPidIsItsGrandchild) {
  TempDir dir;
  Daemon d(dir);
  fs::path pidfile = dir / "child.pid";
  d.write_config(program("forker", {helper("notifier"), "fork-ready", pidfile.string()},
                         "ready = \"notify\"\nready-timeout = \"10s\"\nstop-timeout = \"2s\"\n"
                         "backoff = \"100ms\"\n"));
  d.start();
  Json s = wait_status(d, "forker", running_and_ready, 10s);
  ASSERT_TRUE(running_and_ready(s)) << s.dump() << d.log();
  auto first_spawn = d.wait_spawn("forker", 1s);
  ASSERT_TRUE(first_spawn);
  pid_t child = static_cast<pid_t>(std::atol(read_file(pidfile).c_str()));
  ASSERT_GT(child, 0);
  EXPECT_NE(child, *first_spawn);
  EXPECT_EQ(status_pid(s), child) << "the main pid is the one MAINPID= named";
  EXPECT_TRUE(poll_until([&] { return !process_alive(*first_spawn); }, 5s))
      << "the original main exits once its child is ready";
  // The main's exit 0 did not end the run.
  s = status_of(d, "forker");
  EXPECT_EQ(s.value("state", ""), "running") << s.dump();
  EXPECT_EQ(status_pid(s), child) << s.dump();
  EXPECT_EQ(s.value("restarts", -1), 0) << s.dump();
  EXPECT_EQ(d.events("spawn", "forker").size(), 1u);

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  ASSERT_TRUE(d.wait_spawn("forker", 10s, 2)) << "killing the new main ends the run\n" << d.log();
  s = wait_status(
      d, "forker", [&](const Json& j) { return running_and_ready(j) && status_pid(j) != child; },
      10s);
  ASSERT_TRUE(running_and_ready(s)) << s.dump() << d.log();
  pid_t second_child = static_cast<pid_t>(std::atol(read_file(pidfile).c_str()));
  EXPECT_NE(second_child, child);
  EXPECT_EQ(status_pid(s), second_child) << s.dump();
  EXPECT_EQ(s.value("restarts", -1), 1) << s.dump();
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// The s6 protocol: starting until the program writes a line to fd 3, then running.
TEST(Readiness, TheFdProtocolWaitsForALine) {
  TempDir dir;
  Daemon d(dir);
  d.write_config(program("s6", {"sh", "-c", "sleep 0.5; echo >&3; exec sleep 1000"},
                         "ready = { fd = 3 }\nready-timeout = \"10s\"\nstop-timeout = \"2s\"\n"));
  d.start();
  auto spawned = d.wait_spawn("s6", 5s);
  ASSERT_TRUE(spawned) << d.log();
  Json early = status_of(d, "s6");
  long long early_answered_by = now_ms();
  auto running = d.wait_state("s6", "running", 10s);
  ASSERT_TRUE(running) << d.log();
  auto spawn_event = d.events("spawn", "s6");
  ASSERT_EQ(spawn_event.size(), 1u);
  EXPECT_GE(event_ms(*running) - event_ms(spawn_event[0]), 490)
      << "running before the line was written";
  if (early.contains("state") && early_answered_by + 1 < event_ms(*running)) {
    // Asked before the line came.
    EXPECT_EQ(early.value("state", ""), "starting") << early.dump();
    EXPECT_FALSE(early.value("ready", true)) << early.dump();
  }
  Json s = wait_status(d, "s6", running_and_ready, 5s);
  EXPECT_TRUE(running_and_ready(s)) << s.dump();
  EXPECT_EQ(status_pid(s), *spawned);
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// A tcp probe against a server that listens after 2 s: its dependant is spawned only after.
TEST(Readiness, ATcpProbeHoldsBackTheDependant) {
  TempDir dir;
  Daemon d(dir);
  int port = free_tcp_port();
  fs::path report = dir / "db.report";
  d.write_config(program("db",
                         {helper("listen_after"), std::to_string(port), "2000", report.string()},
                         "ready = { tcp = \"127.0.0.1:" + std::to_string(port) +
                             "\", period = \"100ms\", timeout = \"1s\" }\n"
                             "ready-timeout = \"10s\"\nstop-timeout = \"2s\"\n") +
                 program("app", {"sleep", "1000"},
                         "depends-on = [\"db\"]\nstart-seconds = \"0\"\nstop-timeout = \"2s\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_spawn("db", 5s)) << d.log();
  // While db is starting, app is not spawned.
  bool saw_db_starting_alone = false;
  ASSERT_TRUE(poll_until(
      [&] {
        if (status_of(d, "db").value("state", "") == "starting" &&
            d.events("spawn", "app").empty()) {
          saw_db_starting_alone = true;
        }
        return !d.events("spawn", "app").empty();
      },
      10s, 20ms))
      << d.log();
  EXPECT_TRUE(saw_db_starting_alone);
  auto listen_ms = wait_report_value(report, "listen_ms");
  ASSERT_TRUE(listen_ms);
  auto db_running = d.states("db", "running");
  ASSERT_EQ(db_running.size(), 1u) << d.log();
  auto app_spawn = d.events("spawn", "app");
  ASSERT_EQ(app_spawn.size(), 1u);
  EXPECT_GE(event_ms(db_running[0]), *listen_ms) << "db ready before it listened";
  EXPECT_GE(event_ms(app_spawn[0]), event_ms(db_running[0])) << "app spawned before db was ready";
  EXPECT_GE(event_ms(app_spawn[0]), *listen_ms);
  EXPECT_GE(event_ms(app_spawn[0]) - event_ms(d.events("spawn", "db")[0]), 1990);
  EXPECT_TRUE(d.wait_state("app", "running", 5s)) << d.log();
  EXPECT_TRUE(running_and_ready(status_of(d, "db")));
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// An http probe: starting until the server answers 200.
TEST(Readiness, AnHttpProbeWaitsFor200) {
  TempDir dir;
  Daemon d(dir);
  int port = free_tcp_port();
  fs::path report = dir / "web.report";
  d.write_config(program(
      "web", {helper("listen_after"), std::to_string(port), "1000", report.string(), "http"},
      "ready = { http = \"http://127.0.0.1:" + std::to_string(port) +
          "/healthz\", period = \"100ms\" }\nready-timeout = \"10s\"\nstop-timeout = \"2s\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_spawn("web", 5s)) << d.log();
  Json early = status_of(d, "web");
  long long early_answered_by = now_ms();
  auto listen_ms = wait_report_value(report, "listen_ms");
  ASSERT_TRUE(listen_ms) << d.log();
  if (early.contains("state") && early_answered_by < *listen_ms) {
    EXPECT_EQ(early.value("state", ""), "starting") << early.dump();
    EXPECT_FALSE(early.value("ready", true)) << early.dump();
  }
  Json s = wait_status(d, "web", running_and_ready, 10s);
  ASSERT_TRUE(running_and_ready(s)) << s.dump() << d.log();
  auto running = d.states("web", "running");
  ASSERT_EQ(running.size(), 1u);
  EXPECT_GE(event_ms(running[0]), *listen_ms) << "ready before the server listened";
  EXPECT_LT(event_ms(running[0]) - *listen_ms, 2000) << "the probe polls every 100 ms";
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// An exec probe that hangs is timed out; it delays neither the other program's probe nor the
// control socket, and the program ends fatal after its ready-timeout and start-retries.
TEST(Readiness, AHungExecProbeTimesOutWithoutDelayingOthers) {
  TempDir dir;
  Daemon d(dir);
  d.write_config(
      program("hung", {"sleep", "1000"},
              "ready = { exec = [\"sleep\", \"100\"], period = \"100ms\", timeout = \"300ms\" }\n"
              "ready-timeout = \"1s\"\nstart-retries = 1\nbackoff = \"100ms\"\n"
              "stop-timeout = \"1s\"\n") +
      program("quick", {"sleep", "1000"},
              "ready = { exec = [\"true\"], period = \"100ms\", timeout = \"300ms\" }\n"
              "ready-timeout = \"10s\"\nstop-timeout = \"1s\"\n"));
  d.start();
  auto quick_running = d.wait_state("quick", "running", 10s);
  ASSERT_TRUE(quick_running) << d.log();
  auto quick_spawn = d.events("spawn", "quick");
  ASSERT_EQ(quick_spawn.size(), 1u);
  EXPECT_LT(event_ms(*quick_running) - event_ms(quick_spawn[0]), 1000)
      << "the hung probe delayed the other program's";
  // The loop answers while the hung probe runs.
  auto asked = std::chrono::steady_clock::now();
  RunResult status = d.ctl({"status"});
  EXPECT_EQ(status.status, 3) << "an answer: hung is not running yet\n" << status.output;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "not after the hung probe's 100 s";

  Json s = wait_status(d, "hung", "fatal", 15s);
  ASSERT_EQ(s.value("state", ""), "fatal") << s.dump() << d.log();
  EXPECT_NE(s.value("info", "").find("not ready after 1s"), std::string::npos) << s.dump();
  EXPECT_FALSE(s.value("ready", true));
  EXPECT_EQ(d.events("spawn", "hung").size(), 2u) << "start-retries = 1: two attempts";
  EXPECT_EQ(d.states("hung", "backoff").size(), 1u) << d.log();
  EXPECT_TRUE(running_and_ready(status_of(d, "quick")));
  EXPECT_EQ(d.events("spawn", "quick").size(), 1u);
  // The timed-out probes do not linger.
  EXPECT_TRUE(poll_until(
      [] {
        for (pid_t p : descendants()) {
          if (process_cmdline(p) == "sleep 100") return false;
        }
        return true;
      },
      3s))
      << "a hung probe was left running";
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

// Not ready by ready-timeout: a failed start, backoff, one retry, then fatal with the reason.
TEST(Readiness, NotReadyInTimeIsAFailedStartThenFatal) {
  TempDir dir;
  Daemon d(dir);
  fs::path never = dir / "never-created";
  d.write_config(program("late", {"sleep", "1000"},
                         "ready = { file = " + toml_string(never.string()) +
                             ", period = \"50ms\" }\nready-timeout = \"300ms\"\n"
                             "start-retries = 1\nbackoff = \"100ms\"\nstop-timeout = \"1s\"\n"));
  d.start();
  auto backoff = d.wait_state("late", "backoff", 10s);
  ASSERT_TRUE(backoff) << d.log();
  EXPECT_NE(backoff->dump().find("not ready after 300ms"), std::string::npos) << backoff->dump();
  auto first = d.events("spawn", "late");
  ASSERT_GE(first.size(), 1u);
  pid_t first_pid = first[0].value("pid", 0);
  EXPECT_GE(event_ms(*backoff) - event_ms(first[0]), 290) << "before the ready-timeout";
  Json s = wait_status(d, "late", "fatal", 10s);
  ASSERT_EQ(s.value("state", ""), "fatal") << s.dump() << d.log();
  EXPECT_NE(s.value("info", "").find("not ready after 300ms"), std::string::npos) << s.dump();
  EXPECT_EQ(d.events("spawn", "late").size(), 2u);
  EXPECT_EQ(d.states("late", "backoff").size(), 1u);
  EXPECT_FALSE(process_alive(first_pid)) << "the unready process was stopped";
  std::vector<std::string> path;
  for (const Json& e : d.events("state", "late")) path.push_back(e.value("to", ""));
  // The unready process is stopped on the way (a "stopping" step or not, as the daemon does it).
  std::vector<std::string> without_stopping;
  for (const std::string& st : path) {
    if (st != "stopping") without_stopping.push_back(st);
  }
  EXPECT_EQ(without_stopping,
            (std::vector<std::string>{"starting", "backoff", "starting", "fatal"}))
      << d.log();
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

}  // namespace
}  // namespace gardien::test
