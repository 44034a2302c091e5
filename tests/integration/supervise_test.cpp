// The supervision core with real processes: spawn, restart policies, backoff, stop, shutdown.
// State is observed through the daemon's JSON log and /proc.
#include <grp.h>
#include <pwd.h>

#include "harness.h"

namespace gardien::test {
namespace {

class Supervise : public DaemonTest {
 protected:
  // SIGTERM, then the exit code within `timeout`.
  std::optional<int> shutdown(Ms timeout = 5s) {
    daemon.signal(SIGTERM);
    return daemon.wait_exit(timeout);
  }

  std::string probe_report(const std::string& name) const {
    return (dir / (name + ".report")).string();
  }
};

TEST_F(Supervise, StubbornProgramAndItsGrandchildAreGoneAfterStopTimeout) {
  std::string pids_file = (dir / "pids").string();
  start(program("stubborn", {helper("stubborn"), pids_file},
                "stop-timeout = \"500ms\"\nstart-seconds = \"100ms\"\n"));
  ASSERT_TRUE(daemon.wait_state("stubborn", "running", 5s)) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(pids_file); }, 5s));
  pid_t main_pid = 0, grandchild = 0;
  std::istringstream(read_file(pids_file)) >> main_pid >> grandchild;
  ASSERT_GT(grandchild, 0);

  auto t0 = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  ASSERT_TRUE(
      poll_until([&] { return !process_alive(main_pid) && !process_alive(grandchild); }, 5s));
  auto took = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
  EXPECT_GE(took, 450ms) << "SIGTERM is ignored: only the grace expiry kills it";
  EXPECT_LT(took, 4s) << "stop-timeout plus a margin a loaded sanitized run needs";
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.log();
  auto kills = daemon.events("kill", "stubborn");
  ASSERT_EQ(kills.size(), 1u) << daemon.log();
  EXPECT_EQ(kills[0].value("signal", ""), "SIGKILL");
  EXPECT_TRUE(daemon.wait_state("stubborn", "stopped", 1s));
}

TEST_F(Supervise, ADaemonStartedWithSignalsBlockedStillStopsOnSigterm) {
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);  // inherited by the daemon through exec
  start(program("sleeper", {"/bin/sleep", "30"}, "start-seconds = \"0\"\n"));
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ASSERT_TRUE(daemon.wait_state("sleeper", "running", 5s)) << daemon.log();
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

TEST_F(Supervise, ProgramThatExitsOnSigtermStopsAtOnce) {
  start(program("probe", {helper("probe"), probe_report("probe")},
                "stop-timeout = \"60s\"\nstart-seconds = \"100ms\"\n"));
  ASSERT_TRUE(daemon.wait_state("probe", "running", 5s)) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(probe_report("probe")); }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(shutdown(), 0) << daemon.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "the grace timer must not be waited out";
  EXPECT_TRUE(daemon.events("kill").empty()) << daemon.log();
  // SIGTERM, then the SIGCONT that follows it (not recorded): the program saw TERM.
  EXPECT_EQ(read_file(probe_report("probe") + ".signals"), "TERM\n");
  auto exits = daemon.events("exit", "probe");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].value("code", -1), 0);
}

TEST_F(Supervise, KillModeProcessAsksTheMainFirstThenWhatItLeft) {
  // The shell (main) gets TERM alone and takes its time; its background probe, in the same
  // group, gets TERM only once the main has exited, and well before the grace.
  std::string report = probe_report("bg");
  start(program(
      "mixed",
      {"/bin/sh", "-c", helper("probe") + " " + report + " & trap 'sleep 0.2; exit 0' TERM; wait"},
      "kill-mode = \"process\"\nstop-timeout = \"10s\"\nstart-seconds = \"50ms\"\n"));
  ASSERT_TRUE(daemon.wait_state("mixed", "running", 5s)) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(report); }, 5s));
  pid_t probe = std::stoi(read_key_values(report)["pid"]);
  auto t0 = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  ASSERT_TRUE(poll_until([&] { return !process_alive(probe); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "TERM, not the grace's SIGKILL";
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.log();
  EXPECT_EQ(read_file(report + ".signals"), "TERM\n");
  auto stop = daemon.events("stop", "mixed");
  ASSERT_EQ(stop.size(), 2u) << daemon.log();
  EXPECT_EQ(stop[0].value("target", ""), "process");
  EXPECT_EQ(stop[1].value("target", ""), "group");
  std::vector<std::string> order;  // exit and stop events of `mixed`, in the log's order
  for (const Json& e : daemon.events()) {
    std::string what = e.value("event", "");
    if (e.value("program", "") == "mixed" && (what == "exit" || what == "stop"))
      order.push_back(what);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"stop", "exit", "stop"}))
      << "what it left is stopped after its exit";
  EXPECT_TRUE(daemon.events("kill", "mixed").empty());
}

TEST_F(Supervise, KillMinus9BringsANewPid) {
  start(program("sleeper", {"sleep", "600"}, "start-seconds = \"50ms\"\nbackoff = \"50ms\"\n"));
  auto first = daemon.wait_spawn("sleeper", 5s);
  ASSERT_TRUE(first);
  ASSERT_TRUE(daemon.wait_state("sleeper", "running", 5s));
  ::kill(*first, SIGKILL);
  auto second = daemon.wait_spawn("sleeper", 5s, 2);
  ASSERT_TRUE(second) << daemon.log();
  EXPECT_NE(*second, *first);
  EXPECT_TRUE(process_alive(*second));
  auto exits = daemon.events("exit", "sleeper");
  ASSERT_GE(exits.size(), 1u);
  EXPECT_EQ(exits[0].value("signal", ""), "SIGKILL");
  auto backoff = daemon.states("sleeper", "backoff");
  ASSERT_EQ(backoff.size(), 1u);
  EXPECT_EQ(backoff[0].value("reason", ""), "killed by SIGKILL");
  EXPECT_EQ(shutdown(), 0);
}

TEST_F(Supervise, ExitCodesAgainstEachRestartPolicy) {
  const std::string timing = "start-seconds = \"100ms\"\nbackoff = \"100ms\"\n";
  start(program("always_0", {helper("exit_after"), "400", "0"}, timing + "restart = \"always\"\n") +
        program("onfail_0", {helper("exit_after"), "400", "0"},
                timing + "restart = \"on-failure\"\n") +
        program("onfail_2", {helper("exit_after"), "400", "2"},
                timing + "restart = \"on-failure\"\n") +
        program("onfail_3", {helper("exit_after"), "400", "3"},
                timing + "restart = \"on-failure\"\nsuccess-exit-codes = [0, 3]\n") +
        program("onfail_kill", {helper("exit_after"), "400", "kill"},
                timing + "restart = \"on-failure\"\n") +
        program("never_2", {helper("exit_after"), "400", "2"}, timing + "restart = \"never\"\n"));
  // Restarted: a second spawn after a running period and a backoff.
  for (const char* name : {"always_0", "onfail_2", "onfail_kill"}) {
    EXPECT_TRUE(daemon.wait_spawn(name, 5s, 2)) << name << "\n" << daemon.log();
    auto backoff = daemon.states(name, "backoff");
    ASSERT_FALSE(backoff.empty()) << name;
    EXPECT_EQ(backoff[0].value("from", ""), "running") << name;
  }
  // Not restarted: `exited`, a final state, with the reason.
  const std::map<std::string, std::string> finished = {
      {"onfail_0", "exit code 0"}, {"onfail_3", "exit code 3"}, {"never_2", "exit code 2"}};
  for (const auto& [name, reason] : finished) {
    auto ev = daemon.wait_state(name, "exited", 5s);
    ASSERT_TRUE(ev) << name << "\n" << daemon.log();
    EXPECT_EQ(ev->value("reason", ""), reason);
    EXPECT_EQ(daemon.events("spawn", name).size(), 1u) << name;
  }
  auto killed = daemon.events("exit", "onfail_kill");
  ASSERT_FALSE(killed.empty());
  EXPECT_EQ(killed[0].value("signal", ""), "SIGKILL");
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

TEST_F(Supervise, BackoffDelaysGrowAndCap) {
  start(program(
      "crash", {helper("exit_after"), "0", "1"},
      "restart = \"always\"\nstart-retries = 0\nbackoff = \"100ms\"\nbackoff-max = \"400ms\"\n"));
  ASSERT_TRUE(daemon.wait_spawn("crash", 10s, 6)) << daemon.log();
  auto spawns = daemon.events("spawn", "crash");
  auto backoffs = daemon.states("crash", "backoff");
  ASSERT_GE(backoffs.size(), 5u);
  // From entering backoff to the next spawn: the delay alone, not the crash before it.
  std::vector<long long> gaps;
  for (std::size_t i = 1; i < 6; ++i)
    gaps.push_back(event_ms(spawns[i]) - event_ms(backoffs[i - 1]));
  const long long expected[] = {100, 200, 400, 400, 400};
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    // The state is logged just after its timer is armed; timestamps are in whole ms.
    EXPECT_GE(gaps[i], expected[i] - 5) << "gap " << i;
    EXPECT_LT(gaps[i], expected[i] + 300) << "gap " << i;  // timer latency on a busy machine
  }
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(backoffs[i].value("delay_ms", -1), expected[i]);
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

// Found by the soak (tests/soak): start-seconds ran out while the exit of a program that died at
// once waited for its output to drain, and the dead program was called running (which also reset
// its backoff). Here a grandchild holds the pipe, so the exit comes ~1 s after the reap.
TEST_F(Supervise, ExitDuringStartIsAFailedStartEvenWhenItsOutputDrainsLate) {
  start(program("early", {"/bin/sh", "-c", "sleep 3 & exit 1"},
                "restart = \"never\"\nstart-seconds = \"300ms\"\n") +
        program("keep", {"sleep", "600"}));
  auto fatal = daemon.wait_state("early", "fatal", 5s);
  ASSERT_TRUE(fatal) << daemon.log();
  EXPECT_EQ(fatal->value("reason", ""), "exit code 1 during start; not retried: restart = never");
  EXPECT_TRUE(daemon.states("early", "running").empty()) << daemon.log();
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

TEST_F(Supervise, FatalAfterStartRetries) {
  start(program("crash", {helper("exit_after"), "0", "1"},
                "start-retries = 2\nbackoff = \"20ms\"\nstart-seconds = \"1s\"\n"));
  auto fatal = daemon.wait_state("crash", "fatal", 5s);
  ASSERT_TRUE(fatal) << daemon.log();
  EXPECT_EQ(daemon.events("spawn", "crash").size(), 3u) << "2 retries = 3 spawns";
  EXPECT_EQ(fatal->value("reason", ""), "exit code 1 during start; gave up after 3 failed starts");
  EXPECT_EQ(shutdown(), 0);
}

TEST_F(Supervise, ExecFailureIsAClearStateWithoutARestartStorm) {
  start(program("missing", {"/nonexistent/bin/x"}, "start-retries = 2\nbackoff = \"50ms\"\n") +
        program("nodir", {"sleep", "600"},
                "directory = \"/nonexistent-dir\"\nstart-retries = 1\nbackoff = \"50ms\"\n") +
        program("notinpath", {"no-such-command-anywhere"},
                "start-retries = 1\nbackoff = \"50ms\"\n"));
  auto fatal = daemon.wait_state("missing", "fatal", 5s);
  ASSERT_TRUE(fatal) << daemon.log();
  EXPECT_EQ(fatal->value("reason", ""),
            "exec /nonexistent/bin/x: No such file or directory; gave up after 3 failed starts");
  auto backoff = daemon.states("missing", "backoff");
  ASSERT_EQ(backoff.size(), 2u);
  EXPECT_EQ(backoff[0].value("reason", ""), "exec /nonexistent/bin/x: No such file or directory");
  EXPECT_EQ(daemon.events("spawn", "missing").size(), 3u);
  EXPECT_TRUE(daemon.events("exit", "missing").empty())
      << "an exec failure is not an exit code 127";

  auto nodir = daemon.wait_state("nodir", "fatal", 5s);
  ASSERT_TRUE(nodir) << daemon.log();
  EXPECT_EQ(
      nodir->value("reason", "").rfind("chdir /nonexistent-dir: No such file or directory", 0), 0u)
      << nodir->dump();

  auto notinpath = daemon.wait_state("notinpath", "fatal", 5s);
  ASSERT_TRUE(notinpath) << daemon.log();
  EXPECT_EQ(notinpath->value("reason", "")
                .rfind("exec no-such-command-anywhere: No such file or directory", 0),
            0u)
      << notinpath->dump();
  EXPECT_EQ(shutdown(), 0);
}

TEST_F(Supervise, ChildStartsCleanOnlyFds012EmptyMaskDefaultDispositions) {
  fs::path work = dir / "work";
  fs::create_directory(work);
  start(program("probe", {helper("probe"), probe_report("probe")},
                "instances = 2\ndirectory = " + toml_string(work.string()) +
                    "\numask = \"027\"\nenvironment = { PROBE_VAR = \"hello\" }\n"));
  // Both instances write the same report (atomically): either one will do.
  ASSERT_TRUE(poll_until([&] { return fs::exists(probe_report("probe")); }, 5s)) << daemon.log();
  auto r = read_key_values(probe_report("probe"));
  EXPECT_EQ(r["fds"], "0,1,2") << "only fds 0-2 are inherited";
  EXPECT_EQ(r["stdin"], "/dev/null");
  EXPECT_EQ(r["sigblk"], "0000000000000000") << "empty signal mask";
  EXPECT_EQ(r["sigign"], "0000000000000000")
      << "no ignored signal (SIGPIPE is ignored in the daemon)";
  // (Caught signals say nothing: exec resets handlers; only SIG_IGN and the mask survive it.)
  EXPECT_EQ(r["pgid"], r["pid"]) << "its own process group";
  EXPECT_EQ(r["sid"], r["pid"]) << "its own session";
  EXPECT_EQ(r["cwd"], work.string());
  EXPECT_EQ(r["umask"], "027");
  EXPECT_EQ(r["PROBE_VAR"], "hello");
  EXPECT_EQ(r["GARDIEN_PROGRAM"], "probe");
  EXPECT_TRUE(r["GARDIEN_INSTANCE"] == "probe.0" || r["GARDIEN_INSTANCE"] == "probe.1")
      << r["GARDIEN_INSTANCE"];
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

TEST_F(Supervise, UserNobodyRunsAsNobodyWithNobodysHome) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  passwd* pw = ::getpwnam("nobody");
  if (!pw) GTEST_SKIP() << "no user 'nobody' here";
  // nobody must reach the helper and write its report: a world-accessible copy and dir.
  fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  fs::path out = dir / "out";
  fs::create_directory(out);
  fs::permissions(out, fs::perms::all);
  fs::path probe = dir / "probe";
  fs::copy_file(helper("probe"), probe);
  fs::permissions(probe, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  std::string report = (out / "report").string();
  start(program("asnobody", {probe.string(), report}, "user = \"nobody\"\n"));
  ASSERT_TRUE(poll_until([&] { return fs::exists(report); }, 5s)) << daemon.log();
  auto r = read_key_values(report);
  EXPECT_EQ(r["uid"], std::to_string(pw->pw_uid));
  EXPECT_EQ(r["gid"], std::to_string(pw->pw_gid));
  EXPECT_EQ(r["HOME"], pw->pw_dir);
  EXPECT_EQ(r["USER"], "nobody");
  EXPECT_EQ(r["LOGNAME"], "nobody");
  EXPECT_EQ(r["SHELL"], pw->pw_shell);
  // Only nobody's groups, none of root's.
  std::set<std::string> groups;
  std::istringstream list(r["groups"]);
  for (std::string g; std::getline(list, g, ',');) groups.insert(g);
  EXPECT_TRUE(groups.count(std::to_string(pw->pw_gid))) << r["groups"];
  EXPECT_FALSE(groups.count("0")) << "root's groups are dropped: " << r["groups"];
  EXPECT_EQ(shutdown(), 0) << daemon.log();
}

TEST_F(Supervise, DependsOnOrderOnStartAndStop) {
  start(program("db", {"sleep", "600"}, "start-seconds = \"300ms\"\nstop-timeout = \"2s\"\n") +
        program("web", {helper("probe"), probe_report("web")},
                "depends-on = [\"db\"]\nstart-seconds = \"50ms\"\ninstances = 2\n") +
        program("other", {"sleep", "600"}, "start-seconds = \"50ms\"\n"));
  ASSERT_TRUE(daemon.wait_state("web.0", "running", 5s)) << daemon.log();
  ASSERT_TRUE(daemon.wait_state("web.1", "running", 5s)) << daemon.log();
  auto db_running = daemon.states("db", "running");
  ASSERT_EQ(db_running.size(), 1u);
  for (const char* web : {"web.0", "web.1"}) {
    auto spawn = daemon.events("spawn", web);
    ASSERT_EQ(spawn.size(), 1u);
    EXPECT_GE(event_ms(spawn[0]), event_ms(db_running[0]))
        << web << " started before db was running";
  }
  // Unrelated programs start in parallel: `other` did not wait for db.
  auto other = daemon.events("spawn", "other");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_LT(event_ms(other[0]), event_ms(db_running[0]));

  EXPECT_EQ(shutdown(), 0) << daemon.log();
  auto db_stop = daemon.events("stop", "db");
  ASSERT_EQ(db_stop.size(), 1u);
  for (const char* web : {"web.0", "web.1"}) {
    auto stopped = daemon.states(web, "stopped");
    ASSERT_EQ(stopped.size(), 1u);
    EXPECT_LE(event_ms(stopped[0]), event_ms(db_stop[0])) << "db was stopped before " << web;
  }
  // The log is in order: both web instances' stops were logged before db's.
  auto events = daemon.events();
  std::size_t db_at = 0, last_web_stopped = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].value("event", "") == "stop" && events[i].value("program", "") == "db") db_at = i;
    if (events[i].value("event", "") == "state" && events[i].value("to", "") == "stopped" &&
        events[i].value("program", "").rfind("web", 0) == 0)
      last_web_stopped = i;
  }
  EXPECT_LT(last_web_stopped, db_at);
}

TEST_F(Supervise, SecondSignalMakesTheShutdownForceful) {
  // Each instance writes its own pid file once it ignores SIGTERM: signal only after all three.
  start(program("stubborn",
                {"sh", "-c", "exec \"$0\" \"$1.$GARDIEN_INSTANCE\"", helper("stubborn"),
                 (dir / "pids").string()},
                "stop-timeout = \"30s\"\ninstances = 3\n"));
  for (const char* name : {"stubborn.0", "stubborn.1", "stubborn.2"}) {
    ASSERT_TRUE(daemon.wait_spawn(name, 5s));
    ASSERT_TRUE(poll_until([&] { return fs::exists(dir / ("pids." + std::string(name))); }, 5s))
        << name << " never said it ignores SIGTERM\n"
        << daemon.log();
  }
  daemon.signal(SIGTERM);
  ASSERT_TRUE(
      daemon.wait_event([](const Json& e) { return e.value("event", "") == "shutdown"; }, 5s));
  ASSERT_TRUE(daemon.wait_state("stubborn.2", "stopping", 5s));
  EXPECT_FALSE(daemon.wait_exit(200ms)) << "graceful: waits for the 30 s grace";
  daemon.signal(SIGINT);
  EXPECT_EQ(daemon.wait_exit(10s), 1) << "a forced shutdown exits 1, not after the 30 s grace\n"
                                      << daemon.log();
  EXPECT_TRUE(descendants().empty()) << "every child was killed and reaped by gardien";
  auto forced = daemon.events("shutdown");
  ASSERT_EQ(forced.size(), 2u);
  EXPECT_EQ(forced[1].value("mode", ""), "forceful");
}

TEST_F(Supervise, ShutdownTimeoutMakesTheShutdownForceful) {
  start("[supervisor]\nshutdown-timeout = \"500ms\"\n\n" +
        program("stubborn", {helper("stubborn"), (dir / "pids").string()},
                "stop-timeout = \"30s\"\n"));
  ASSERT_TRUE(daemon.wait_spawn("stubborn", 5s));
  ASSERT_TRUE(poll_until([&] { return fs::exists(dir / "pids"); }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(10s), 1) << daemon.log();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 10s) << "after the shutdown-timeout, not the 30 s stop-timeout";
  EXPECT_TRUE(descendants().empty());
  auto forced = daemon.events("shutdown");
  ASSERT_EQ(forced.size(), 2u);
  EXPECT_EQ(forced[1].value("why", ""), "shutdown-timeout");
}

TEST_F(Supervise, SighupWithABrokenConfigChangesNothing) {
  std::string good = program("sleeper", {"sleep", "600"}, "start-seconds = \"50ms\"\n");
  start(good);
  auto pid = daemon.wait_spawn("sleeper", 5s);
  ASSERT_TRUE(pid);
  ASSERT_TRUE(daemon.wait_state("sleeper", "running", 5s));
  daemon.write_config(good + "[program.broken]\ncommand = 42\n");
  daemon.signal(SIGHUP);
  auto failed =
      daemon.wait_event([](const Json& e) { return e.value("event", "") == "reload"; }, 5s);
  ASSERT_TRUE(failed) << daemon.log();
  EXPECT_FALSE(failed->value("ok", true));
  auto diagnostics = daemon.events("config_diagnostic");
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(diagnostics[0].value("msg", "").find("program.broken.command"), std::string::npos)
      << diagnostics[0];
  EXPECT_TRUE(process_alive(*pid));
  EXPECT_EQ(daemon.events("spawn").size(), 1u);

  daemon.write_config(good);
  daemon.signal(SIGHUP);
  ASSERT_TRUE(poll_until([&] { return daemon.events("reload").size() == 2; }, 5s));
  EXPECT_TRUE(daemon.events("reload")[1].value("ok", false));
  EXPECT_EQ(shutdown(), 0);
}

TEST_F(Supervise, OrphansOfProgramsAreReaped) {
  // The shell forks a background sleep and exits: the sleep is reparented to gardien.
  start(program("forker",
                {"/bin/sh", "-c", "setsid sleep 600 & echo $! > " + (dir / "orphan").string()},
                "restart = \"never\"\nstart-seconds = \"0\"\n"));
  ASSERT_TRUE(daemon.wait_state("forker", "exited", 5s)) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return !read_file(dir / "orphan").empty(); }, 5s));
  pid_t orphan = std::stoi(read_file(dir / "orphan"));
  // Graceful shutdown also stops orphans that left their group, and reaps them.
  EXPECT_EQ(shutdown(), 0) << daemon.log();
  EXPECT_FALSE(process_alive(orphan));
  EXPECT_TRUE(descendants().empty());
}

TEST(Cli, UsageHelpVersionAndConfigErrors) {
  EXPECT_EQ(run_command({GARDIEN_BIN, "--help"}).status, 0);
  auto version = run_command({GARDIEN_BIN, "--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.output.find("gardien"), std::string::npos);
  EXPECT_EQ(run_command({GARDIEN_BIN, "--no-such-flag"}).status, 2);
  auto no_config = run_command({GARDIEN_BIN});
  EXPECT_EQ(no_config.status, 2);
  EXPECT_NE(no_config.output.find("-c FILE"), std::string::npos) << no_config.output;
  EXPECT_EQ(run_command({GARDIEN_BIN, "-c", "x.toml", "--log-level", "loud"}).status, 2);

  TempDir dir;
  write_file(dir / "bad.toml", "[program.x]\ncommand = 42\n");
  auto bad = run_command({GARDIEN_BIN, "-c", (dir / "bad.toml").string()});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("program.x.command"), std::string::npos) << bad.output;

  auto missing = run_command({GARDIEN_BIN, "-c", (dir / "missing.toml").string()});
  EXPECT_EQ(missing.status, 1) << missing.output;
}

}  // namespace
}  // namespace gardien::test
