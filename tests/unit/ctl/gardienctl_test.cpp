// gardienctl: its command line and rendering (pure), then the real binary against an in-process
// control server with a fake supervisor: output and exit codes as a script sees them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/fd.h"
#include "control/fake_control_target.h"
#include "ctl/cli.h"
#include "ctl/parse_command_line.h"
#include "ctl/render.h"
#include "loop/pump_until.h"
#include "supervisord/control/control.h"

using namespace gardien;
using namespace gardien::ctl;
using namespace std::chrono_literals;
using gardien::ctl::testing::parse;
using gardien::ctl::testing::Parsed;
using gardien::testing::FakeControlTarget;
using nlohmann::json;
using State = protocol::InstanceState;

namespace {}  // namespace

TEST(GardienctlCli, VerbsBecomeRequests) {
  struct Case {
    std::vector<std::string> args;
    std::string verb;
    json request_args;
  };
  std::vector<Case> cases = {
      {{"status"}, "status", json::object()},
      {{"status", "web", "db.1"}, "status", {{"names", {"web", "db.1"}}}},
      {{"start", "web"}, "start", {{"names", {"web"}}, {"timeout_ms", 90000}}},  // the default
      {{"stop", "web", "db", "--no-wait"}, "stop", {{"names", {"web", "db"}}, {"wait", false}}},
      {{"restart", "--timeout", "1m30s", "all"},
       "restart",
       {{"names", {"all"}}, {"timeout_ms", 90000}}},
      {{"signal", "HUP", "web", "w*"}, "signal", {{"signal", "HUP"}, {"names", {"web", "w*"}}}},
      {{"signal", "9", "web"}, "signal", {{"signal", "9"}, {"names", {"web"}}}},
      {{"pid"}, "pid", json::object()},
      {{"pid", "web.2"}, "status", {{"names", {"web.2"}}}},
      {{"pid", "web", "db"}, "status", {{"names", {"web", "db"}}}},
      {{"wait", "web", "--for", "running", "--timeout", "2s"},
       "wait",
       {{"names", {"web"}}, {"for", "running"}, {"timeout_ms", 2000}}},
      {{"wait", "--for", "fatal", "web"}, "wait", {{"names", {"web"}}, {"for", "fatal"}}},
      {{"reload"}, "reload", json::object()},
      {{"reload", "--dry-run"}, "reload", {{"dry_run", true}}},
      {{"shutdown"}, "shutdown", json::object()},
      {{"version"}, "version", json::object()},
      {{"logs", "web", "-f", "-n", "10"},
       "logs",
       {{"names", {"web"}}, {"follow", true}, {"lines", 10}}},
      {{"reopen-logs"}, "reopen-logs", json::object()},
  };
  for (const Case& c : cases) {
    Parsed p = parse(c.args);
    ASSERT_TRUE(p.command_line.invocation) << c.args[0] << ": " << p.err;
    EXPECT_EQ(p.inv().verb, c.verb);
    EXPECT_EQ(p.inv().args, c.request_args) << p.inv().args.dump();
    EXPECT_FALSE(p.inv().json);
    EXPECT_TRUE(p.inv().socket.empty());
  }
  EXPECT_TRUE(parse({"pid", "web", "db"}).inv().pids_only);
  EXPECT_FALSE(parse({"pid"}).inv().pids_only);
  EXPECT_EQ(parse({"-c", "/etc/gardien.toml", "status"}).inv().config, "/etc/gardien.toml");
  EXPECT_EQ(parse({"status", "--config", "g.toml"}).inv().config, "g.toml");
  EXPECT_TRUE(parse({"shutdown"}).inv().wait_for_exit);
  EXPECT_FALSE(parse({"shutdown", "--no-wait"}).inv().wait_for_exit);
  EXPECT_EQ(parse({"shutdown", "--timeout", "10s"}).inv().timeout, Duration(10000));
}

TEST(GardienctlCli, GlobalOptionsBeforeOrAfterTheVerb) {
  for (auto args :
       std::vector<std::vector<std::string>>{{"--socket", "/tmp/g.sock", "--json", "status", "web"},
                                             {"status", "web", "--json", "--socket", "/tmp/g.sock"},
                                             {"-s", "/tmp/g.sock", "status", "--json", "web"}}) {
    Parsed p = parse(args);
    ASSERT_TRUE(p.command_line.invocation) << p.err;
    EXPECT_EQ(p.inv().socket, "/tmp/g.sock");
    EXPECT_TRUE(p.inv().json);
    // --json shows processes: the daemon counts them only when asked.
    EXPECT_EQ(p.inv().args, json({{"names", {"web"}}, {"processes", true}}));
  }
  EXPECT_EQ(parse({"status", "web"}).inv().args, json({{"names", {"web"}}}));
}

TEST(GardienctlCli, UsageErrorsExit2) {
  for (auto args : std::vector<std::vector<std::string>>{{},
                                                         {"frobnicate"},
                                                         {"start"},
                                                         {"stop", "--bogus", "web"},
                                                         {"signal", "web"},
                                                         {"signal", "NOPE", "web"},
                                                         {"wait", "web"},
                                                         {"wait", "web", "--for", "sleeping"},
                                                         {"start", "web", "--timeout", "5x"},
                                                         {"logs", "-n", "-3"},
                                                         {"status", "extra", "--json=maybe"}}) {
    Parsed p = parse(args);
    EXPECT_FALSE(p.command_line.invocation) << (args.empty() ? "" : args[0]);
    EXPECT_EQ(p.command_line.exit_code, kExitUsage);
    EXPECT_FALSE(p.err.empty());
  }
  Parsed bad_timeout = parse({"start", "web", "--timeout", "5x"});
  EXPECT_NE(bad_timeout.err.find("not a duration: 5x"), std::string::npos) << bad_timeout.err;
}

TEST(GardienctlCli, AnUnknownVerbSuggestsTheClosestOne) {
  Parsed p = parse({"stpo"});
  EXPECT_EQ(p.command_line.exit_code, kExitUsage);
  EXPECT_EQ(p.err, "gardienctl: unknown verb \"stpo\"; did you mean `stop`?\n");
  p = parse({"--socket", "/tmp/x.sock", "--json", "stauts", "web"});
  EXPECT_EQ(p.err, "gardienctl: unknown verb \"stauts\"; did you mean `status`?\n");
  p = parse({"frobnicate"});
  EXPECT_EQ(p.err,
            "gardienctl: unknown verb \"frobnicate\"; the verbs are listed by gardienctl "
            "--help\n");
  p = parse({});
  EXPECT_EQ(p.err,
            "gardienctl: a verb is required, as in `gardienctl status` (gardienctl --help lists "
            "them)\n");
}

// CLI11's own errors read like gardienctl's: prefixed with the program's name.
TEST(GardienctlCli, UsageErrorsStartWithTheProgramName) {
  for (auto args : std::vector<std::vector<std::string>>{{"stop", "--bogus", "web"},
                                                         {"start"},
                                                         {"wait", "web", "--for", "sleeping"},
                                                         {"logs", "-n", "-3"}}) {
    Parsed p = parse(args);
    EXPECT_EQ(p.err.rfind("gardienctl: ", 0), 0u) << p.err;
  }
}

TEST(GardienctlCli, HelpOnEveryVerb) {
  Parsed top = parse({"--help"});
  EXPECT_FALSE(top.command_line.invocation);
  EXPECT_EQ(top.command_line.exit_code, kExitOk);
  for (const char* verb : {"status", "start", "stop", "restart", "signal", "pid", "wait", "reload",
                           "shutdown", "version", "logs", "reopen-logs"}) {
    EXPECT_NE(top.out.find(verb), std::string::npos) << verb;
    Parsed p = parse({verb, "--help"});
    EXPECT_EQ(p.command_line.exit_code, kExitOk) << verb;
    EXPECT_NE(p.out.find("Usage"), std::string::npos) << verb;
    EXPECT_NE(p.out.find("--socket"), std::string::npos)
        << verb << " help names the global options";
  }
  EXPECT_NE(parse({"start", "--help"}).out.find("--no-wait"), std::string::npos);
  EXPECT_NE(parse({"wait", "--help"}).out.find("--for"), std::string::npos);
  Parsed version = parse({"-V"});
  EXPECT_EQ(version.command_line.exit_code, kExitOk);
  EXPECT_NE(version.out.find("gardienctl " GARDIEN_VERSION), std::string::npos) << version.out;
}

TEST(GardienctlRender, StatusTable) {
  std::vector<protocol::InstanceStatus> list = {
      {"db", "db", State::running, 812, Duration(3723'400), 0, "", true, {}},
      {"web.0",
       "web",
       State::backoff,
       std::nullopt,
       std::nullopt,
       12,
       "exit code 1, retry in 4s",
       true,
       {}},
      {"worker", "worker", State::stopped, std::nullopt, std::nullopt, 0, "", false, {}},
  };
  EXPECT_EQ(render_status_table(list),
            "NAME    STATE    PID  UPTIME  RESTARTS  INFO\n"
            "db      running  812  1h2m3s  0\n"
            "web.0   backoff  -    -       12        exit code 1, retry in 4s\n"
            "worker  stopped  -    -       0\n");
  EXPECT_EQ(render_status_table({}), "NAME  STATE  PID  UPTIME  RESTARTS  INFO\n");
  // Counted (status --processes): a PROCS column.
  list[0].processes = 3;
  list[1].processes = 0;
  EXPECT_EQ(render_status_table(list),
            "NAME    STATE    PID  PROCS  UPTIME  RESTARTS  INFO\n"
            "db      running  812  3      1h2m3s  0\n"
            "web.0   backoff  -    0      -       12        exit code 1, retry in 4s\n"
            "worker  stopped  -    -      -       0\n");
}

TEST(GardienctlRender, StatusTableShowsHealthReloadingAndTheStatusText) {
  protocol::InstanceStatus db{"db", "db", State::running, 812, Duration(3000), 0, "", true, {}};
  db.ready = true;
  db.health = protocol::Health::healthy;
  db.health_threshold = 3;
  db.status_text = "Accepting connections";
  protocol::InstanceStatus kv = db;
  kv.name = kv.program = "kv";
  kv.health = protocol::Health::unhealthy;
  kv.health_failures = 2;
  kv.status_text = std::string(50, 'x') + " tail";
  kv.info = "log file full";
  protocol::InstanceStatus web{"web", "web", State::running, 9, Duration(1000), 0, "", true, {}};
  web.reloading = true;
  protocol::InstanceStatus job{"job", "job", State::exited, {}, {}, 0, "exit code 3", false, {}};
  job.exit_code = 3;
  EXPECT_EQ(render_status_table({db, kv, web, job}),
            "NAME  STATE                    PID  UPTIME  RESTARTS  INFO\n"
            "db    running (healthy)        812  3s      0         Accepting connections\n"
            "kv    running (unhealthy 2/3)  812  3s      0         log file full; " +
                std::string(40, 'x') +
                "\u2026\n"
                "web   running (reloading)      9    1s      0\n"
                "job   exited                   -    -       0         exit code 3\n");
  web.health = protocol::Health::healthy;
  EXPECT_EQ(render_state(web), "running (reloading, healthy)");
}

TEST(GardienctlRender, LongTextIsCutOnACharacterBoundary) {
  EXPECT_EQ(truncate_text("short", 40), "short");
  EXPECT_EQ(truncate_text("abcdef", 3), "abc\u2026");
  // "é" is two bytes: a cut in its middle backs up before it.
  EXPECT_EQ(truncate_text("ab\xc3\xa9z", 3), "ab\u2026");
}

TEST(GardienctlRender, StatusExitCodeCountsOnlyWantedInstances) {
  protocol::InstanceStatus up{"a", "a", State::running, 1, Duration(1), 0, "", true, {}};
  protocol::InstanceStatus stopped_on_purpose{"b", "b", State::stopped, {}, {}, 0, "", false, {}};
  protocol::InstanceStatus finished_job{"c", "c",           State::exited, {}, {},
                                        0,   "exit code 0", false,         {}};
  protocol::InstanceStatus crashing{"d", "d", State::backoff, {}, {}, 3, "", true, {}};
  protocol::InstanceStatus starting{"e", "e", State::starting, 5, {}, 0, "", true, {}};
  EXPECT_EQ(status_exit_code({}), kExitOk);
  EXPECT_EQ(status_exit_code({up, stopped_on_purpose, finished_job}), kExitOk);
  EXPECT_EQ(status_exit_code({up, crashing}), kExitNotRunning);
  EXPECT_EQ(status_exit_code({starting}), kExitNotRunning);
}

TEST(GardienctlRender, InstanceLinesAndReloadPlans) {
  EXPECT_EQ(render_instance_result({"web.0", State::running, 42, true, ""}),
            "web.0: running (pid 42)");
  EXPECT_EQ(render_instance_result({"db", State::running, 7, true, "already running"}),
            "db: running (pid 7): already running");
  EXPECT_EQ(render_instance_result({"web.1", State::stopped, {}, true, ""}), "web.1: stopped");
  EXPECT_EQ(
      render_instance_result({"web.1", State::running, 9, true, ""}, {"signal", "SIGHUP", ""}),
      "web.1: SIGHUP sent (pid 9)");

  protocol::ReloadPlan plan;
  plan.added = {"new"};
  plan.removed = {"old"};
  plan.changed = {"web"};
  plan.scaled = {{"worker", 2, 4}};
  plan.unchanged = {"db"};
  EXPECT_EQ(render_reload(plan, false),
            "add new\nremove old\nrestart web\nscale worker 2 -> 4\n1 program unchanged\n");
  EXPECT_EQ(render_reload(plan, true),
            "would add new\nwould remove old\nwould restart web\nwould scale worker 2 -> 4\n"
            "1 program unchanged (dry run: nothing was changed)\n");
  protocol::ReloadPlan nothing;
  nothing.unchanged = {"a", "b"};
  EXPECT_EQ(render_reload(nothing, false),
            "nothing to do: the config did not change (2 programs unchanged)\n");
}

// What did not get there reads as a sentence, never "NAME: failed: STATE (STATE ...)".
TEST(GardienctlRender, FailedInstancesReadAsSentences) {
  EXPECT_EQ(render_instance_result({"web.1", State::backoff, {}, false, "exit code 1"},
                                   {"start", "", ""}),
            "web.1 did not start: it is in backoff (exit code 1)");
  EXPECT_EQ(
      render_instance_result({"web.0", State::running, 42, false, "timed out"}, {"stop", "", ""}),
      "web.0 did not stop in time: it is running");
  EXPECT_EQ(render_instance_result({"db", State::fatal, {}, false, "exec db: not found"},
                                   {"restart", "", ""}),
            "db did not restart: it is fatal (exec db: not found)");
  EXPECT_EQ(render_instance_result({"job", State::exited, {}, false, "timed out"},
                                   {"wait", "", "running"}),
            "job did not become running in time: it has exited");
  EXPECT_EQ(render_instance_result({"api", State::stopped, {}, false, "timed out: waiting for db"},
                                   {"start", "", ""}),
            "api did not start in time: it is stopped (waiting for db)");
  EXPECT_EQ(render_instance_result({"api", State::backoff, {}, false, "timed out after 3s"},
                                   {"start", "", ""}),
            "api did not start: it is in backoff (timed out after 3s)")
      << "a reason that only starts like a timeout is a reason";
  EXPECT_EQ(render_instance_result({"migrate", State::exited, {}, false, "no process"},
                                   {"signal", "SIGHUP", ""}),
            "migrate: SIGHUP not sent: no process");
}

TEST(GardienctlRender, ControlCharactersAreEscapedOnlyForATerminal) {
  std::string hostile =
      "ok\tcol\x1b]0;pwned\x07 \x7f \xc2\x9b"
      "2J caf\xc3\xa9\n";
  EXPECT_EQ(for_terminal(hostile, false), hostile);
  EXPECT_EQ(for_terminal(hostile, true), "ok\tcol\\x1b]0;pwned\\x07 \\x7f \\u009b2J caf\xc3\xa9\n");
  EXPECT_EQ(for_terminal("plain", true), "plain");
  json logs = {{"name_width", 3},
               {"lines", {{{"name", "web"}, {"stream", "stdout"}, {"text", "\x1b[31mred"}}}}};
  EXPECT_EQ(render_log_lines(logs, false, false, true), "web | \\x1b[31mred\n");
  EXPECT_EQ(render_log_lines(logs, false, false, false), "web | \x1b[31mred\n");
}

TEST(GardienctlRender, ErrorExitCodes) {
  auto response = [](protocol::ErrorCode code) {
    protocol::Response r;
    r.error_code = std::string(protocol::error_code_name(code));
    return r;
  };
  EXPECT_EQ(exit_code_for_error("status", response(protocol::ErrorCode::unknown_program)),
            kExitUnknown);
  EXPECT_EQ(exit_code_for_error("stop", response(protocol::ErrorCode::unknown_program)),
            kExitFailed);
  EXPECT_EQ(exit_code_for_error("stop", response(protocol::ErrorCode::failed)), kExitFailed);
  EXPECT_EQ(exit_code_for_error("status", response(protocol::ErrorCode::permission_denied)),
            kExitFailed);
  EXPECT_EQ(exit_code_for_error("status", response(protocol::ErrorCode::too_many_clients)),
            kExitUnreachable);
}

namespace {

struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

class GardienctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gardienctl-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/ctl.sock";
    target_.add("db", 1);
    target_.add("web", 2);
    target_.add("worker", 1, State::stopped, false);
    ControlOptions o;
    o.path = path_;
    server_ = std::make_unique<ControlServer>(loop_, o, commands_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool pump_until(const std::function<bool()>& done, Duration limit = 10s) {
    return gardien::testing::pump_until(loop_, done, limit);
  }

  // Runs the real gardienctl with `args` (after --socket PATH unless `own_socket`), running the
  // server's loop meanwhile. `meanwhile` is called with the child's pid on every loop turn.
  // With `terminal`, its stdout is a pseudo-terminal instead of a pipe.
  CtlResult ctl(std::vector<std::string> args, const std::function<void(pid_t)>& meanwhile = {},
                bool own_socket = false, bool terminal = false) {
    if (!own_socket) args.insert(args.begin(), {"--socket", path_});
    args.insert(args.begin(), GARDIENCTL_BIN);
    FdPair out, err;
    EXPECT_TRUE(make_pipe(out, O_NONBLOCK));
    EXPECT_TRUE(make_pipe(err, O_NONBLOCK));
    if (terminal) open_terminal(out);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out.write.get(), 1);
      ::dup2(err.write.get(), 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    out.write.reset();
    err.write.reset();
    CtlResult result;
    auto drain = [](int fd, std::string& into) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) into.append(buf, static_cast<std::size_t>(n));
    };
    int status = 0;
    bool exited = pump_until([&] {
      drain(out.read.get(), result.out);
      drain(err.read.get(), result.err);
      if (meanwhile) meanwhile(pid);
      return ::waitpid(pid, &status, WNOHANG) == pid;
    });
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "gardienctl did not exit";
    }
    drain(out.read.get(), result.out);
    drain(err.read.get(), result.err);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

  // Replaces `out` by a pseudo-terminal: read from the master, the child writes to the slave.
  static void open_terminal(FdPair& out) {
    Fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    ASSERT_TRUE(master) << std::strerror(errno);
    ASSERT_EQ(::grantpt(master.get()), 0);
    ASSERT_EQ(::unlockpt(master.get()), 0);
    Fd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    termios raw{};
    ::tcgetattr(slave.get(), &raw);
    ::cfmakeraw(&raw);  // no "\n" -> "\r\n"
    ::tcsetattr(slave.get(), TCSANOW, &raw);
    out.read = std::move(master);
    out.write = std::move(slave);
  }

  EventLoop loop_;
  FakeControlTarget target_{&loop_};
  Commands commands_{loop_, &target_};
  std::unique_ptr<ControlServer> server_;
  std::string dir_;
  std::string path_;
};

}  // namespace

TEST_F(GardienctlTest, StatusPrintsTheTableAndItsExitCode) {
  CtlResult r = ctl({"status"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "NAME    STATE    PID   UPTIME  RESTARTS  INFO");
  EXPECT_NE(r.out.find("web.1   running  4244  1h2m3s  0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("worker  stopped  -     -       0"), std::string::npos) << r.out;

  target_.find("web.1")->state = State::backoff;
  EXPECT_EQ(ctl({"status"}).code, kExitNotRunning);
  EXPECT_EQ(ctl({"status", "db"}).code, kExitOk);  // with names given, only those count

  r = ctl({"status", "db", "nope"});
  EXPECT_EQ(r.code, kExitUnknown);
  EXPECT_NE(r.err.find("unknown program or instance \"nope\""), std::string::npos) << r.err;
}

TEST_F(GardienctlTest, AnUnknownNameSuggestsTheClosestOne) {
  CtlResult r = ctl({"status", "wbe"});
  EXPECT_EQ(r.code, kExitUnknown);
  EXPECT_EQ(r.err, "gardienctl: unknown program or instance \"wbe\" (did you mean \"web\"?)\n");
  r = ctl({"stop", "web.3", "wroker"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err,
            "gardienctl: unknown programs or instances \"web.3\" (did you mean \"web.0\"?), "
            "\"wroker\" (did you mean \"worker\"?)\n");
  r = ctl({"stop", "zzzzzz"});
  EXPECT_EQ(r.err, "gardienctl: unknown program or instance \"zzzzzz\" (see gardienctl status)\n");
}

// Like `supervisorctl -c`: the socket comes from the daemon's own config.
TEST_F(GardienctlTest, TheSocketCanComeFromAConfig) {
  std::string config = dir_ + "/gardien.toml";
  std::ofstream(config) << "[supervisor]\nsocket = \"ctl.sock\"\n[program.web]\ncommand = "
                           "\"true\"\n";
  CtlResult r = ctl({"-c", config, "pid"}, {}, true);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, std::to_string(::getpid()) + "\n");

  std::ofstream(config) << "[supervisor]\nsocket = 7\n";
  r = ctl({"-c", config, "pid"}, {}, true);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("supervisor.socket: expected a path"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot take the socket path from this config"), std::string::npos) << r.err;
  r = ctl({"-c", dir_ + "/missing.toml", "pid"}, {}, true);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("cannot read the config file: No such file or directory"), std::string::npos)
      << r.err;
}

// A program's text (here an exec error in INFO) cannot drive the user's terminal.
TEST_F(GardienctlTest, ControlCharactersReachATerminalEscaped) {
  target_.find("worker")->info = "exec \x1b]0;pwned\x07: not found";
  CtlResult piped = ctl({"status", "worker"});
  EXPECT_NE(piped.out.find("exec \x1b]0;pwned\x07: not found"), std::string::npos) << piped.out;
  CtlResult on_terminal = ctl({"status", "worker"}, {}, false, true);
  EXPECT_EQ(on_terminal.out.find('\x1b'), std::string::npos) << on_terminal.out;
  EXPECT_NE(on_terminal.out.find("exec \\x1b]0;pwned\\x07: not found"), std::string::npos)
      << on_terminal.out;
}

TEST_F(GardienctlTest, JsonPrintsTheDaemonsLines) {
  for (auto args :
       std::vector<std::vector<std::string>>{{"--json", "status"}, {"status", "--json"}}) {
    CtlResult r = ctl(args);
    EXPECT_EQ(r.code, kExitOk);
    json line = json::parse(r.out);
    EXPECT_EQ(line.at("ok"), true);
    EXPECT_EQ(line.at("result").at("instances").size(), 4u);
  }
  CtlResult start = ctl({"start", "worker", "--json"});
  EXPECT_EQ(start.code, kExitOk) << start.err;
  std::istringstream lines(start.out);
  std::string first, last;
  std::getline(lines, first);
  std::getline(lines, last);
  EXPECT_EQ(json::parse(first).at("more"), true);
  EXPECT_EQ(json::parse(last).at("result").at("instances")[0].at("state"), "running");
}

TEST_F(GardienctlTest, VersionAndPid) {
  CtlResult r = ctl({"version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "gardienctl " GARDIEN_VERSION "\ngardien " GARDIEN_VERSION " (protocol 1)\n");
  r = ctl({"pid"});
  EXPECT_EQ(r.out, std::to_string(::getpid()) + "\n");
  r = ctl({"pid", "web"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "4243\n4244\n");
  r = ctl({"pid", "worker"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("worker is not running"), std::string::npos) << r.err;
  r = ctl({"pid", "db", "web"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "4242\n4243\n4244\n");
  r = ctl({"pid", "db", "nope"});
  EXPECT_EQ(r.code, kExitFailed);
}

TEST_F(GardienctlTest, ActionsWaitAndPrintALinePerInstance) {
  CtlResult r = ctl({"start", "worker"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "worker: running (pid 4245)\n");

  r = ctl({"stop", "web"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "web.0: stopped\nweb.1: stopped\n");

  r = ctl({"restart", "db", "--no-wait"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "db: stopping (pid 4242)\n");

  r = ctl({"stop", "nope"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("\"nope\""), std::string::npos) << r.err;

  target_.spawn_fails = true;
  r = ctl({"start", "web.0"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.out.find("web.0 did not start: it is fatal (exec /nope: No such file or directory)"),
            std::string::npos)
      << r.out;
}

TEST_F(GardienctlTest, SignalAndWait) {
  CtlResult r = ctl({"signal", "HUP", "web"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "web.0: SIGHUP sent (pid 4243)\nweb.1: SIGHUP sent (pid 4244)\n");
  r = ctl({"signal", "TERM", "worker"});
  EXPECT_EQ(r.code, kExitFailed);

  r = ctl({"wait", "web", "--for", "running"});
  EXPECT_EQ(r.code, kExitOk);
  r = ctl({"wait", "worker", "--for", "running", "--timeout", "100ms"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("timed out after 100ms waiting for worker (stopped)"), std::string::npos)
      << r.err;
}

TEST_F(GardienctlTest, WaitForReady) {
  CtlResult r = ctl({"wait", "web", "--for", "ready"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "web.0: running (pid 4243)\nweb.1: running (pid 4244)\n");
  r = ctl({"wait", "all", "--for", "ready", "--timeout", "100ms"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.out.find("worker did not become ready in time: it is stopped"), std::string::npos)
      << r.out;
}

TEST_F(GardienctlTest, AStartThatTimesOutSaysWhatItWaitsForAndThatItGoesOn) {
  target_.start_waits_for = "db (fatal)";
  CtlResult r = ctl({"start", "worker", "--timeout", "100ms"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "worker did not start in time: it is stopped (waiting for db (fatal))\n");
  EXPECT_NE(r.err.find("timed out after 100ms waiting for worker (stopped)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("gardienctl: the start goes on in the daemon"), std::string::npos) << r.err;
}

TEST_F(GardienctlTest, CtrlCWhileWaitingLeavesTheActionGoing) {
  target_.auto_run = false;  // the start never gets to running
  bool sent = false;
  CtlResult r = ctl({"start", "worker"}, [&](pid_t pid) {
    if (!sent && target_.state_changes().listener_count() == 1) sent = ::kill(pid, SIGINT) == 0;
  });
  EXPECT_EQ(r.code, kExitInterrupted);
  EXPECT_NE(r.err.find("the start goes on in the daemon"), std::string::npos) << r.err;
  EXPECT_TRUE(pump_until([&] { return target_.state_changes().listener_count() == 0; }));
  EXPECT_EQ(target_.find("worker")->state, State::starting);
}

TEST_F(GardienctlTest, ReloadPrintsThePlanOrTheErrors) {
  protocol::ReloadPlan plan;
  plan.added = {"cron"};
  plan.unchanged = {"db", "web"};
  target_.reload_outcome = ReloadOutcome{plan, {}};
  CtlResult r = ctl({"reload", "--dry-run"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "would add cron\n2 programs unchanged (dry run: nothing was changed)\n");

  target_.reload_outcome = ReloadOutcome{
      std::nullopt,
      {{Diagnostic::Severity::error, "/etc/g.toml", 4, 9, "program.web.restart", "bad"}}};
  r = ctl({"reload"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err,
            "/etc/g.toml:4:9: program.web.restart: bad\n"
            "gardienctl: the new config has 1 error; nothing was changed\n");
}

TEST_F(GardienctlTest, ShutdownWaitsUntilTheDaemonIsGone) {
  Timer exit_later(loop_, [this] { server_.reset(); });
  target_.on_shutdown = [&] { exit_later.arm(100ms); };
  CtlResult r = ctl({"shutdown"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "gardien (pid " + std::to_string(::getpid()) +
                       ") is shutting down\ngardien has exited\n");
}

TEST_F(GardienctlTest, AnUnreachableDaemonHasItsOwnExitCode) {
  std::string missing = dir_ + "/missing.sock";
  CtlResult r = ctl({"--socket", missing, "status"}, {}, true);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("cannot connect to the daemon at " + missing), std::string::npos) << r.err;

  r = ctl({"--socket", dir_ + "/" + std::string(120, 'x'), "status"}, {}, true);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("too long"), std::string::npos) << r.err;

  std::string regular = dir_ + "/regular";
  std::ofstream(regular) << "not a socket\n";
  r = ctl({"--socket", regular, "status"}, {}, true);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.err, "gardienctl: cannot connect to the daemon at " + regular +
                       ": a regular file, not a socket (--socket, -c or GARDIEN_SOCKET must name "
                       "gardien's control socket)\n");
}

// A person reads a sentence, a script the daemon's answer.
TEST_F(GardienctlTest, ReopenLogsSaysHowManyFiles) {
  commands_.add(Verb{"reopen-logs", false, "reopen-logs: reopen the log files",
                     [](const protocol::Request&, Responder& responder) {
                       responder.reply({{"files", 3}});
                     }});
  CtlResult r = ctl({"reopen-logs"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "reopened 3 log files\n");
  EXPECT_EQ(r.err, "");
  r = ctl({"reopen-logs", "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out).at("result"), json({{"files", 3}})) << r.out;
}

// ---- Tasks: run, jobs, cancel, schedules; tasks and runs in status ----

namespace {

// 2026-06-01T10:15:00Z.
constexpr std::int64_t kJune1 = 1'780'308'900'000;

// Local times read the same on every machine.
class InUtc {
 public:
  InUtc() {
    if (const char* tz = std::getenv("TZ")) saved_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~InUtc() {
    if (saved_) {
      ::setenv("TZ", saved_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> saved_;
};

protocol::JobRecord finished_run() {
  protocol::JobRecord r;
  r.id = "migrate#12";
  r.task = "migrate";
  r.number = 12;
  r.state = protocol::JobState::finished;
  r.uid = 1000;
  r.queued_ms = kJune1;
  r.started_ms = kJune1 + 250;
  r.ended_ms = kJune1 + 2'750;
  r.attempts = 2;
  r.outcome = protocol::JobOutcome::failed;
  r.exit_code = 3;
  r.info = "exit code 3; 2 attempts";
  return r;
}

}  // namespace

TEST(GardienctlRender, LocalTimesAreAsCompactAsTheDayAllows) {
  InUtc utc;
  EXPECT_EQ(render_local_time(kJune1 + 3'000, kJune1), "10:15:03");
  EXPECT_EQ(render_local_time(kJune1, kJune1, false), "10:15") << "a fire on the minute";
  EXPECT_EQ(render_local_time(kJune1 + 1'000, kJune1, false), "10:15:01");
  EXPECT_EQ(render_local_time(kJune1 + 86'400'000, kJune1), "Jun 02 10:15:00");
  EXPECT_EQ(render_local_time(kJune1 + 366LL * 86'400'000, kJune1, false), "2027-06-02 10:15");
}

TEST(GardienctlRender, StatusShowsTasksWithTheirNextFireAndRunsUnderThem) {
  InUtc utc;
  protocol::InstanceStatus task{"migrate", "migrate", State::running, {}, {}, 0, "", false, {}};
  task.kind = protocol::InstanceKind::task;
  task.next_fire_ms = kJune1 + 60'000;
  protocol::InstanceStatus run{"migrate#12", "migrate", State::running, 77, Duration(4'000), 0, "",
                               true,         {}};
  run.kind = protocol::InstanceKind::run;
  protocol::InstanceStatus db{"db", "db", State::running, 812, Duration(3'000), 0, "", true, {}};
  EXPECT_EQ(render_status_table({db, task, run}, kJune1),
            "NAME          STATE    PID  UPTIME  RESTARTS  INFO\n"
            "db            running  812  3s      0\n"
            "migrate       running  -    -       0         next 10:16\n"
            "  migrate#12  running  77   4s      0\n");

  // Tasks and runs never make status exit 3, whatever their state.
  task.state = State::stopped;
  task.wanted = true;
  run.state = State::stopping;
  EXPECT_EQ(status_exit_code({db, task, run}), kExitOk);
  db.state = State::backoff;
  EXPECT_EQ(status_exit_code({db, task, run}), kExitNotRunning);
}

TEST(GardienctlRender, JobsTableAndJobLines) {
  InUtc utc;
  protocol::JobRecord done = finished_run();
  protocol::JobRecord running;
  running.id = "backup#3";
  running.task = "backup";
  running.state = protocol::JobState::running;
  running.source = protocol::JobSource::schedule;
  running.queued_ms = kJune1 + 60'000;
  running.started_ms = kJune1 + 60'000;
  running.attempts = 1;
  running.pid = 4321;
  protocol::JobRecord queued;
  queued.id = "backup#4";
  queued.task = "backup";
  queued.source = protocol::JobSource::start;
  queued.queued_ms = kJune1 - 86'400'000;
  EXPECT_EQ(render_jobs_table({done, running, queued}, kJune1 + 75'000),
            "ID          STATE     OUTCOME                          QUEUED           STARTED   "
            "DURATION  ATTEMPTS  BY\n"
            "migrate#12  finished  failed: exit code 3; 2 attempts  10:15:00         10:15:00  "
            "2.5s      2         uid 1000\n"
            "backup#3    running   pid 4321                         10:16:00         10:16:00  "
            "15s       1         schedule\n"
            "backup#4    queued    -                                May 31 10:15:00  -         "
            "-         0         start\n");
  EXPECT_EQ(render_jobs_table({}, kJune1),
            "ID  STATE  OUTCOME  QUEUED  STARTED  DURATION  ATTEMPTS  BY\n");

  EXPECT_EQ(render_job_line(done), "migrate#12 failed: exit code 3; 2 attempts");
  EXPECT_EQ(render_job_line(running), "backup#3 running (pid 4321)");
  EXPECT_EQ(render_job_line(queued), "backup#4 queued");
  done.info.clear();
  done.exit_code.reset();
  done.signal = 9;
  EXPECT_EQ(render_job_line(done), "migrate#12 failed: signal 9");
}

TEST(GardienctlRender, SchedulesTable) {
  InUtc utc;
  std::vector<protocol::TaskSchedule> list = {
      {"backup", "*/15 * * * *", "Europe/Paris", {kJune1, kJune1 + 900'000}},
      {"report", "@daily", "UTC", {kJune1 + 50'400'000}},
  };
  EXPECT_EQ(render_schedules_table(list, kJune1 - 5'000),
            "TASK    SCHEDULE      ZONE          NEXT FIRES\n"
            "backup  */15 * * * *  Europe/Paris  10:15, 10:30\n"
            "report  @daily        UTC           Jun 02 00:15\n");
}

TEST(GardienctlCli, TaskVerbsBecomeRequests) {
  Parsed p = parse({"run", "migrate", "--wait", "--timeout", "5s", "--", "--to", "v3"});
  ASSERT_TRUE(p.command_line.invocation) << p.err;
  EXPECT_EQ(p.inv().verb, "run");
  EXPECT_EQ(
      p.inv().args,
      json({{"task", "migrate"}, {"args", {"--to", "v3"}}, {"wait", true}, {"timeout_ms", 5000}}));
  p = parse({"run", "migrate"});
  EXPECT_EQ(p.inv().args, json({{"task", "migrate"}})) << "no wait, no timeout by default";
  p = parse({"run", "migrate", "--timeout", "5s"});
  EXPECT_EQ(p.command_line.exit_code, kExitUsage);
  EXPECT_NE(p.err.find("--timeout is for --wait"), std::string::npos) << p.err;
  p = parse({"run", "migrate", "--to", "v3"});
  EXPECT_EQ(p.command_line.exit_code, kExitUsage) << "its arguments go after --";
  EXPECT_EQ(parse({"run"}).command_line.exit_code, kExitUsage);

  EXPECT_EQ(parse({"jobs"}).inv().args, json({{"queued_limit", 100}}));
  EXPECT_EQ(parse({"jobs", "migrate"}).inv().args,
            json({{"task", "migrate"}, {"queued_limit", 100}}));
  EXPECT_EQ(parse({"jobs", "--all"}).inv().args, json::object()) << "every queued run";
  EXPECT_EQ(parse({"cancel", "migrate#12"}).inv().args, json({{"target", "migrate#12"}}));
  EXPECT_EQ(parse({"cancel"}).command_line.exit_code, kExitUsage);
  EXPECT_EQ(parse({"schedules", "backup", "-n", "3"}).inv().args,
            json({{"task", "backup"}, {"count", 3}}));
  for (const char* n : {"0", "101", "x", "-1"}) {
    Parsed bad = parse({"schedules", "-n", n});
    EXPECT_EQ(bad.command_line.exit_code, kExitUsage) << n;
  }
}

TEST_F(GardienctlTest, RunPrintsTheIdAndWithWaitExitsWithTheRunsCode) {
  target_.add_task("migrate");
  target_.runs_at_once = false;
  CtlResult r = ctl({"run", "migrate", "--", "--to", "v3"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "migrate#1 queued\n");
  EXPECT_EQ(target_.job("migrate#1")->args, (std::vector<std::string>{"--to", "v3"}));
  EXPECT_EQ(target_.job("migrate#1")->uid, static_cast<std::int64_t>(::getuid()));

  struct Ending {
    protocol::JobOutcome outcome;
    std::optional<int> exit_code;
    std::optional<int> signal;
    int expected;
    const char* line;
  };
  const Ending endings[] = {
      {protocol::JobOutcome::succeeded, 0, {}, 0, "succeeded"},
      {protocol::JobOutcome::failed, 3, {}, 3, "failed: exit code 3"},
      {protocol::JobOutcome::failed, {}, 9, 137, "failed: signal 9"},
      {protocol::JobOutcome::timed_out, {}, 9, 124, "timed out: signal 9"},
      {protocol::JobOutcome::cancelled, {}, {}, 125, "cancelled"},
      {protocol::JobOutcome::failed_to_start, {}, {}, 126, "failed to start"},
  };
  int number = 1;
  for (const Ending& e : endings) {
    std::string id = "migrate#" + std::to_string(++number);
    bool ended = false;
    r = ctl({"run", "migrate", "--wait"}, [&](pid_t) {
      if (ended || target_.state_changes().listener_count() != 1) return;
      target_.start_run(id);
      target_.finish_run(id, e.outcome, e.exit_code, e.signal);
      ended = true;
    });
    EXPECT_EQ(r.code, e.expected) << e.line << ": " << r.err;
    EXPECT_EQ(r.out, id + " queued\n" + id + " " + e.line + "\n");
  }
}

TEST_F(GardienctlTest, RunWaitThatRunsOutOfTimeSaysTheRunGoesOn) {
  target_.add_task("migrate");
  target_.runs_at_once = false;
  CtlResult r = ctl({"run", "migrate", "--wait", "--timeout", "100ms"});
  EXPECT_EQ(r.code, kExitFailed) << "the convention of every wait that ran out of time";
  EXPECT_EQ(r.out, "migrate#1 queued\n");
  EXPECT_NE(r.err.find("timed out after 100ms waiting for migrate#1 (queued)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the run goes on in the daemon"), std::string::npos) << r.err;

  r = ctl({"run", "nosuch"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("unknown task \"nosuch\""), std::string::npos) << r.err;
}

TEST_F(GardienctlTest, JobsCancelAndSchedules) {
  target_.add_task("migrate");
  target_.add_task("backup", "*/15 * * * *");
  target_.runs_at_once = false;
  ctl({"run", "migrate"});
  ctl({"run", "backup"});
  target_.start_run("backup#1");

  CtlResult r = ctl({"jobs"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("ID         STATE    OUTCOME   QUEUED ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" DURATION "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ATTEMPTS  BY\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("migrate#1  queued "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backup#1   running  pid 4245"), std::string::npos) << r.out;
  r = ctl({"jobs", "backup", "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out).at("result").at("jobs").size(), 1u) << r.out;
  r = ctl({"jobs", "bakup"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("did you mean \"backup\"?"), std::string::npos) << r.err;

  r = ctl({"status"});
  EXPECT_EQ(r.code, kExitOk) << "tasks and runs do not count: " << r.out;
  EXPECT_NE(r.out.find("\n  backup#1  running"), std::string::npos) << r.out;

  r = ctl({"cancel", "backup"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "backup#1 cancelled\n");
  r = ctl({"cancel", "backup#1"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("no queued or running run"), std::string::npos) << r.err;

  r = ctl({"schedules", "-n", "2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "TASK    SCHEDULE      ZONE          NEXT FIRES");
  EXPECT_NE(r.out.find("backup  */15 * * * *  Europe/Paris  "), std::string::npos) << r.out;
  r = ctl({"schedules", "--json"});
  EXPECT_EQ(json::parse(r.out).at("result").at("schedules")[0].at("next_ms").size(), 5u);
}
