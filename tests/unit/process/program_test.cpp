// One instance (Program) on a fake host: no process is created, the clock moves only when the
// test says, and each exit, leftover and signal is scripted and recorded.
#include "supervisord/process/program.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "process/fake_process_host.h"
#include "process/lifecycle_driver.h"
#include "supervisord/process/process_host.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using lifecycle_testing::test_config;
using process_testing::FakeHost;

int exit_code(int code) {
  return code << 8;  // a waitpid status
}

struct Instance {
  explicit Instance(ProgramConfig config = test_config())
      : program(loop, host, std::move(config), "web",
                [this](Program& p, State before) { changes.emplace_back(before, p.state()); }) {}

  void bring_up() {
    program.start();
    host.advance(program.config().start_seconds);
    ASSERT_EQ(program.state(), State::running);
  }

  EventLoop loop;
  FakeHost host;
  std::vector<std::pair<State, State>> changes;
  Program program;
};

TEST(Program, SpawnsThenRunsOnceStartSecondsPass) {
  Instance i;
  i.program.start();
  EXPECT_EQ(i.program.state(), State::starting);
  ASSERT_EQ(i.host.plans.size(), 1u);
  EXPECT_EQ(i.host.plans[0].argv, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(i.program.pid(), 1000);
  i.host.advance(999ms);
  EXPECT_EQ(i.program.state(), State::starting);
  i.host.advance(1ms);
  EXPECT_EQ(i.program.state(), State::running);
  EXPECT_EQ(i.changes, (std::vector<std::pair<State, State>>{{State::stopped, State::starting},
                                                             {State::starting, State::running}}));
}

TEST(Program, AnExitBacksOffThenRespawns) {
  Instance i;
  i.bring_up();
  i.host.advance(10s);
  i.host.reap(1000, exit_code(1));
  EXPECT_EQ(i.program.state(), State::backoff);
  EXPECT_EQ(i.program.pid(), 0);
  EXPECT_EQ(i.program.status().last_run, RunOutcome::exited);
  i.host.advance(999ms);
  EXPECT_EQ(i.host.plans.size(), 1u);
  i.host.advance(1ms);
  EXPECT_EQ(i.program.state(), State::starting);
  EXPECT_EQ(i.host.plans.size(), 2u);
  EXPECT_EQ(i.program.pid(), 1001);
  EXPECT_EQ(i.program.status().restarts, 1);
}

TEST(Program, AStartTimerThatFindsTheMainDeadWaitsForItsExit) {
  Instance i;
  i.program.start();
  i.host.die(1000);  // exited, its SIGCHLD not handled yet
  i.host.advance(1s);
  EXPECT_EQ(i.program.state(), State::starting) << "a dead process is not running";
  i.host.reap(1000, exit_code(2));
  EXPECT_EQ(i.program.state(), State::backoff);
  EXPECT_EQ(i.program.status().failed_starts, 1);
  EXPECT_EQ(i.program.status().last_run, RunOutcome::failed_to_start);
}

TEST(Program, StopSendsTheStopSignalThenSigkillAfterTheGrace) {
  Instance i;
  i.bring_up();
  i.program.stop();
  EXPECT_EQ(i.program.state(), State::stopping);
  EXPECT_EQ(i.host.signals,
            (std::vector<std::pair<pid_t, int>>{{-1000, SIGTERM}, {-1000, SIGCONT}}));
  i.host.advance(5s - 1ms);
  EXPECT_FALSE(i.host.got(-1000, SIGKILL));
  i.host.advance(1ms);
  EXPECT_TRUE(i.host.got(-1000, SIGKILL));
  i.host.reap(1000, SIGKILL);
  EXPECT_EQ(i.program.state(), State::stopped);
  EXPECT_EQ(i.program.status().last_run, RunOutcome::stopped_by_operator);
  EXPECT_EQ(i.host.signals.size(), 3u) << "a pid is never signalled once reaped";
}

TEST(Program, KillModeProcessAsksTheMainOnly) {
  ProgramConfig c = test_config();
  c.kill_mode = KillMode::process;
  Instance i(c);
  i.bring_up();
  i.program.stop();
  EXPECT_EQ(i.host.signals, (std::vector<std::pair<pid_t, int>>{{1000, SIGTERM}, {1000, SIGCONT}}));
  i.host.advance(5s);
  EXPECT_TRUE(i.host.got(-1000, SIGKILL)) << "the grace's end kills the whole group";
}

TEST(Program, StopWithSendsItsOwnSignalOnlyToAProcessThatIsUp) {
  Instance i;
  i.bring_up();
  i.program.stop_with(SIGINT);
  EXPECT_EQ(i.host.signals,
            (std::vector<std::pair<pid_t, int>>{{-1000, SIGINT}, {-1000, SIGCONT}}));
  i.host.advance(5s);
  EXPECT_TRUE(i.host.got(-1000, SIGKILL));
  i.host.reap(1000, SIGKILL);

  i.program.start();  // the next stop is an ordinary one again
  i.host.advance(1s);
  i.program.stop();
  EXPECT_TRUE(i.host.got(-1001, SIGTERM));

  Instance b;  // in backoff there is nothing to signal: the stop just ends the wait
  b.bring_up();
  b.host.reap(1000, exit_code(1));
  b.program.stop_with(SIGQUIT);
  EXPECT_EQ(b.program.state(), State::stopped);
  EXPECT_TRUE(b.host.signals.empty());
}

TEST(Program, LeftoversAreStoppedBeforeTheExitCounts) {
  Instance i;
  i.bring_up();
  i.host.groups[1000].insert(2000);  // a child the main left behind
  i.host.advance(10s);
  i.host.reap(1000, exit_code(3));
  EXPECT_EQ(i.program.state(), State::stopping);
  EXPECT_TRUE(i.host.got(-1000, SIGTERM));
  EXPECT_TRUE(i.host.got(-1000, SIGCONT));
  EXPECT_EQ(i.host.plans.size(), 1u) << "no restart beside what is left";
  i.host.advance(100ms);
  EXPECT_EQ(i.program.state(), State::stopping);
  i.host.die(2000);
  i.host.advance(50ms);  // the group poll sees it empty
  EXPECT_EQ(i.program.state(), State::backoff);
  EXPECT_EQ(i.program.status().last_exit, ExitStatus::exited(3));
}

TEST(Program, LeftoversOutlivingTheGraceAreKilledAgainUntilGone) {
  Instance i;
  i.bring_up();
  i.host.groups[1000].insert(2000);
  i.host.reap(1000, exit_code(0));
  i.host.advance(5s);
  auto kills = [&] {
    return std::count(i.host.signals.begin(), i.host.signals.end(),
                      std::pair<pid_t, int>{-1000, SIGKILL});
  };
  EXPECT_EQ(kills(), 1);
  i.host.advance(100ms);
  EXPECT_GE(kills(), 2) << "a process forked during the kill is killed too";
  i.host.die(2000);
  i.program.recheck_group();  // after a reaping: the look just before was too recent, so later
  i.host.advance(Program::kGroupLookInterval);
  EXPECT_EQ(i.program.state(), State::exited);
}

TEST(Program, AReloadsSettingsApplyFromTheNextSpawn) {
  Instance i;
  i.bring_up();
  ProgramConfig next = test_config();
  next.stop_signal = SIGINT;
  next.command = {"/bin/sh", "-c", "exit 0"};
  i.program.replace_config(next);
  EXPECT_EQ(i.program.config().stop_signal, SIGTERM) << "the running process keeps its settings";
  i.program.restart();
  EXPECT_TRUE(i.host.got(-1000, SIGTERM)) << "stopped with the settings it was started with";
  i.host.reap(1000, SIGTERM);
  EXPECT_EQ(i.program.state(), State::starting);
  ASSERT_EQ(i.host.plans.size(), 2u);
  EXPECT_EQ(i.host.plans[1].argv, next.command);
  EXPECT_EQ(i.program.config().stop_signal, SIGINT);

  Instance s;  // no process: at once
  s.program.replace_config(next);
  EXPECT_EQ(s.program.config().stop_signal, SIGINT);
}

TEST(Program, HoldRestartsMakesTheNextExitFinal) {
  ProgramConfig c = test_config();
  c.restart = RestartPolicy::always;
  Instance i(c);
  i.bring_up();
  i.program.hold_restarts();
  EXPECT_FALSE(i.program.status().restarts_allowed);
  i.host.reap(1000, exit_code(1));
  EXPECT_EQ(i.program.state(), State::exited);
  i.host.advance(1min);
  EXPECT_EQ(i.host.plans.size(), 1u);
}

TEST(Program, ADeadlineRunsAlongsideStartSeconds) {
  Instance i;
  i.program.set_run_deadline(3s);
  i.program.start();
  i.host.advance(1s);
  EXPECT_EQ(i.program.state(), State::running) << "start-seconds ended on its own timer";
  i.host.advance(2s - 1ms);
  EXPECT_EQ(i.program.state(), State::running);
  i.host.advance(1ms);
  EXPECT_EQ(i.program.state(), State::stopping);
  EXPECT_TRUE(i.host.got(-1000, SIGTERM));
  i.host.reap(1000, SIGTERM);
  EXPECT_EQ(i.program.state(), State::backoff) << "a run past its deadline failed";
  EXPECT_EQ(i.program.status().last_run, RunOutcome::timed_out);
  EXPECT_NE(i.program.status().reason.find("timed out after 3s"), std::string::npos)
      << i.program.status().reason;

  Instance early;  // a deadline before start-seconds: the start timer goes with the run
  early.program.set_run_deadline(500ms);
  early.program.start();
  early.host.advance(500ms);
  EXPECT_EQ(early.program.state(), State::stopping);
  early.host.advance(700ms);
  EXPECT_EQ(early.program.state(), State::stopping) << "start-seconds was cancelled";
  early.program.stop();  // an operator's stop on top does not make it an operator's
  early.host.reap(1000, SIGTERM);
  EXPECT_EQ(early.program.state(), State::stopped);
  EXPECT_EQ(early.program.status().last_run, RunOutcome::timed_out);
}

TEST(Program, ASpawnFailureIsAFailedStartUnlessTheDaemonRanOut) {
  Instance i;
  i.host.spawn_error = "exec /nope: No such file or directory";
  i.program.start();
  EXPECT_EQ(i.program.state(), State::backoff);
  EXPECT_EQ(i.program.status().failed_starts, 1);
  EXPECT_EQ(i.program.status().reason, "exec /nope: No such file or directory");

  Instance r;
  r.host.spawn_error = "cannot create a pipe: Too many open files";
  r.host.spawn_errno = EMFILE;
  r.program.start();
  EXPECT_EQ(r.program.state(), State::backoff);
  EXPECT_EQ(r.program.status().failed_starts, 0);
  r.host.spawn_error.reset();
  r.host.advance(1s);
  EXPECT_EQ(r.program.state(), State::starting);
}

TEST(Program, SendSignalReachesTheMainThenWhatItLeft) {
  Instance i;
  std::string error;
  EXPECT_FALSE(i.program.send_signal(SIGHUP, false, error));
  EXPECT_EQ(error, "it has no process (state stopped)");
  i.bring_up();
  EXPECT_TRUE(i.program.send_signal(SIGHUP, false, error));
  EXPECT_TRUE(i.host.got(1000, SIGHUP));
  i.host.groups[1000].insert(2000);
  i.host.reap(1000, exit_code(0));
  EXPECT_TRUE(i.program.send_signal(SIGUSR1, false, error));
  EXPECT_TRUE(i.host.got(-1000, SIGUSR1));
}

}  // namespace
}  // namespace gardien
