// The lifecycle's timers by kind, the outcome of a run, and the decisions Program used to make
// itself (the start timer's probe, holding restarts, a stop's own signal).
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <string>
#include <utility>

#include "process/lifecycle_driver.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using namespace lifecycle_testing;

struct TimerCase {
  State state;
  TimerKind timer;
  bool legal;
  State to;
};

// Every timer kind in every state, on purpose (a deadline is set, so that it can be armed).
const TimerCase kTimerPairs[] = {
    {State::stopped, TimerKind::start, false, State::stopped},
    {State::stopped, TimerKind::backoff, false, State::stopped},
    {State::stopped, TimerKind::grace, false, State::stopped},
    {State::stopped, TimerKind::deadline, false, State::stopped},
    {State::stopped, TimerKind::ready, false, State::stopped},
    {State::stopped, TimerKind::watchdog, false, State::stopped},

    {State::starting, TimerKind::start, true, State::running},
    {State::starting, TimerKind::backoff, false, State::starting},
    {State::starting, TimerKind::grace, false, State::starting},
    {State::starting, TimerKind::deadline, true, State::stopping},
    {State::starting, TimerKind::ready, false, State::starting},
    {State::starting, TimerKind::watchdog, false, State::starting},

    {State::running, TimerKind::start, false, State::running},
    {State::running, TimerKind::backoff, false, State::running},
    {State::running, TimerKind::grace, false, State::running},
    {State::running, TimerKind::deadline, true, State::stopping},
    {State::running, TimerKind::ready, false, State::running},
    {State::running, TimerKind::watchdog, false, State::running},

    {State::backoff, TimerKind::start, false, State::backoff},
    {State::backoff, TimerKind::backoff, true, State::starting},
    {State::backoff, TimerKind::grace, false, State::backoff},
    {State::backoff, TimerKind::deadline, false, State::backoff},
    {State::backoff, TimerKind::ready, false, State::backoff},
    {State::backoff, TimerKind::watchdog, false, State::backoff},

    {State::stopping, TimerKind::start, false, State::stopping},
    {State::stopping, TimerKind::backoff, false, State::stopping},
    {State::stopping, TimerKind::grace, true, State::stopping},  // SIGKILL
    {State::stopping, TimerKind::deadline, false, State::stopping},
    {State::stopping, TimerKind::ready, false, State::stopping},
    {State::stopping, TimerKind::watchdog, false, State::stopping},

    {State::exited, TimerKind::start, false, State::exited},
    {State::exited, TimerKind::backoff, false, State::exited},
    {State::exited, TimerKind::grace, false, State::exited},
    {State::exited, TimerKind::deadline, false, State::exited},
    {State::exited, TimerKind::ready, false, State::exited},
    {State::exited, TimerKind::watchdog, false, State::exited},

    {State::fatal, TimerKind::start, false, State::fatal},
    {State::fatal, TimerKind::backoff, false, State::fatal},
    {State::fatal, TimerKind::grace, false, State::fatal},
    {State::fatal, TimerKind::deadline, false, State::fatal},
    {State::fatal, TimerKind::ready, false, State::fatal},
    {State::fatal, TimerKind::watchdog, false, State::fatal},
};

TEST(Lifecycle, EveryTimerInEveryStateIsHandledOnPurpose) {
  std::set<std::pair<State, TimerKind>> seen;
  for (const TimerCase& c : kTimerPairs) {
    SCOPED_TRACE(std::string(to_string(c.state)) + " + " + std::string(to_string(c.timer)));
    seen.insert({c.state, c.timer});
    LifecycleStatus before = status_in(c.state);
    before.run_deadline = 30s;
    LifecycleDecision d =
        decide(before, LifecycleEvent::timer_fired(c.timer), test_config(), TimePoint{} + 2h);
    EXPECT_EQ(d.legal, c.legal) << d.why;
    EXPECT_EQ(d.next.state, c.to);
    if (!d.legal) {
      EXPECT_TRUE(d.actions.empty());
      EXPECT_NE(d.why.find(std::string(to_string(c.timer))), std::string::npos) << d.why;
    }
  }
  for (const auto& [state, name] : protocol::kInstanceStates)
    for (TimerKind timer : kTimerKinds)
      EXPECT_TRUE(seen.count({state, timer}))
          << "pair not covered: " << name << " + " << to_string(timer);
}

TEST(Lifecycle, NoDeadlineSetMeansADeadlineTimerIsIllegal) {
  LifecycleStatus running = status_in(State::running);
  LifecycleDecision d = decide(running, LifecycleEvent::timer_fired(TimerKind::deadline),
                               test_config(), TimePoint{} + 2h);
  EXPECT_FALSE(d.legal);
  EXPECT_EQ(d.why, "timer (deadline) in state running: no deadline is set");
}

TEST(Lifecycle, EachTimerIsArmedAndCancelledByItsKind) {
  Driver d;
  d.status.run_deadline = 10s;
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.armed.size(), 2u) << "start-seconds and the deadline run side by side";
  EXPECT_EQ(d.armed[TimerKind::start] - d.now, 1s);
  EXPECT_EQ(d.armed[TimerKind::deadline] - d.now, 10s);
  d.fire(TimerKind::start);
  EXPECT_EQ(d.status.state, State::running);
  EXPECT_EQ(d.armed.count(TimerKind::deadline), 1u) << "the deadline spans the whole run";
  d.feed(ev(Kind::stop));
  EXPECT_EQ(d.armed.count(TimerKind::deadline), 0u) << "a stop cancels the deadline";
  EXPECT_EQ(d.armed.count(TimerKind::grace), 1u);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_TRUE(d.armed.empty());
}

TEST(Lifecycle, AStartTimerThatFindsTheMainDeadWaitsForItsExit) {
  Driver d;
  d.feed(ev(Kind::start));
  d.fire(TimerKind::start, /*main_exited=*/true);
  EXPECT_EQ(d.status.state, State::starting) << "a process that died is not running";
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.status.state, State::backoff);
  EXPECT_EQ(d.status.failed_starts, 1);
}

TEST(Lifecycle, ADeadlineStopsTheRunAndRecordsItAsTimedOut) {
  struct Case {
    RestartPolicy restart;
    bool during_start;
    State end;
  };
  const Case cases[] = {
      {RestartPolicy::on_failure, false, State::backoff},
      {RestartPolicy::always, false, State::backoff},
      {RestartPolicy::never, false, State::exited},
      {RestartPolicy::on_failure, true, State::backoff},
      {RestartPolicy::never, true, State::fatal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.restart)) + (c.during_start ? " during start" : ""));
    Driver d;
    d.config.restart = c.restart;
    d.status.run_deadline = c.during_start ? 500ms : 5s;
    d.feed(ev(Kind::start));
    if (!c.during_start) d.fire(TimerKind::start);
    d.fire(TimerKind::deadline);
    EXPECT_EQ(d.status.state, State::stopping);
    EXPECT_EQ(d.signals, std::vector<Act>{Act::signal_stop});
    EXPECT_EQ(d.stop_signals, std::vector<int>{SIGTERM});
    EXPECT_EQ(d.armed.count(TimerKind::start), 0u);
    d.fire(TimerKind::grace);  // it ignores SIGTERM
    EXPECT_EQ(d.signals.back(), Act::kill_group);
    d.feed(exited(ExitStatus::killed(SIGKILL)));
    EXPECT_EQ(d.status.state, c.end);
    EXPECT_EQ(d.status.last_run, RunOutcome::timed_out) << "never read as an operator's stop";
    EXPECT_NE(d.status.reason.find("timed out after"), std::string::npos) << d.status.reason;
  }

  Driver op;  // an operator's stop or a forced shutdown on top keeps it a timeout
  op.status.run_deadline = 5s;
  op.bring_up();
  op.fire(TimerKind::deadline);
  op.feed(ev(Kind::stop));
  op.feed(ev(Kind::kill));
  op.feed(exited(ExitStatus::killed(SIGKILL)));
  EXPECT_EQ(op.status.state, State::stopped);
  EXPECT_EQ(op.status.last_run, RunOutcome::timed_out);
}

TEST(Lifecycle, OutcomeOfEachWayARunEnds) {
  Driver exit0;
  exit0.config.restart = RestartPolicy::never;
  EXPECT_FALSE(exit0.status.last_run) << "no run ended yet";
  exit0.bring_up();
  exit0.feed(exited(ExitStatus::exited(0)));
  EXPECT_EQ(exit0.status.last_run, RunOutcome::exited);
  EXPECT_TRUE(completed_successfully(exit0.status, exit0.config));

  Driver exit1;
  exit1.bring_up();
  exit1.advance(10s);
  exit1.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(exit1.status.last_run, RunOutcome::exited);
  EXPECT_FALSE(completed_successfully(exit1.status, exit1.config)) << "exit code 1";
  exit1.config.success_exit_codes = {1};
  EXPECT_TRUE(completed_successfully(exit1.status, exit1.config));

  Driver stop;
  stop.bring_up();
  stop.feed(ev(Kind::stop));
  stop.feed(exited(ExitStatus::exited(0)));
  EXPECT_EQ(stop.status.last_run, RunOutcome::stopped_by_operator);
  EXPECT_FALSE(completed_successfully(stop.status, stop.config)) << "stopped, not completed";

  Driver restart;
  restart.bring_up();
  restart.feed(ev(Kind::restart));
  restart.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(restart.status.state, State::starting);
  EXPECT_EQ(restart.status.last_run, RunOutcome::stopped_by_operator);

  Driver killed;  // a forced shutdown is a stop on purpose too
  killed.bring_up();
  killed.feed(ev(Kind::kill));
  killed.feed(exited(ExitStatus::killed(SIGKILL)));
  EXPECT_EQ(killed.status.last_run, RunOutcome::stopped_by_operator);

  Driver failed;
  failed.feed(ev(Kind::start));
  failed.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(failed.status.last_run, RunOutcome::failed_to_start);

  LifecycleStatus fatal = status_in(State::fatal);
  EXPECT_EQ(fatal.last_run, RunOutcome::fatal);

  Driver oom;
  oom.feed(ev(Kind::start));
  oom.feed(LifecycleEvent::failure("cannot create a pipe: Too many open files", true, true));
  EXPECT_EQ(oom.status.last_run, RunOutcome::failed_to_start);

  Driver left;  // the main exited and left a process: still its exit, once the group is empty
  left.config.restart = RestartPolicy::never;
  left.bring_up();
  left.feed(exited(ExitStatus::exited(0), /*group_empty=*/false));
  left.feed(ev(Kind::group_empty));
  EXPECT_EQ(left.status.last_run, RunOutcome::exited);
}

TEST(Lifecycle, HoldRestartsIsAnEventThatChangesOnlyThat) {
  for (const auto& [state, name] : protocol::kInstanceStates) {
    SCOPED_TRACE(name);
    LifecycleStatus before = status_in(state);
    LifecycleDecision d = decide(before, ev(Kind::hold_restarts), test_config(), TimePoint{} + 2h);
    EXPECT_TRUE(d.legal);
    EXPECT_TRUE(d.actions.empty());
    EXPECT_FALSE(d.next.restarts_allowed);
    LifecycleStatus expected = before;
    expected.restarts_allowed = false;
    EXPECT_EQ(d.next.state, expected.state);
    EXPECT_EQ(d.next.reason, expected.reason);
  }
  Driver d;
  d.config.restart = RestartPolicy::always;
  d.bring_up();
  d.feed(ev(Kind::hold_restarts));
  d.advance(10s);
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.status.state, State::exited);
}

TEST(Lifecycle, AStopCarriesItsSignalOnlyWhenAProcessIsUp) {
  Driver d;
  d.bring_up();
  d.feed(LifecycleEvent::stop_with(SIGINT));
  EXPECT_EQ(d.stop_signals, std::vector<int>{SIGINT});
  d.fire_timer();
  EXPECT_EQ(d.signals.back(), Act::kill_group);

  Driver plain;
  plain.config.stop_signal = SIGQUIT;
  plain.bring_up();
  plain.feed(ev(Kind::stop));
  EXPECT_EQ(plain.stop_signals, std::vector<int>{SIGQUIT});

  Driver again;  // a second stop during a stop sends nothing more
  again.bring_up();
  again.feed(ev(Kind::stop));
  again.feed(LifecycleEvent::stop_with(SIGINT));
  EXPECT_EQ(again.stop_signals, std::vector<int>{SIGTERM});

  Driver backoff;
  backoff.bring_up();
  backoff.advance(10s);
  backoff.feed(exited(ExitStatus::exited(1)));
  backoff.feed(LifecycleEvent::stop_with(SIGINT));
  EXPECT_EQ(backoff.status.state, State::stopped);
  EXPECT_TRUE(backoff.signals.empty());
}

TEST(Lifecycle, StatesAreTheProtocolsList) {
  for (const auto& [state, name] : protocol::kInstanceStates) EXPECT_EQ(to_string(state), name);
}

}  // namespace
}  // namespace gardien
