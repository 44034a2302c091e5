#include "supervisord/orchestrate/container_init.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "output/output_test_util.h"
#include "supervisord/process/start_directory.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;

TEST(ContainerInit, ShellExitCodes) {
  EXPECT_EQ(shell_exit_code(ExitStatus::exited(0)), 0);
  EXPECT_EQ(shell_exit_code(ExitStatus::exited(42)), 42);
  EXPECT_EQ(shell_exit_code(ExitStatus::killed(SIGKILL)), 137);
  EXPECT_EQ(shell_exit_code(ExitStatus::killed(SIGTERM)), 143);
  EXPECT_EQ(spawn_failure_exit_code("exec x: No such file or directory (not found in PATH)"), 127);
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

TEST(ContainerInit, SigpipeFromAnotherProcessIsHandedOnAndOwnBrokenPipesAreNot) {
  EventLoop loop;
  int got = 0;
  {
    SentSigpipe sigpipe(loop, [&](int signo) {
      EXPECT_EQ(signo, SIGPIPE);
      ++got;
    });
    // Our own broken pipe: the write fails with EPIPE, and its SIGPIPE is dropped.
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::close(fds[0]);
    EXPECT_EQ(::write(fds[1], "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    ::close(fds[1]);
    testing::run_until(
        loop, [] { return false; }, 100ms);
    EXPECT_EQ(got, 0);
    // `kill -PIPE` from another process.
    pid_t parent = ::getpid();
    pid_t child = ::fork();
    if (child == 0) ::_exit(::kill(parent, SIGPIPE) == 0 ? 0 : 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(testing::run_until(
        loop, [&] { return got == 1; }, 5s));
  }
  sigset_t mask;
  ::sigprocmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGPIPE)) << "unblocked again once gone";
}

TEST(ContainerInit, StopSignalsBecomeSigstopForACommandInASessionOfItsOwn) {
  EXPECT_EQ(signal_for_own_session(SIGTSTP), SIGSTOP);
  EXPECT_EQ(signal_for_own_session(SIGTTIN), SIGSTOP);
  EXPECT_EQ(signal_for_own_session(SIGTTOU), SIGSTOP);
  EXPECT_EQ(signal_for_own_session(SIGCONT), SIGCONT);
  EXPECT_EQ(signal_for_own_session(SIGHUP), SIGHUP);
}

TEST(ContainerInit, LeavingTheStartDirectoryRemembersIt) {
  testing::TempDir dir;
  // In a child: the working directory and the recorded one are the whole process's.
  pid_t child = ::fork();
  if (child == 0) {
    std::filesystem::current_path(dir.path());
    record_start_directory();
    leave_start_directory();
    bool ok = std::filesystem::current_path() == "/" && start_directory() == dir.path().string();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace gardien
