// What a program's main process leaves behind when it ends: the processes still in its group
// are stopped before its end counts, their output is read to the last line, and in
// single-command mode gardien exits the moment they are gone.
#include "harness.h"

namespace gardien::test {
namespace {

class Leftovers : public DaemonTest {
 protected:

  // Pids written one per line to `file` by a program, once there are `count`.
  std::vector<pid_t> wait_pids(const fs::path& file, std::size_t count) const {
    std::vector<pid_t> pids;
    poll_until(
        [&] {
          pids.clear();
          std::istringstream in(read_file(file));
          for (pid_t p; in >> p;) pids.push_back(p);
          return pids.size() >= count;
        },
        5s);
    return pids;
  }

  // The events of `program` with these names, in the log's order, as "event:to" for states.
  std::vector<std::string> history(const std::string& program,
                                   const std::set<std::string>& names) const {
    std::vector<std::string> out;
    for (const Json& e : daemon.events()) {
      std::string what = e.value("event", "");
      if (e.value("program", "") != program || !names.count(what)) continue;
      out.push_back(what == "state" ? "state:" + e.value("to", "") : what);
    }
    return out;
  }
};

bool any_alive(const std::vector<pid_t>& pids) {
  return std::any_of(pids.begin(), pids.end(), [](pid_t p) { return process_alive(p); });
}

TEST_F(Leftovers, AMainThatExitsLeavesNothingRunningAndTheStateWaitsForIt) {
  fs::path pids = dir / "pids";
  start(program("bg",
                {"/bin/sh", "-c",
                 "for i in 1 2 3 4 5; do sleep 1000 & echo $! >> " + pids.string() +
                     "; done; exit 0"},
                "restart = \"never\"\nstart-seconds = \"0\"\n"));
  std::vector<pid_t> sleeps = wait_pids(pids, 5);
  ASSERT_EQ(sleeps.size(), 5u) << daemon.log();
  auto exited = daemon.wait_state("bg", "exited", 5s);
  ASSERT_TRUE(exited) << daemon.log();
  // Reaped by the test (the subreaper) or by the daemon, none of them runs any more.
  EXPECT_TRUE(poll_until([&] { return !any_alive(sleeps); }, 2s)) << daemon.log();
  EXPECT_EQ(exited->value("reason", ""), "exit code 0");
  auto stopping = daemon.wait_state("bg", "stopping", 1s);
  ASSERT_TRUE(stopping);
  EXPECT_EQ(stopping->value("reason", ""), "exit code 0; stopping the processes it left");
  EXPECT_EQ(history("bg", {"exit", "state"}),
            (std::vector<std::string>{"state:starting", "state:running", "exit", "state:stopping",
                                      "state:exited"}));
  RunResult status = daemon.ctl({"status", "--json", "bg"});
  EXPECT_NE(status.output.find("\"processes\":0"), std::string::npos) << status.output;
}

TEST_F(Leftovers, LeftoversIgnoringTheStopSignalAreKilledAfterStopTimeout) {
  fs::path pids = dir / "pids";
  start(program("deaf",
                {"/bin/sh", "-c",
                 "(trap '' TERM; sleep 1000) & echo $! > " + pids.string() + "; exit 3"},
                "restart = \"never\"\nstart-seconds = \"0\"\nstop-timeout = \"300ms\"\n"));
  std::vector<pid_t> left = wait_pids(pids, 1);
  ASSERT_EQ(left.size(), 1u);
  auto exited = daemon.wait_state("deaf", "exited", 5s);
  ASSERT_TRUE(exited) << daemon.log();
  EXPECT_EQ(exited->value("reason", ""), "exit code 3");
  EXPECT_EQ(daemon.events("kill", "deaf").size(), 1u) << daemon.log();
  EXPECT_TRUE(poll_until([&] { return !process_alive(left[0]); }, 2s));
}

TEST_F(Leftovers, AForkingLoopLeftBehindIsKilledToTheLastProcess) {
  // The loop ignores TERM and forks without pause: SIGKILL races its forks, and the group is
  // killed again until nothing is left.
  start(program("forker",
                {"/bin/sh", "-c", "(trap '' TERM; while :; do /bin/true & done) & exit 0"},
                "restart = \"never\"\nstart-seconds = \"0\"\nstop-timeout = \"200ms\"\n"));
  auto exited = daemon.wait_state("forker", "exited", 20s);
  ASSERT_TRUE(exited) << daemon.log();
  EXPECT_EQ(exited->value("reason", ""), "exit code 0");
  RunResult status = daemon.ctl({"status", "--json", "forker"});
  EXPECT_NE(status.output.find("\"processes\":0"), std::string::npos) << status.output;
}

TEST_F(Leftovers, ARestartNeverSpawnsBesideWhatTheLastRunLeft) {
  fs::path pids = dir / "pids";
  start(program("loop",
                {"/bin/sh", "-c",
                 "(trap 'sleep 0.3; exit 0' TERM; sleep 1000 & wait) & echo $! >> " +
                     pids.string() + "; exit 1"},
                "restart = \"always\"\nstart-seconds = \"0\"\nbackoff = \"10ms\"\n"));
  ASSERT_TRUE(daemon.wait_spawn("loop", 10s, 3)) << daemon.log();
  EXPECT_EQ(daemon.ctl({"stop", "loop"}).status, 0);
  ASSERT_TRUE(daemon.wait_state("loop", "stopped", 5s)) << daemon.log();
  // Every spawn after the first comes after the group of the run before it was empty.
  std::vector<std::string> h = history("loop", {"spawn", "state"});
  std::string last_state;
  int spawns = 0;
  for (const std::string& e : h) {
    if (e == "spawn") {
      ++spawns;
      if (spawns > 1) {
        EXPECT_EQ(last_state, "state:starting") << testing::PrintToString(h);
      }
    } else {
      if (e == "state:starting" && spawns > 0) {
        EXPECT_EQ(last_state, "state:backoff") << testing::PrintToString(h);
      }
      last_state = e;
    }
  }
  EXPECT_FALSE(any_alive(wait_pids(pids, 3))) << daemon.log();
}

TEST_F(Leftovers, StopAndSignalReachWhatIsLeftWhileItIsBeingStopped) {
  fs::path got = dir / "got";
  start(program("left",
                {"/bin/sh", "-c",
                 "(trap '' TERM; trap 'echo USR1 > " + got.string() +
                     "; exit 0' USR1; while :; do sleep 0.05; done) & exit 0"},
                "restart = \"never\"\nstart-seconds = \"0\"\nstop-timeout = \"60s\"\n"));
  ASSERT_TRUE(daemon.wait_state("left", "stopping", 5s)) << daemon.log();
  RunResult sent = daemon.ctl({"signal", "USR1", "left"});
  EXPECT_EQ(sent.status, 0) << sent.output;
  ASSERT_TRUE(poll_until([&] { return fs::exists(got); }, 5s)) << daemon.log();
  ASSERT_TRUE(daemon.wait_state("left", "exited", 5s)) << daemon.log();

  // An operator's stop during such a stop ends in `stopped`, not in the exit's state.
  daemon.write_config(program("left2",
                              {"/bin/sh", "-c", "(trap '' TERM; sleep 1000) & exit 0"},
                              "restart = \"always\"\nstart-seconds = \"0\"\nstop-timeout = "
                              "\"300ms\"\n"));
  EXPECT_EQ(daemon.ctl({"reload"}).status, 0);
  ASSERT_TRUE(daemon.wait_state("left2", "stopping", 5s)) << daemon.log();
  RunResult stop = daemon.ctl({"stop", "left2"});
  EXPECT_EQ(stop.status, 0) << stop.output;
  EXPECT_EQ(stop.output.find("already stopped"), std::string::npos) << stop.output;
  ASSERT_TRUE(daemon.wait_state("left2", "stopped", 5s)) << daemon.log();
  EXPECT_TRUE(daemon.states("left2", "backoff").empty()) << daemon.log();
}

TEST_F(Leftovers, ASurvivorsLateLinesAreReadAndItNeverMeetsAClosedPipe) {
  fs::path done = dir / "done";
  // The survivor ignores TERM and writes 1.5 s after the main exited (the exit is reported
  // after at most 1 s); then it says whether its write went through.
  start(program("late",
                {"/bin/sh", "-c",
                 "(trap '' TERM PIPE; sleep 1.5; echo late-line && echo ok > " + done.string() +
                     " || echo failed > " + done.string() + ") & echo early-line; exit 0"},
                "restart = \"never\"\nstart-seconds = \"0\"\nstop-timeout = \"30s\"\n"));
  ASSERT_TRUE(poll_until([&] { return fs::exists(done); }, 10s)) << daemon.log();
  EXPECT_EQ(read_file(done), "ok\n");
  ASSERT_TRUE(daemon.wait_state("late", "exited", 5s)) << daemon.log();
  RunResult logs = daemon.ctl({"logs", "late"});
  EXPECT_NE(logs.output.find("early-line"), std::string::npos) << logs.output;
  EXPECT_NE(logs.output.find("late-line"), std::string::npos) << logs.output;
  EXPECT_TRUE(poll_until(
      [&] { return read_file(daemon.out_path()).find("late-line") != std::string::npos; }, 5s))
      << read_file(daemon.out_path());
}

TEST_F(Leftovers, ADaemonKilledWithSigkillLeavesNothingForTheNextOne) {
  fs::path pids = dir / "pids";
  start(program("app",
                {"/bin/sh", "-c",
                 "sleep 1000 & echo $! >> " + pids.string() + "; exec sleep 1000"},
                "start-seconds = \"0\"\nstop-timeout = \"3s\"\n") +
        program("deaf",
                {"/bin/sh", "-c",
                 "(trap '' TERM; exec sleep 1000) & echo $! >> " + pids.string() +
                     "; exec sleep 1000"},
                "start-seconds = \"0\"\nstop-timeout = \"200ms\"\n"));
  std::vector<pid_t> first = wait_pids(pids, 2);
  ASSERT_EQ(first.size(), 2u) << daemon.log();
  fs::path record = daemon.socket_path().string() + ".pids";
  ASSERT_TRUE(poll_until([&] { return read_file(record).find("\"deaf\"") != std::string::npos; },
                         5s))
      << read_file(record);
  std::optional<pid_t> app_main = daemon.wait_spawn("app", 1s);
  ASSERT_TRUE(app_main);
  daemon.signal(SIGKILL);
  ASSERT_EQ(daemon.wait_exit(5s), 128 + SIGKILL);
  // The main processes get their stop signal from the kernel (PR_SET_PDEATHSIG); the rest runs on.
  EXPECT_TRUE(poll_until([&] { return !process_alive(*app_main); }, 5s));
  EXPECT_TRUE(process_alive(first[0]));
  EXPECT_TRUE(process_alive(first[1]));

  Daemon next(dir);
  next.write_config(read_file(daemon.config_path()));
  next.start();
  ASSERT_TRUE(next.wait_spawn("deaf", 10s)) << next.log();
  EXPECT_FALSE(process_alive(first[0])) << next.log();
  EXPECT_FALSE(process_alive(first[1])) << next.log();
  // Said, and done before anything started.
  std::vector<std::string> order;
  for (const Json& e : next.events()) {
    std::string what = e.value("event", "");
    if (what == "predecessor" || what == "spawn") order.push_back(what + ":" + e.value("program", ""));
  }
  ASSERT_GE(order.size(), 4u) << next.log();
  EXPECT_EQ(std::count(order.begin(), order.begin() + 3, "predecessor:deaf"), 2)
      << testing::PrintToString(order) << " (stop, then kill after its stop-timeout)";
  EXPECT_EQ(std::count(order.begin(), order.begin() + 3, "predecessor:app"), 1)
      << testing::PrintToString(order);
  EXPECT_TRUE(next.wait_state("app", "running", 5s));
  next.signal(SIGTERM);
  EXPECT_EQ(next.wait_exit(10s), 0) << next.log();
  EXPECT_FALSE(fs::exists(record)) << "a clean exit leaves no record";
}

// `gardien -- CMD`, its output in files of `dir`.
class Command {
 public:
  Command(const TempDir& dir, const std::vector<std::string>& args) : dir_(dir.path) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::vector<std::string> argv = {GARDIEN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (dir_ / "out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (dir_ / "err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start gardien");
  }
  ~Command() {
    if (!status_) ::kill(pid_, SIGKILL);
    kill_all_descendants();
  }
  void signal(int signo) const { ::kill(pid_, signo); }
  std::optional<int> wait_exit(Ms timeout) {
    int st = 0;
    if (!status_ && poll_until([&] { return ::waitpid(pid_, &st, WNOHANG) == pid_; }, timeout))
      status_ = shell_status(st);
    return status_;
  }
  std::string log() const { return read_file(dir_ / "err"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

TEST(LeftoversOfTheCommand, GetTheStopSignalWhenTheCommandEndsAndGardienExitsOnceTheyAreGone) {
  for (std::string forward : {"group", "process"}) {
    SCOPED_TRACE("--forward-to " + forward);
    TempDir dir;
    fs::path ready = dir / "ready";
    // The background sleep ignores SIGINT (a non-interactive shell's background job).
    Command cmd(dir, {"--forward-to", forward, "--grace", "20s", "--", "/bin/sh", "-c",
                      "trap 'exit 7' INT; sleep 100 & touch " + ready.string() + "; wait"});
    ASSERT_TRUE(poll_until([&] { return fs::exists(ready); }, 5s)) << cmd.log();
    auto t0 = std::chrono::steady_clock::now();
    cmd.signal(SIGINT);
    EXPECT_EQ(cmd.wait_exit(10s), 7) << cmd.log();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "not after the 20 s grace";
  }
}

TEST(LeftoversOfTheCommand, ACommandThatExitsOnItsOwnTakesItsLeftoversWithIt) {
  TempDir dir;
  fs::path pid_file = dir / "pid";
  Command cmd(dir, {"--grace", "20s", "--", "/bin/sh", "-c",
                    "sleep 100 & echo $! > " + pid_file.string() + "; exit 4"});
  EXPECT_EQ(cmd.wait_exit(10s), 4) << cmd.log();
  std::string pid = read_file(pid_file);
  ASSERT_FALSE(pid.empty());
  EXPECT_FALSE(process_alive(std::stoi(pid)));
}

}  // namespace
}  // namespace gardien::test
