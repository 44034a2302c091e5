// The state machine without processes: a fake clock, a fake spawner and a fake timer.
#include "supervisord/process/lifecycle.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <optional>

#include "process/lifecycle_driver.h"

namespace gardien {
namespace {

using namespace lifecycle_testing;

struct PairCase {
  State from;
  Kind event;
  bool legal;
  State to;
};

// Every (state, event) pair, on purpose.
const PairCase kPairs[] = {
    {State::stopped, Kind::start, true, State::starting},
    {State::stopped, Kind::stop, true, State::stopped},
    {State::stopped, Kind::restart, true, State::starting},
    {State::stopped, Kind::kill, true, State::stopped},
    {State::stopped, Kind::spawned, false, State::stopped},
    {State::stopped, Kind::spawn_failed, false, State::stopped},
    {State::stopped, Kind::exited, false, State::stopped},
    {State::stopped, Kind::timer, false, State::stopped},
    {State::stopped, Kind::hold_restarts, true, State::stopped},
    {State::stopped, Kind::group_empty, false, State::stopped},

    {State::starting, Kind::start, true, State::starting},
    {State::starting, Kind::stop, true, State::stopping},
    {State::starting, Kind::restart, true, State::stopping},
    {State::starting, Kind::kill, true, State::stopping},
    {State::starting, Kind::spawned, false, State::starting},  // already spawned
    {State::starting, Kind::spawn_failed, true, State::backoff},
    {State::starting, Kind::exited, true, State::backoff},  // exit code 1 during start
    {State::starting, Kind::timer, true, State::running},
    {State::starting, Kind::hold_restarts, true, State::starting},
    {State::starting, Kind::group_empty, false, State::starting},

    {State::running, Kind::start, true, State::running},
    {State::running, Kind::stop, true, State::stopping},
    {State::running, Kind::restart, true, State::stopping},
    {State::running, Kind::kill, true, State::stopping},
    {State::running, Kind::spawned, false, State::running},
    {State::running, Kind::spawn_failed, true, State::backoff},
    {State::running, Kind::exited, true, State::backoff},
    {State::running, Kind::timer, false, State::running},
    {State::running, Kind::hold_restarts, true, State::running},
    {State::running, Kind::group_empty, false, State::running},

    {State::backoff, Kind::start, true, State::starting},
    {State::backoff, Kind::stop, true, State::stopped},
    {State::backoff, Kind::restart, true, State::starting},
    {State::backoff, Kind::kill, true, State::stopped},
    {State::backoff, Kind::spawned, false, State::backoff},
    {State::backoff, Kind::spawn_failed, false, State::backoff},
    {State::backoff, Kind::exited, false, State::backoff},
    {State::backoff, Kind::timer, true, State::starting},
    {State::backoff, Kind::hold_restarts, true, State::backoff},
    {State::backoff, Kind::group_empty, false, State::backoff},

    {State::stopping, Kind::start, true, State::stopping},
    {State::stopping, Kind::stop, true, State::stopping},
    {State::stopping, Kind::restart, true, State::stopping},
    {State::stopping, Kind::kill, true, State::stopping},
    {State::stopping, Kind::spawned, false, State::stopping},
    {State::stopping, Kind::spawn_failed, true, State::stopped},
    {State::stopping, Kind::exited, true, State::stopped},
    {State::stopping, Kind::timer, true, State::stopping},  // SIGKILL
    {State::stopping, Kind::hold_restarts, true, State::stopping},
    {State::stopping, Kind::group_empty, true, State::stopping},  // main still alive: nothing yet

    {State::exited, Kind::start, true, State::starting},
    {State::exited, Kind::stop, true, State::exited},
    {State::exited, Kind::restart, true, State::starting},
    {State::exited, Kind::kill, true, State::exited},
    {State::exited, Kind::spawned, false, State::exited},
    {State::exited, Kind::spawn_failed, false, State::exited},
    {State::exited, Kind::exited, false, State::exited},
    {State::exited, Kind::timer, false, State::exited},
    {State::exited, Kind::hold_restarts, true, State::exited},
    {State::exited, Kind::group_empty, false, State::exited},

    {State::fatal, Kind::start, true, State::starting},
    {State::fatal, Kind::stop, true, State::fatal},
    {State::fatal, Kind::restart, true, State::starting},
    {State::fatal, Kind::kill, true, State::fatal},
    {State::fatal, Kind::spawned, false, State::fatal},
    {State::fatal, Kind::spawn_failed, false, State::fatal},
    {State::fatal, Kind::exited, false, State::fatal},
    {State::fatal, Kind::timer, false, State::fatal},
    {State::fatal, Kind::hold_restarts, true, State::fatal},
    {State::fatal, Kind::group_empty, false, State::fatal},

    // Reports from the program or its checks (here without `ready` or `watchdog` configured):
    // datagrams arrive late, so none is illegal; only an unhealthy running instance restarts.
    {State::stopped, Kind::ready, true, State::stopped},
    {State::stopped, Kind::unhealthy, true, State::stopped},
    {State::stopped, Kind::watchdog_ping, true, State::stopped},
    {State::stopped, Kind::extend_timeout, true, State::stopped},

    {State::starting, Kind::ready, true, State::starting},
    {State::starting, Kind::unhealthy, true, State::starting},
    {State::starting, Kind::watchdog_ping, true, State::starting},
    {State::starting, Kind::extend_timeout, true, State::starting},

    {State::running, Kind::ready, true, State::running},
    {State::running, Kind::unhealthy, true, State::stopping},
    {State::running, Kind::watchdog_ping, true, State::running},
    {State::running, Kind::extend_timeout, true, State::running},

    {State::backoff, Kind::ready, true, State::backoff},
    {State::backoff, Kind::unhealthy, true, State::backoff},
    {State::backoff, Kind::watchdog_ping, true, State::backoff},
    {State::backoff, Kind::extend_timeout, true, State::backoff},

    {State::stopping, Kind::ready, true, State::stopping},
    {State::stopping, Kind::unhealthy, true, State::stopping},
    {State::stopping, Kind::watchdog_ping, true, State::stopping},
    {State::stopping, Kind::extend_timeout, true, State::stopping},

    {State::exited, Kind::ready, true, State::exited},
    {State::exited, Kind::unhealthy, true, State::exited},
    {State::exited, Kind::watchdog_ping, true, State::exited},
    {State::exited, Kind::extend_timeout, true, State::exited},

    {State::fatal, Kind::ready, true, State::fatal},
    {State::fatal, Kind::unhealthy, true, State::fatal},
    {State::fatal, Kind::watchdog_ping, true, State::fatal},
    {State::fatal, Kind::extend_timeout, true, State::fatal},
};

TEST(Lifecycle, EveryStateEventPairIsHandledOnPurpose) {
  constexpr int kStates = static_cast<int>(protocol::kInstanceStates.size());
  constexpr int kEvents = LifecycleEvent::kKinds;
  bool seen[kStates][kEvents] = {};
  ProgramConfig config = test_config();
  for (const PairCase& c : kPairs) {
    SCOPED_TRACE(std::string(to_string(c.from)) + " + " + std::string(to_string(c.event)));
    seen[static_cast<int>(c.from)][static_cast<int>(c.event)] = true;
    LifecycleStatus before = status_in(c.from);
    LifecycleEvent e = ev(c.event);
    if (c.event == Kind::exited) e = exited(ExitStatus::exited(1));
    if (c.event == Kind::spawn_failed) e = spawn_failed("exec /x: No such file or directory");
    if (c.event == Kind::timer) e = LifecycleEvent::timer_fired(timer_of_state(c.from));
    LifecycleDecision d = decide(before, e, config, TimePoint{} + 2h);
    EXPECT_EQ(d.legal, c.legal) << d.why;
    EXPECT_EQ(d.next.state, c.to);
    if (!d.legal) {
      EXPECT_TRUE(d.actions.empty());
      EXPECT_FALSE(d.why.empty());
      EXPECT_NE(d.why.find(std::string(to_string(c.from))), std::string::npos) << d.why;
    }
  }
  for (int s = 0; s < kStates; ++s)
    for (int e = 0; e < kEvents; ++e)
      EXPECT_TRUE(seen[s][e]) << "pair not covered: " << s << "," << e;
}

TEST(Lifecycle, StartSpawnsThenRunsAfterStartSeconds) {
  Driver d;
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.spawns, 1);
  EXPECT_EQ(d.status.state, State::starting);
  EXPECT_TRUE(d.status.main_alive);
  ASSERT_TRUE(d.timer_due);
  EXPECT_EQ(*d.timer_due - d.now, 1s);
  d.fire_timer();
  EXPECT_EQ(d.status.state, State::running);
}

TEST(Lifecycle, StartSecondsZeroMeansRunningAtOnce) {
  Driver d;
  d.config.start_seconds = 0s;
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.status.state, State::running);
  EXPECT_FALSE(d.timer_due);
}

struct PolicyCase {
  RestartPolicy policy;
  ExitStatus exit;
  State expected;
};

TEST(Lifecycle, RestartPoliciesAgainstExitStatuses) {
  const PolicyCase cases[] = {
      {RestartPolicy::always, ExitStatus::exited(0), State::backoff},
      {RestartPolicy::always, ExitStatus::exited(2), State::backoff},
      {RestartPolicy::always, ExitStatus::killed(SIGKILL), State::backoff},
      {RestartPolicy::on_failure, ExitStatus::exited(0), State::exited},
      {RestartPolicy::on_failure, ExitStatus::exited(2), State::backoff},
      {RestartPolicy::on_failure, ExitStatus::killed(SIGTERM),
       State::backoff},  // not sent by gardien
      {RestartPolicy::never, ExitStatus::exited(0), State::exited},
      {RestartPolicy::never, ExitStatus::exited(2), State::exited},
      {RestartPolicy::never, ExitStatus::killed(SIGKILL), State::exited},
  };
  for (const PolicyCase& c : cases) {
    Driver d;
    d.config.restart = c.policy;
    d.bring_up();
    d.advance(10s);
    d.feed(exited(c.exit));
    SCOPED_TRACE(c.exit.to_string());
    EXPECT_EQ(d.status.state, c.expected);
    ASSERT_TRUE(d.status.last_exit);
    EXPECT_EQ(*d.status.last_exit, c.exit);
    if (c.expected == State::exited) {
      EXPECT_EQ(d.status.reason, c.exit.to_string());
      EXPECT_FALSE(d.timer_due);
    } else {
      EXPECT_EQ(d.status.restarts, 1);
      d.fire_timer();
      EXPECT_EQ(d.spawns, 2);
      EXPECT_EQ(d.status.state, State::starting);
    }
  }
}

TEST(Lifecycle, SuccessExitCodesAreNotFailures) {
  Driver d;
  d.config.success_exit_codes = {0, 3};
  d.bring_up();
  d.advance(10s);
  d.feed(exited(ExitStatus::exited(3)));
  EXPECT_EQ(d.status.state, State::exited);

  Driver e;
  e.config.success_exit_codes = {3};
  e.bring_up();
  e.advance(10s);
  e.feed(exited(ExitStatus::exited(0)));
  EXPECT_EQ(e.status.state, State::backoff);
}

TEST(Lifecycle, SuccessDuringStartFinishesUnlessAlways) {
  Driver d;
  d.feed(ev(Kind::start));
  d.advance(100ms);
  d.feed(exited(ExitStatus::exited(0)));
  EXPECT_EQ(d.status.state, State::exited);
  EXPECT_FALSE(d.timer_due);

  Driver a;
  a.config.restart = RestartPolicy::always;
  a.feed(ev(Kind::start));
  a.advance(100ms);
  a.feed(exited(ExitStatus::exited(0)));
  EXPECT_EQ(a.status.state, State::backoff);
  EXPECT_EQ(a.status.failed_starts, 1);
}

TEST(Lifecycle, SignalSentByGardienToStopIsNoFailure) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::stop));
  EXPECT_EQ(d.status.state, State::stopping);
  ASSERT_EQ(d.signals.size(), 1u);
  EXPECT_EQ(d.signals[0], Act::signal_stop);
  ASSERT_TRUE(d.timer_due);
  EXPECT_EQ(*d.timer_due - d.now, 5s);
  d.advance(10ms);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::stopped);
  EXPECT_FALSE(d.timer_due) << "the grace timer is cancelled the moment the stop completes";
  EXPECT_EQ(d.spawns, 1);
}

TEST(Lifecycle, GraceExpiryKillsTheGroupOnce) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::stop));
  d.fire_timer();
  EXPECT_EQ(d.status.state, State::stopping);
  ASSERT_EQ(d.signals.size(), 2u);
  EXPECT_EQ(d.signals[1], Act::kill_group);
  EXPECT_FALSE(d.timer_due);
  EXPECT_FALSE(d.feed(ev(Kind::timer)).legal);
  d.feed(exited(ExitStatus::killed(SIGKILL)));
  EXPECT_EQ(d.status.state, State::stopped);
}

TEST(Lifecycle, StopWaitsForTheGroupToEmpty) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::stop));
  d.feed(exited(ExitStatus::exited(0), /*group_empty=*/false));
  EXPECT_EQ(d.status.state, State::stopping);
  EXPECT_TRUE(d.watching_group);
  EXPECT_FALSE(d.status.main_alive);
  EXPECT_TRUE(d.timer_due) << "the grace timer still guards the group";
  d.fire_timer();  // the group outlives the grace: SIGKILL it
  EXPECT_EQ(d.signals.back(), Act::kill_group);
  d.feed(ev(Kind::group_empty));
  EXPECT_EQ(d.status.state, State::stopped);
}

TEST(Lifecycle, StopSignalsWhatTheMainLeftOnceItIsGone) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::stop));
  d.feed(exited(ExitStatus::exited(7), /*group_empty=*/false));
  // The group got the stop signal with the main, unless that was another signal (a forwarded
  // SIGINT, kill-mode = process): Program sends it only then.
  EXPECT_EQ(d.signals, (std::vector<Act>{Act::signal_stop, Act::signal_leftovers}));
  d.fire_timer();
  EXPECT_EQ(d.signals.back(), Act::kill_group);
  d.feed(ev(Kind::group_empty));
  EXPECT_EQ(d.status.state, State::stopped);
  EXPECT_EQ(d.status.last_exit, ExitStatus::exited(7));
}

TEST(Lifecycle, MainExitingWhileUpStopsWhatItLeftBeforeItsEndCounts) {
  struct Case {
    RestartPolicy restart;
    bool during_start;
    ExitStatus exit;
    State end;
  };
  const Case cases[] = {
      {RestartPolicy::never, false, ExitStatus::exited(0), State::exited},
      {RestartPolicy::on_failure, false, ExitStatus::exited(0), State::exited},
      {RestartPolicy::on_failure, false, ExitStatus::exited(3), State::backoff},
      {RestartPolicy::always, false, ExitStatus::exited(0), State::backoff},
      {RestartPolicy::on_failure, true, ExitStatus::exited(0), State::exited},
      {RestartPolicy::always, true, ExitStatus::exited(1), State::backoff},
      {RestartPolicy::never, true, ExitStatus::exited(1), State::fatal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.end)) + " " + c.exit.to_string());
    Driver d;
    d.config.restart = c.restart;
    d.feed(ev(Kind::start));
    if (!c.during_start) d.fire_timer();
    d.advance(10s);
    d.feed(exited(c.exit, /*group_empty=*/false));
    EXPECT_EQ(d.status.state, State::stopping);
    EXPECT_EQ(d.signals, std::vector<Act>{Act::signal_leftovers});
    EXPECT_TRUE(d.watching_group);
    ASSERT_TRUE(d.timer_due);
    EXPECT_EQ(*d.timer_due - d.now, d.config.stop_timeout);
    EXPECT_NE(d.status.reason.find(c.exit.to_string()), std::string::npos) << d.status.reason;
    EXPECT_NE(d.status.reason.find("stopping the processes it left"), std::string::npos);
    EXPECT_EQ(d.spawns, 1) << "no restart beside what is left";
    d.advance(50ms);
    d.feed(ev(Kind::group_empty));
    EXPECT_EQ(d.status.state, c.end);
    EXPECT_FALSE(d.status.pending_end);
    EXPECT_EQ(d.status.last_exit, c.exit);
    EXPECT_EQ(d.status.reason.find("stopping"), std::string::npos) << d.status.reason;
    if (c.end == State::backoff) {
      d.fire_timer();
      EXPECT_EQ(d.spawns, 2);
    }
  }
}

TEST(Lifecycle, LeftoversOutlivingTheStopTimeoutAreKilled) {
  Driver d;
  d.config.restart = RestartPolicy::always;
  d.bring_up();
  d.feed(exited(ExitStatus::exited(0), /*group_empty=*/false));
  d.fire_timer();
  EXPECT_EQ(d.signals, (std::vector<Act>{Act::signal_leftovers, Act::kill_group}));
  EXPECT_EQ(d.status.state, State::stopping);
  d.feed(ev(Kind::group_empty));
  EXPECT_EQ(d.status.state, State::backoff);
}

TEST(Lifecycle, OperatorOrdersDuringALeftoverStopWin) {
  Driver stop;
  stop.config.restart = RestartPolicy::always;
  stop.bring_up();
  stop.feed(exited(ExitStatus::exited(1), false));
  stop.feed(ev(Kind::stop));
  stop.feed(ev(Kind::group_empty));
  EXPECT_EQ(stop.status.state, State::stopped) << "stopped, not restarted";

  Driver restart;
  restart.config.restart = RestartPolicy::never;
  restart.bring_up();
  restart.feed(exited(ExitStatus::exited(0), false));
  restart.feed(ev(Kind::restart));
  EXPECT_EQ(restart.spawns, 1) << "never beside what is left";
  restart.feed(ev(Kind::group_empty));
  EXPECT_EQ(restart.status.state, State::starting);
  EXPECT_EQ(restart.spawns, 2);

  Driver shutdown;  // a forced shutdown: killed now, and the end is final
  shutdown.config.restart = RestartPolicy::always;
  shutdown.bring_up();
  shutdown.feed(exited(ExitStatus::exited(1), false));
  shutdown.status.restarts_allowed = false;
  shutdown.feed(ev(Kind::kill));
  EXPECT_EQ(shutdown.signals.back(), Act::kill_group);
  shutdown.feed(ev(Kind::group_empty));
  EXPECT_EQ(shutdown.status.state, State::exited);
}

TEST(Lifecycle, FailedExecLeavingProcessesIsStoppedThenCounted) {
  Driver d;
  d.config.start_retries = 1;
  d.feed(ev(Kind::start));
  LifecycleEvent failed = spawn_failed("exec /x: Permission denied");
  failed.group_empty = false;
  d.feed(failed);
  EXPECT_EQ(d.status.state, State::stopping);
  d.feed(ev(Kind::group_empty));
  EXPECT_EQ(d.status.state, State::backoff);
  EXPECT_NE(d.status.reason.find("Permission denied"), std::string::npos);
}

TEST(Lifecycle, ADaemonOutOfFdsRetriesWithBackoffAndNeverGivesUp) {
  Driver d;
  d.config.start_retries = 1;
  d.feed(ev(Kind::start));
  for (int attempt = 0; attempt < 5; ++attempt) {
    d.feed(LifecycleEvent::failure("cannot create a pipe: Too many open files", true, true));
    ASSERT_EQ(d.status.state, State::backoff) << "attempt " << attempt;
    EXPECT_EQ(d.status.failed_starts, 0);
    EXPECT_EQ(d.status.reason, "cannot create a pipe: Too many open files; retrying");
    d.fire_timer();
  }
  EXPECT_EQ(d.backoff_delays.back(), 8s) << "backoff grows as for any restart";
  d.fire_timer();
  EXPECT_EQ(d.status.state, State::running) << "fds came back";
}

TEST(Lifecycle, RestartStopsThenStartsAgain) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::restart));
  EXPECT_EQ(d.status.state, State::stopping);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::starting);
  EXPECT_EQ(d.spawns, 2);
  EXPECT_EQ(d.status.restarts, 0) << "operator restarts are not counted as policy restarts";

  Driver s;  // a stop during a restart's stop cancels the start
  s.bring_up();
  s.feed(ev(Kind::restart));
  s.feed(ev(Kind::stop));
  s.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(s.status.state, State::stopped);
}

TEST(Lifecycle, BackoffDoublesUpToTheCapAndResetsWhenHealthy) {
  Driver d;
  d.config.start_retries = 0;  // never give up
  d.config.restart = RestartPolicy::always;
  d.feed(ev(Kind::start));
  for (int i = 0; i < 6; ++i) {
    d.advance(200ms);
    d.feed(exited(ExitStatus::exited(1)));  // during start
    ASSERT_EQ(d.status.state, State::backoff);
    d.fire_timer();
  }
  std::vector<Duration> expected = {1s, 2s, 4s, 8s, 8s, 8s};
  EXPECT_EQ(d.backoff_delays, expected);
  EXPECT_EQ(d.status.restarts, 6);
  d.fire_timer();  // start-seconds healthy: the backoff resets
  EXPECT_EQ(d.status.state, State::running);
  d.advance(1h);
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.backoff_delays.back(), 1s);
}

TEST(Lifecycle, BackoffDelayFunction) {
  ProgramConfig c = test_config();
  c.backoff = 250ms;
  c.backoff_max = 1500ms;
  EXPECT_EQ(backoff_delay(c, 0), 250ms);
  EXPECT_EQ(backoff_delay(c, 1), 500ms);
  EXPECT_EQ(backoff_delay(c, 2), 1000ms);
  EXPECT_EQ(backoff_delay(c, 3), 1500ms);
  EXPECT_EQ(backoff_delay(c, 1000), 1500ms);
  c.backoff = 0s;
  EXPECT_EQ(backoff_delay(c, 5), 0s);
}

TEST(Lifecycle, StartRetriesThenFatal) {
  Driver d;
  d.config.start_retries = 3;
  d.feed(ev(Kind::start));
  for (int i = 0; i < 3; ++i) {
    d.advance(50ms);
    d.feed(exited(ExitStatus::exited(1)));
    ASSERT_EQ(d.status.state, State::backoff);
    d.fire_timer();
  }
  d.advance(50ms);
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.status.state, State::fatal);
  EXPECT_EQ(d.spawns, 4) << "N retries = N+1 spawns";
  EXPECT_NE(d.status.reason.find("exit code 1"), std::string::npos) << d.status.reason;
  EXPECT_NE(d.status.reason.find("gave up after 4 failed starts"), std::string::npos)
      << d.status.reason;
  EXPECT_FALSE(d.timer_due);
}

TEST(Lifecycle, StartRetriesZeroNeverGivesUp) {
  Driver d;
  d.config.start_retries = 0;
  d.spawn_error = "exec /nope: No such file or directory";
  d.feed(ev(Kind::start));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(d.status.state, State::backoff);
    d.fire_timer();
  }
  EXPECT_EQ(d.spawns, 51);
  EXPECT_EQ(d.status.reason, "exec /nope: No such file or directory");
}

TEST(Lifecycle, SpawnFailureBecomesAStateWithTheReason) {
  Driver d;
  d.config.start_retries = 2;
  d.spawn_error = "exec /usr/bin/x: No such file or directory";
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.status.state, State::backoff);
  EXPECT_EQ(d.status.reason, "exec /usr/bin/x: No such file or directory");
  d.fire_timer();
  d.fire_timer();
  EXPECT_EQ(d.status.state, State::fatal);
  EXPECT_EQ(d.spawns, 3);
  EXPECT_EQ(d.status.reason,
            "exec /usr/bin/x: No such file or directory; gave up after 3 failed starts");
}

TEST(Lifecycle, RestartNeverGivesUpAtTheFirstFailedStart) {
  Driver d;
  d.config.restart = RestartPolicy::never;
  d.spawn_error = "exec /nope: No such file or directory";
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.status.state, State::fatal);
  EXPECT_EQ(d.spawns, 1);
  EXPECT_EQ(d.status.reason, "exec /nope: No such file or directory; not retried: restart = never");
  EXPECT_FALSE(d.timer_due.has_value());
}

TEST(Lifecycle, InstantCrashesNeverSpin) {
  Driver d;
  d.config.backoff = 0s;
  d.config.start_seconds = 0s;
  d.config.restart = RestartPolicy::always;
  d.feed(ev(Kind::start));
  d.feed(exited(ExitStatus::exited(1)));  // at once
  ASSERT_EQ(d.status.state, State::backoff);
  EXPECT_EQ(d.backoff_delays.back(), kMinSpawnInterval);

  d.fire_timer();
  d.advance(1h);  // a long healthy run, then kill -9: replaced at once
  d.feed(exited(ExitStatus::killed(SIGKILL)));
  EXPECT_EQ(d.backoff_delays.back(), 0ms);
}

TEST(Lifecycle, StopDuringBackoffCancelsTheRestart) {
  Driver d;
  d.bring_up();
  d.advance(10s);
  d.feed(exited(ExitStatus::exited(1)));
  ASSERT_TRUE(d.timer_due);
  d.feed(ev(Kind::stop));
  EXPECT_EQ(d.status.state, State::stopped);
  EXPECT_FALSE(d.timer_due);
  EXPECT_TRUE(d.signals.empty()) << "no process: nothing to signal";
}

TEST(Lifecycle, ShutdownHoldsRestarts) {
  Driver d;
  d.config.restart = RestartPolicy::always;
  d.bring_up();
  d.status.restarts_allowed = false;
  d.advance(10s);
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.status.state, State::exited);
  EXPECT_EQ(d.spawns, 1);

  Driver r;  // a restart's start is dropped too
  r.bring_up();
  r.feed(ev(Kind::restart));
  r.status.restarts_allowed = false;
  r.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(r.status.state, State::stopped);
}

TEST(Lifecycle, KillIsImmediateAndOnlyOnce) {
  Driver d;
  d.bring_up();
  d.feed(ev(Kind::stop));
  d.feed(ev(Kind::kill));
  EXPECT_EQ(d.signals, (std::vector<Act>{Act::signal_stop, Act::kill_group}));
  EXPECT_FALSE(d.timer_due);
  d.feed(ev(Kind::kill));
  EXPECT_EQ(d.signals.size(), 2u);
  d.feed(exited(ExitStatus::killed(SIGKILL)));
  EXPECT_EQ(d.status.state, State::stopped);
}

TEST(Lifecycle, OperatorStartAfterFatalIsAFreshSeries) {
  LifecycleStatus fatal = status_in(State::fatal);
  Driver d;
  d.status = fatal;
  d.config.start_retries = 1;
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.status.failed_starts, 0);
  EXPECT_EQ(d.status.state, State::starting);
}

TEST(Lifecycle, IllegalMovesChangeNothing) {
  LifecycleStatus running = status_in(State::running);
  LifecycleDecision d = decide(running, ev(Kind::spawned), test_config(), TimePoint{});
  EXPECT_FALSE(d.legal);
  EXPECT_EQ(d.next.state, State::running);
  EXPECT_EQ(d.next.spawned_at, running.spawned_at);
  EXPECT_EQ(d.why, "spawned in state running: the process was already spawned");
}

TEST(Lifecycle, ExitStatusText) {
  EXPECT_EQ(ExitStatus::exited(3).to_string(), "exit code 3");
  EXPECT_EQ(ExitStatus::killed(SIGKILL).to_string(), "killed by SIGKILL");
  EXPECT_EQ(ExitStatus::from_wait_status(0x0100), ExitStatus::exited(1));
  EXPECT_EQ(ExitStatus::from_wait_status(SIGTERM), ExitStatus::killed(SIGTERM));
}

}  // namespace
}  // namespace gardien
