// gardien as a container init: PID 1 under `unshare --pid --fork --mount-proc` (root), the
// single-command mode (exit codes, signal forwarding, descendants, 127/126), critical programs,
// staying up once every program ended, orphans when not PID 1, and kill-mode = "cgroup".
#include "harness.h"
#include "supervisord/orchestrate/container_init.h"

namespace gardien::test {
namespace {

const std::vector<std::string> kPid1 = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc"};

// Why gardien cannot be run as PID 1 here, or "" when it can.
std::string pid1_refused() {
  static const std::string why = [] {
    if (!fs::exists(kPid1[0])) return std::string("no /usr/bin/unshare");
    std::vector<std::string> argv = kPid1;
    argv.push_back("/bin/true");
    RunResult r = run_command(argv);
    return r.status == 0 ? std::string() : "unshare --pid --fork --mount-proc refused: " + r.output;
  }();
  return why;
}

#define REQUIRE_PID1()                                           \
  do {                                                           \
    if (!pid1_refused().empty()) GTEST_SKIP() << pid1_refused(); \
  } while (0)

struct InitOptions {
  fs::path cwd;                // where gardien starts (empty: here)
  bool broken_stderr = false;  // stderr a pipe nobody reads: each log line fails with EPIPE
  std::string socket;          // --socket as given (empty: DIR/gardien.sock)
};

// `gardien ARGS...` (as PID 1 when `pid1`), started in the background in a session of its own
// (no controlling terminal, as in a container); its stdout and stderr go to files in `dir`.
class Init {
 public:
  Init(const TempDir& dir, std::vector<std::string> args, bool pid1, InitOptions options = {})
      : dir_(dir.path) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::vector<std::string> argv = pid1 ? kPid1 : std::vector<std::string>{};
    argv.push_back(GARDIEN_BIN);
    // Each test its own control socket: parallel tests must not meet on /run/gardien.sock.
    argv.insert(argv.end(), {"--socket", options.socket.empty() ? (dir_ / "gardien.sock").string()
                                                                : options.socket});
    argv.insert(argv.end(), args.begin(), args.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (dir_ / "out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int broken[2] = {-1, -1};
    if (options.broken_stderr && ::pipe2(broken, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&actions, broken[1], STDERR_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (dir_ / "err").c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, cargv[0], &actions, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    for (int fd : broken)
      if (fd >= 0) ::close(fd);  // the read end too: nobody reads gardien's stderr
    if (rc != 0) throw std::runtime_error("cannot start gardien");
    gardien_ = pid_;
    if (pid1) {
      // The namespace's PID 1 is unshare's child; signals from here reach it (it has handlers).
      poll_until(
          [&] {
            for (pid_t p : descendants()) {
              if (read_file("/proc/" + std::to_string(p) + "/comm") == "gardien\n") {
                gardien_ = p;
                return true;
              }
            }
            return false;
          },
          5s);
    }
  }
  ~Init() {
    if (!status_) ::kill(pid_, SIGKILL);
    kill_all_descendants();
  }
  void signal(int signo) const { ::kill(gardien_, signo); }
  pid_t gardien() const { return gardien_; }
  std::optional<int> wait_exit(Ms timeout) {
    if (status_) return status_;
    int st = 0;
    if (poll_until([&] { return ::waitpid(pid_, &st, WNOHANG) == pid_; }, timeout))
      status_ = shell_status(st);
    return status_;
  }
  std::string log() const { return read_file(dir_ / "err"); }
  std::string out() const { return read_file(dir_ / "out"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  pid_t gardien_ = -1;
  std::optional<int> status_;
};

Ms since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
}

TEST(InitPid1, ExitCodesAndSignalDeathsPassThrough) {
  REQUIRE_PID1();
  const std::vector<std::pair<std::string, int>> cases = {{"exit 0", 0},
                                                          {"exit 3", 3},
                                                          {"exit 42", 42},
                                                          {"kill -KILL $$", 137},
                                                          {"kill -TERM $$", 143}};
  for (const auto& [script, code] : cases) {
    std::vector<std::string> argv = kPid1;
    argv.insert(argv.end(), {GARDIEN_BIN, "--", "/bin/sh", "-c", script});
    RunResult r = run_command(argv);
    EXPECT_EQ(r.status, code) << script << "\n" << r.output;
  }
}

TEST(InitPid1, NotFoundIs127AndNotExecutableIs126WithTheReason) {
  REQUIRE_PID1();
  TempDir dir;
  write_file(dir / "script", "#!/bin/sh\nexit 0\n");  // mode 0644: not executable
  for (bool pid1 : {true, false}) {
    std::vector<std::string> base = pid1 ? kPid1 : std::vector<std::string>{};
    base.push_back(GARDIEN_BIN);
    base.push_back("--");
    auto missing = base;
    missing.push_back("no-such-command-xyz");
    RunResult r = run_command(missing);
    EXPECT_EQ(r.status, 127) << r.output;
    EXPECT_NE(r.output.find("no-such-command-xyz: No such file or directory"), std::string::npos)
        << r.output;
    auto denied = base;
    denied.push_back((dir / "script").string());
    r = run_command(denied);
    EXPECT_EQ(r.status, 126) << r.output;
    EXPECT_NE(r.output.find("Permission denied"), std::string::npos) << r.output;
  }
}

TEST(InitPid1, EveryForwardedSignalReachesTheCommand) {
  REQUIRE_PID1();
  TempDir dir;
  std::string file = (dir / "signals").string();
  Init init(dir, {"--", helper("siglog"), file}, true);
  ASSERT_TRUE(poll_until([&] { return fs::exists(file + ".ready"); }, 5s)) << init.log();
  // TERM last: it ends siglog. INT and QUIT start the shutdown, which forwards the rest.
  const std::vector<std::pair<int, std::string>> sent = {
      {SIGHUP, "HUP"},   {SIGUSR1, "USR1"},         {SIGUSR2, "USR2"}, {SIGWINCH, "WINCH"},
      {SIGALRM, "ALRM"}, {SIGURG, "URG"},           {SIGPWR, "PWR"},   {SIGVTALRM, "VTALRM"},
      {SIGCONT, "CONT"}, {SIGRTMIN + 1, "RTMIN+1"}, {SIGINT, "INT"},   {SIGQUIT, "QUIT"},
      {SIGTERM, "TERM"}};
  std::string expected;
  for (const auto& [signo, name] : sent) {
    expected += name + "\n";
    init.signal(signo);
    // One at a time: signals are not queued, so each must land before the next is sent.
    ASSERT_TRUE(
        poll_until([&] { return read_file(file).find(name + "\n") != std::string::npos; }, 5s))
        << name << " was not forwarded; got:\n"
        << read_file(file) << init.log();
  }
  // SIGINT's stop also sends SIGCONT after it: drop the CONTs after the first.
  std::string got, line;
  std::istringstream lines(read_file(file));
  bool cont_seen = false;
  while (std::getline(lines, line)) {
    if (line == "CONT" && std::exchange(cont_seen, true)) continue;
    got += line + "\n";
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
}

TEST(InitPid1, ThousandOrphansThatExitAtOnceAreAllReaped) {
  REQUIRE_PID1();
  std::vector<std::string> argv = kPid1;
  argv.insert(argv.end(), {GARDIEN_BIN, "--", helper("orphans"), "1000"});
  RunResult r = run_command(argv, 60s);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("zombies=0"), std::string::npos) << r.output;
}

TEST(InitPid1, GrandchildIgnoringTermIsKilledAfterTheGraceThenGardienExits) {
  REQUIRE_PID1();
  TempDir dir;
  std::string pid_file = (dir / "grandchild").string();
  // The command exits 7 at once, leaving a grandchild (in its group) that ignores SIGTERM.
  Init init(dir,
            {"--grace", "600ms", "--", "/bin/sh", "-c",
             "trap '' TERM; sleep 600 & echo $! > " + pid_file + "; exit 7"},
            true);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(init.wait_exit(10s), 7) << init.log();
  Ms took = since(t0);
  EXPECT_GE(took, 500ms) << "the grandchild ignores TERM: only the grace's SIGKILL ends it";
  // Loose on purpose: a loaded sanitized run may be slow; waiting for the sleep would take 600 s.
  EXPECT_LT(took, 8s) << "gardien exits after the SIGKILL, not when the grandchild would";
}

TEST(InitPid1, DescendantThatExitsOnTermEndsTheWaitEarly) {
  REQUIRE_PID1();
  TempDir dir;
  // The grandchild takes 200 ms to exit after SIGTERM; the grace is 60 s.
  Init init(dir,
            {"--grace", "60s", "--", "/bin/sh", "-c",
             "/bin/sh -c 'trap \"sleep 0.2; exit 0\" TERM; sleep 600 & wait' & sleep 0.2; exit 4"},
            true);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(init.wait_exit(10s), 4) << init.log();
  EXPECT_LT(since(t0), 10s) << "gardien must exit once the tree is empty, not after the grace";
}

TEST(InitPid1, TermIsForwardedAndGardienExitsWithTheCommandsCode) {
  REQUIRE_PID1();
  TempDir dir;
  std::string report = (dir / "report").string();
  Init init(dir, {"--", helper("probe"), report}, true);
  ASSERT_TRUE(poll_until([&] { return fs::exists(report); }, 5s)) << init.log();
  auto kv = read_key_values(report);
  // A clean start: empty mask, nothing ignored, only 0-2 open.
  EXPECT_EQ(kv["sigblk"], "0000000000000000");
  EXPECT_EQ(kv["sigign"], "0000000000000000");
  EXPECT_EQ(kv["fds"], "0,1,2");
  EXPECT_EQ(kv["pgid"], kv["pid"]) << "the command leads its own process group";
  // gardien runs in this test's session: with no controlling terminal there, the command gets
  // a session of its own (as with dumb-init); with one, it stays in gardien's (terminal_test).
  if (!has_controlling_terminal()) {
    EXPECT_EQ(kv["sid"], kv["pid"]) << "no controlling terminal: a session of its own";
  }
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(5s), 0) << init.log();  // probe exits 0 on TERM, well before the grace
  EXPECT_EQ(read_file(report + ".signals"), "TERM\n");
}

TEST(InitPid1, CommandIgnoringTermIsKilledAfterTheGraceWith137) {
  REQUIRE_PID1();
  TempDir dir;
  std::string pids = (dir / "pids").string();
  Init init(dir, {"--grace", "300ms", "--", helper("stubborn"), pids}, true);
  ASSERT_TRUE(poll_until([&] { return fs::exists(pids); }, 5s)) << init.log();
  auto t0 = std::chrono::steady_clock::now();
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(5s), 137) << init.log();
  EXPECT_GE(since(t0), 250ms);
}

// --- Config mode as an init. ---

TEST(InitConfig, CriticalProgramsExitCodeBecomesGardiensAndExitCodeOverrides) {
  REQUIRE_PID1();
  for (const auto& [extra, code] :
       std::vector<std::pair<std::string, int>>{{"", 3}, {"exit-code = 9\n", 9}}) {
    TempDir dir;
    write_file(dir / "g.toml",
               program("app", {"/bin/sh", "-c", "sleep 0.3; exit 3"},
                       "critical = true\nrestart = \"never\"\nstart-seconds = \"0\"\n" + extra) +
                   program("sidecar", {"sleep", "600"}, "stop-timeout = \"60s\"\n"));
    std::vector<std::string> argv = kPid1;
    argv.insert(argv.end(), {GARDIEN_BIN, "--socket", (dir / "gardien.sock").string(), "-c",
                             (dir / "g.toml").string()});
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = run_command(argv);
    EXPECT_EQ(r.status, code) << r.output;
    EXPECT_LT(since(t0), 10s) << "the sidecar is stopped at once, not after its stop-timeout";
    EXPECT_NE(r.output.find("app: a critical program ended"), std::string::npos) << r.output;
  }
}

TEST(InitConfig, CriticalProgramThatCannotStartGivesTheSpawnCode) {
  TempDir dir;
  write_file(dir / "g.toml",
             program("app", {"no-such-command-xyz"}, "critical = true\nrestart = \"never\"\n") +
                 program("sidecar", {"sleep", "600"}));
  RunResult r = run_command(
      {GARDIEN_BIN, "--socket", (dir / "gardien.sock").string(), "-c", (dir / "g.toml").string()});
  EXPECT_EQ(r.status, 127) << r.output;
}

TEST(InitConfig, StaysUpToBeAskedOnceEveryProgramHasEnded) {
  TempDir dir;
  Daemon d(dir);
  d.write_config(
      program("a", {"/bin/sh", "-c", "exit 0"}, "restart = \"never\"\nstart-seconds = \"0\"\n") +
      program("b", {"no-such-command-xyz"}, "start-retries = 1\nbackoff = \"10ms\"\n") +
      program("later", {"sleep", "600"}, "autostart = false\n"));
  d.start();
  ASSERT_TRUE(d.wait_state("a", "exited", 10s)) << d.log();
  ASSERT_TRUE(d.wait_state("b", "fatal", 10s)) << d.log();
  // Every program has ended, and the daemon is still there to say why.
  RunResult status = d.ctl({"status", "b"});
  EXPECT_NE(status.output.find("fatal"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("no-such-command-xyz"), std::string::npos) << status.output;
  EXPECT_EQ(d.ctl({"start", "b"}).status, 1) << "it fails again, but the daemon takes the order";
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
}

TEST(InitConfig, WarnsWhenStopTimeoutsCannotFitTheShutdownTimeout) {
  TempDir dir;
  Daemon d(dir);
  d.write_config("[supervisor]\nshutdown-timeout = \"15s\"\n" +
                 program("db", {"/bin/sh", "-c", "exit 0"},
                         "restart = \"never\"\nstop-timeout = \"10s\"\nstart-seconds = \"0\"\n") +
                 program("web", {"/bin/sh", "-c", "exit 0"},
                         "restart = \"never\"\nstop-timeout = \"10s\"\n"
                         "start-seconds = \"0\"\ndepends-on = [\"db\"]\n"));
  d.start();
  auto warning =
      d.wait_event([](const Json& e) { return e.value("event", "") == "shutdown_budget"; }, 10s);
  ASSERT_TRUE(warning) << d.log();
  EXPECT_EQ(warning->value("chain", ""), "web -> db") << d.log();
}

TEST(InitConfig, ShutdownWithOrphansEndsAsSoonAsEveryTreeIsEmpty) {
  REQUIRE_PID1();
  TempDir dir;
  // An orphan that left the group (setsid) and exits 100 ms after its SIGTERM.
  write_file(dir / "g.toml",
             "[supervisor]\nshutdown-timeout = \"90s\"\n" +
                 program("app",
                         {"/bin/sh", "-c",
                          "setsid /bin/sh -c 'trap \"sleep 0.1; exit 0\" TERM; sleep 600 & wait' & "
                          "touch " +
                              (dir / "ready").string() + "; exec sleep 600"},
                         "stop-timeout = \"60s\"\nstart-seconds = \"0\"\n"));
  Init init(dir, {"-c", (dir / "g.toml").string()}, true);
  ASSERT_TRUE(poll_until([&] { return fs::exists(dir / "ready"); }, 5s)) << init.log();
  auto t0 = std::chrono::steady_clock::now();
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(30s), 0) << init.log();
  EXPECT_LT(since(t0), 10s) << "not after the stop-timeout" << init.log();
}

// --- Not PID 1. ---

TEST(InitNested, OrphanOfAProgramIsAdoptedAndReapedByGardien) {
  TempDir dir;
  std::string pid_file = (dir / "orphan").string();
  write_file(
      dir / "g.toml",
      program("app", {"/bin/sh", "-c", "(sleep 0.3 & echo $! > " + pid_file + "); exec sleep 600"},
              "start-seconds = \"0\"\n"));
  Init init(dir, {"-c", (dir / "g.toml").string(), "--log-level", "debug", "--log-format", "json"},
            false);
  ASSERT_TRUE(poll_until([&] { return !read_file(pid_file).empty(); }, 5s)) << init.log();
  std::string orphan = read_file(pid_file);
  orphan.erase(orphan.find_last_not_of("\n") + 1);
  // gardien, not the test (also a subreaper, further up), reaps it.
  ASSERT_TRUE(poll_until(
      [&] {
        return init.log().find("\"pid\":" + orphan + "}") != std::string::npos ||
               init.log().find("\"pid\":" + orphan + ",") != std::string::npos;
      },
      5s))
      << init.log();
  EXPECT_NE(init.log().find("reaped an orphan"), std::string::npos) << init.log();
  EXPECT_FALSE(fs::exists("/proc/" + orphan)) << "reaped, not a zombie";
  EXPECT_EQ(init.log().find("subreaper"), std::string::npos) << "no warning when nested";
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
}

TEST(InitNested, TooFewFdsToStartIsAnErrorNotACrash) {
  if (!fs::exists("/usr/bin/prlimit")) GTEST_SKIP() << "no /usr/bin/prlimit (util-linux)";
  // From too few fds for libevent to too few for the command's pipes: each limit fails a
  // different step of the start.
  for (int n = 4; n <= 8; ++n) {
    RunResult r = run_command(
        {"/usr/bin/prlimit", "--nofile=" + std::to_string(n), GARDIEN_BIN, "--", "/bin/true"});
    EXPECT_LT(r.status, 128) << "nofile=" << n << ": died of a signal\n" << r.output;
    if (r.status != 0) {
      EXPECT_FALSE(r.output.empty()) << "nofile=" << n << ": a failure says why";
    }
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  }
}

TEST(InitNested, ForwardToProcessSignalsOnlyTheCommand) {
  TempDir dir;
  std::string main_file = (dir / "main").string();
  std::string bg_file = (dir / "bg").string();
  // CMD (siglog) and a second siglog in CMD's process group, started by a shell that execs.
  Init init(dir,
            {"--forward-to", "process", "--grace", "300ms", "--", "/bin/sh", "-c",
             helper("siglog") + " " + bg_file + " & exec " + helper("siglog") + " " + main_file},
            false);
  ASSERT_TRUE(poll_until(
      [&] { return fs::exists(main_file + ".ready") && fs::exists(bg_file + ".ready"); }, 5s))
      << init.log();
  init.signal(SIGUSR1);
  ASSERT_TRUE(poll_until([&] { return read_file(main_file) == "USR1\n"; }, 5s)) << init.log();
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
  // Not USR1; TERM only once CMD had exited: what a command leaves is stopped, not left behind.
  EXPECT_EQ(read_file(bg_file), "TERM\n");
}

TEST(InitCgroup, DoubleForkedDaemonThatEscapedTheGroupIsGoneAfterStop) {
  TempDir dir;
  std::string pid_file = (dir / "daemon").string();
  // The daemon leaves the group (setsid), ignores TERM and is not the program's child.
  write_file(
      dir / "g.toml",
      program("app",
              {"/bin/sh", "-c",
               "trap '' TERM; (setsid sleep 600 & echo $! > " + pid_file + ") ; exec sleep 600"},
              "kill-mode = \"cgroup\"\nstop-timeout = \"300ms\"\nstart-seconds = \"0\"\n"));
  Init init(dir, {"-c", (dir / "g.toml").string(), "--log-format", "json"}, false);
  ASSERT_TRUE(poll_until([&] { return !read_file(pid_file).empty(); }, 5s)) << init.log();
  if (init.log().find("\"event\":\"cgroup\"") != std::string::npos) {
    init.signal(SIGTERM);
    GTEST_SKIP() << "no writable cgroup v2 hierarchy: " << init.log();
  }
  pid_t daemon = std::stoi(read_file(pid_file));
  ASSERT_TRUE(process_alive(daemon));
  EXPECT_NE(::getpgid(daemon), ::getpgid(0));
  init.signal(SIGTERM);
  EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
  EXPECT_FALSE(process_alive(daemon));
  std::string log = init.log();
  EXPECT_NE(log.find("\"target\":\"cgroup\""), std::string::npos) << log;
  EXPECT_EQ(log.find("\"event\":\"orphan\""), std::string::npos)
      << "the cgroup stop got it, not the orphan sweep:\n"
      << log;
}

TEST(InitNested, CtlStopOfTheCommandGetsItsAnswerBeforeGardienExits) {
  TempDir dir;
  Init init(dir, {"--", "sleep", "600"}, false);
  std::vector<std::string> ctl = {GARDIENCTL_BIN, "--socket", (dir / "gardien.sock").string()};
  auto ctl_run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), ctl.begin(), ctl.end());
    return run_command(args);
  };
  ASSERT_TRUE(poll_until([&] { return ctl_run({"status"}).status == 0; }, 5s)) << init.log();
  // Stopping `main` ends gardien; the answer must still reach the client.
  RunResult r = ctl_run({"stop", "main"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("main: stopped"), std::string::npos) << r.output;
  EXPECT_EQ(init.wait_exit(5s), 143) << init.log();
}

// --- PID 1 and a plain process alike. ---

// Runs `body(pid1)` as a plain process, then as PID 1 where that is possible.
template <typename Body>
void as_plain_process_and_pid1(Body body) {
  for (bool pid1 : {false, true}) {
    if (pid1 && !pid1_refused().empty()) {
      std::cout << "[  SKIPPED ] as PID 1: " << pid1_refused() << '\n';
      return;
    }
    SCOPED_TRACE(pid1 ? "as PID 1" : "as a plain process");
    body(pid1);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// The descendant of this test running `comm`, or 0.
pid_t find_descendant(const std::string& comm) {
  for (pid_t p : descendants()) {
    if (read_file("/proc/" + std::to_string(p) + "/comm") == comm + "\n") return p;
  }
  return 0;
}

char proc_state(pid_t pid) {
  auto stat = read_proc_stat(pid);
  return stat ? stat->state : '?';
}

TEST(Init, SigpipeSentByAnotherProcessIsForwardedButOwnBrokenPipesAreNot) {
  as_plain_process_and_pid1([](bool pid1) {
    TempDir dir;
    std::string file = (dir / "signals").string();
    // Every log line of gardien's fails with EPIPE: each forwarded signal logs one.
    Init init(dir, {"--log-level", "debug", "--", helper("siglog"), file}, pid1,
              {.cwd = {}, .broken_stderr = true, .socket = {}});
    ASSERT_TRUE(poll_until([&] { return fs::exists(file + ".ready"); }, 5s));
    for (std::string want : {"USR1\n", "USR1\nUSR1\n", "USR1\nUSR1\nUSR1\n"}) {
      init.signal(SIGUSR1);
      ASSERT_TRUE(poll_until([&] { return read_file(file) == want; }, 5s)) << read_file(file);
    }
    init.signal(SIGPIPE);  // kill -PIPE
    ASSERT_TRUE(poll_until([&] { return read_file(file).ends_with("PIPE\n"); }, 5s))
        << "SIGPIPE was not forwarded; got:\n"
        << read_file(file);
    EXPECT_EQ(read_file(file), "USR1\nUSR1\nUSR1\nPIPE\n")
        << "gardien's own broken pipes are not forwarded";
    init.signal(SIGTERM);
    EXPECT_EQ(init.wait_exit(5s), 0);
  });
}

TEST(Init, SigtstpWithoutATerminalStopsTheCommandAndSigcontResumesIt) {
  as_plain_process_and_pid1([](bool pid1) {
    TempDir dir;
    std::string file = (dir / "signals").string();
    Init init(dir, {"--", helper("siglog"), file}, pid1);
    ASSERT_TRUE(poll_until([&] { return fs::exists(file + ".ready"); }, 5s)) << init.log();
    pid_t cmd = find_descendant("siglog");
    ASSERT_NE(cmd, 0);
    init.signal(SIGTSTP);
    EXPECT_TRUE(poll_until([&] { return proc_state(cmd) == 'T'; }, 5s))
        << "the command was not stopped (state " << proc_state(cmd) << ")\n"
        << init.log();
    EXPECT_NE(proc_state(init.gardien()), 'T') << "gardien itself keeps running";
    init.signal(SIGCONT);
    EXPECT_TRUE(poll_until([&] { return proc_state(cmd) != 'T'; }, 5s));
    EXPECT_TRUE(poll_until([&] { return read_file(file) == "CONT\n"; }, 5s)) << read_file(file);
    init.signal(SIGTERM);
    EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
  });
}

std::string cwd_of(pid_t pid) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec).string();
}

TEST(Init, TheCommandStartsInTheStartDirectoryWhichGardienLeaves) {
  as_plain_process_and_pid1([](bool pid1) {
    TempDir dir;
    fs::path start = dir.path / "start";
    fs::create_directory(start);
    Init init(dir, {"--", "/bin/sh", "-c", "pwd -P > pwd.txt; exec sleep 600"}, pid1,
              {.cwd = start, .broken_stderr = false, .socket = {}});
    ASSERT_TRUE(poll_until([&] { return read_file(start / "pwd.txt") != ""; }, 5s)) << init.log();
    EXPECT_EQ(read_file(start / "pwd.txt"), fs::canonical(start).string() + "\n");
    EXPECT_EQ(cwd_of(init.gardien()), "/") << "gardien keeps no directory busy";
    init.signal(SIGTERM);
    EXPECT_EQ(init.wait_exit(5s), 143) << init.log();
  });
}

TEST(Init, RelativePathsStillWorkAfterGardienLeftItsStartDirectory) {
  as_plain_process_and_pid1([](bool pid1) {
    TempDir dir;
    fs::path start = dir.path / "start";
    fs::create_directories(start / "conf.d");
    write_file(start / "g.toml",
               "[supervisor]\ninclude = [\"conf.d/*.toml\"]\n\n" +
                   program("first", {"/bin/sh", "-c", "pwd -P > first.pwd; exec sleep 600"}));
    write_file(start / "conf.d" / "empty.toml", "");
    Init init(dir, {"-c", "g.toml"}, pid1,
              {.cwd = start, .broken_stderr = false, .socket = "ctl.sock"});
    ASSERT_TRUE(poll_until([&] { return read_file(start / "first.pwd") != ""; }, 5s)) << init.log();
    EXPECT_EQ(read_file(start / "first.pwd"), fs::canonical(start).string() + "\n");
    EXPECT_EQ(cwd_of(init.gardien()), "/");
    // A reload reads the config and its includes from where they were, not from `/`.
    write_file(start / "conf.d" / "second.toml",
               program("second", {"/bin/sh", "-c", "pwd -P > second.pwd; exec sleep 600"}));
    init.signal(SIGHUP);
    ASSERT_TRUE(poll_until([&] { return read_file(start / "second.pwd") != ""; }, 5s))
        << init.log();
    EXPECT_EQ(read_file(start / "second.pwd"), fs::canonical(start).string() + "\n");
    // The relative --socket is where it was asked for, answers, and is removed at exit.
    RunResult status =
        run_command({GARDIENCTL_BIN, "--socket", (start / "ctl.sock").string(), "status"});
    EXPECT_TRUE(status.status == 0 || status.status == 3) << status.output;  // 3: starting
    EXPECT_NE(status.output.find("second"), std::string::npos) << status.output;
    init.signal(SIGTERM);
    EXPECT_EQ(init.wait_exit(5s), 0) << init.log();
    EXPECT_FALSE(fs::exists(start / "ctl.sock")) << "the socket file was removed";
  });
}

}  // namespace
}  // namespace gardien::test
