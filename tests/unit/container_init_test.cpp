#include "supervisord/container_init.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

namespace gardien {
namespace {

using namespace std::chrono_literals;

TEST(ContainerInit, ShellExitCodes) {
  EXPECT_EQ(shell_exit_code(ExitStatus::exited(0)), 0);
  EXPECT_EQ(shell_exit_code(ExitStatus::exited(42)), 42);
  EXPECT_EQ(shell_exit_code(ExitStatus::killed(SIGKILL)), 137);
  EXPECT_EQ(shell_exit_code(ExitStatus::killed(SIGTERM)), 143);
  EXPECT_EQ(spawn_failure_exit_code("exec x: No such file or directory (searched PATH=/bin)"), 127);
  EXPECT_EQ(spawn_failure_exit_code("exec /etc/passwd: Permission denied"), 126);
  EXPECT_EQ(spawn_failure_exit_code("exec /bin/x: Exec format error"), 126);

  LifecycleStatus s;
  s.state = State::fatal;
  s.reason = "exec x: No such file or directory; not retried: restart = never";
  EXPECT_EQ(exit_code_of(s), 127);
  s.reason = "exit code 3 during start; gave up after 4 failed starts";
  s.last_exit = ExitStatus::exited(3);
  EXPECT_EQ(exit_code_of(s), 3);
  s.state = State::exited;
  s.reason = "killed by SIGSEGV";
  s.last_exit = ExitStatus::killed(SIGSEGV);
  EXPECT_EQ(exit_code_of(s), 128 + SIGSEGV);
  EXPECT_EQ(exit_code_of(LifecycleStatus{}), 1) << "never ran";
}

TEST(ContainerInit, SignalsCoverEveryCatchableAsynchronousOne) {
  auto sigs = daemon_signals();
  auto has = [&](int s) { return std::find(sigs.begin(), sigs.end(), s) != sigs.end(); };
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT,
                SIGPWR, SIGRTMIN, SIGRTMAX})
    EXPECT_TRUE(has(s)) << s;
  for (int s :
       {SIGCHLD, SIGPIPE, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTTIN, SIGTTOU})
    EXPECT_FALSE(has(s)) << s;
}

TEST(ContainerInit, SingleCommandConfig) {
  Config c = single_command_config({"sleep", "1"}, 3s, true);
  ASSERT_EQ(c.programs.size(), 1u);
  const ProgramConfig& p = c.programs[0];
  EXPECT_EQ(p.name, kCommandProgram);
  EXPECT_EQ(p.restart, RestartPolicy::never);
  EXPECT_TRUE(p.critical);
  EXPECT_EQ(p.stop_timeout, 3s);
  EXPECT_EQ(c.supervisor.shutdown_timeout, 3s);
  EXPECT_EQ(p.kill_mode, KillMode::group);
  EXPECT_EQ(p.stdout_sink.kind, OutputSink::Kind::inherit);
  EXPECT_EQ(single_command_config({"x"}, 1s, false).programs[0].kill_mode, KillMode::process);
}

TEST(ContainerInit, LongestStopChainFollowsDependencies) {
  Config c;
  auto add = [&](std::string name, Duration stop, std::vector<std::string> deps) {
    ProgramConfig p;
    p.name = std::move(name);
    p.stop_timeout = stop;
    p.depends_on = std::move(deps);
    c.programs.push_back(std::move(p));
  };
  add("db", 10s, {});
  add("cache", 2s, {});
  add("web", 5s, {"db", "cache"});
  add("proxy", 3s, {"web"});
  add("lonely", 15s, {});
  StopChain chain = longest_stop_chain(c);
  EXPECT_EQ(chain.total, 18s);  // proxy 3 + web 5 + db 10
  EXPECT_EQ(chain.programs, (std::vector<std::string>{"proxy", "web", "db"}));
  c.programs.back().stop_timeout = 30s;
  EXPECT_EQ(longest_stop_chain(c).total, 30s);
  EXPECT_EQ(longest_stop_chain(Config{}).total, 0s);
}

}  // namespace
}  // namespace gardien
