// When a verb's wait is over: the start, restart, stop and reach rules, state by state.
#include "supervisord/control/state_wait.h"

#include <gtest/gtest.h>

#include <vector>

using namespace gardien;
using State = protocol::InstanceState;

TEST(StateWait, Rules) {
  using V = WaitVerdict;
  struct Step {
    State state;
    bool transition;
    V verdict;
  };
  auto run = [](StateWait wait, std::vector<Step> steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(wait.observe(steps[i].state, steps[i].transition), steps[i].verdict)
          << "step " << i;
    }
  };
  run(StateWait(WaitGoal::start), {{State::running, false, V::reached}});
  run(StateWait(WaitGoal::start),
      {{State::starting, false, V::pending}, {State::running, true, V::reached}});
  run(StateWait(WaitGoal::start),
      {{State::starting, true, V::pending}, {State::exited, true, V::failed}});
  run(StateWait(WaitGoal::start),
      {{State::backoff, false, V::pending}, {State::starting, true, V::pending}});
  run(StateWait(WaitGoal::start), {{State::stopping, false, V::pending},
                                   {State::stopped, true, V::pending},
                                   {State::starting, true, V::pending},
                                   {State::stopped, true, V::failed}});
  run(StateWait(WaitGoal::start), {{State::fatal, true, V::failed}});
  run(StateWait(WaitGoal::restart), {{State::running, false, V::pending},
                                     {State::stopping, true, V::pending},
                                     {State::stopped, true, V::pending},
                                     {State::starting, true, V::pending},
                                     {State::running, true, V::reached}});
  run(StateWait(WaitGoal::restart),
      {{State::starting, true, V::pending}, {State::backoff, true, V::failed}});
  run(StateWait(WaitGoal::stop),
      {{State::stopping, false, V::pending}, {State::exited, true, V::reached}});
  run(StateWait(WaitGoal::stop), {{State::fatal, false, V::reached}});
  run(StateWait(WaitGoal::reach, State::backoff), {{State::running, false, V::pending},
                                                   {State::fatal, true, V::pending},
                                                   {State::backoff, true, V::reached}});
}

namespace {

bool has_process(State state) {
  return state == State::starting || state == State::running || state == State::backoff ||
         state == State::stopping;
}

}  // namespace

// A stop is over in any state without a process, snapshot or transition alike.
TEST(StateWait, StopIsReachedInEveryStateWithoutAProcess) {
  for (const auto& [state, name] : protocol::kInstanceStates) {
    for (bool transition : {false, true}) {
      StateWait wait(WaitGoal::stop);
      EXPECT_EQ(wait.observe(state, transition),
                has_process(state) ? WaitVerdict::pending : WaitVerdict::reached)
          << name << (transition ? " (transition)" : " (snapshot)");
    }
  }
}

// `wait` wants exactly its target and never fails, whatever the instance goes through.
TEST(StateWait, ReachWantsExactlyItsTargetAndNeverFails) {
  for (const auto& [target, target_name] : protocol::kInstanceStates) {
    StateWait wait(WaitGoal::reach, target);
    for (const auto& [state, name] : protocol::kInstanceStates) {
      if (state == target) continue;
      EXPECT_EQ(wait.observe(state, true), WaitVerdict::pending) << target_name << " " << name;
      EXPECT_EQ(wait.observe(state, false), WaitVerdict::pending) << target_name << " " << name;
    }
    EXPECT_EQ(wait.observe(target, true), WaitVerdict::reached) << target_name;
  }
  EXPECT_EQ(StateWait(WaitGoal::reach).observe(State::running, false), WaitVerdict::reached);
}

// The snapshot right after a start may still show the old process ending: only a transition
// into backoff or fatal, or a failure after `starting`, fails the start.
TEST(StateWait, StartFailsOnlyOnItsOwnAttempt) {
  for (State before : {State::exited, State::stopped, State::stopping, State::backoff}) {
    StateWait wait(WaitGoal::start);
    EXPECT_EQ(wait.observe(before, false), WaitVerdict::pending) << protocol::state_name(before);
  }
  for (State failed : {State::backoff, State::fatal}) {
    StateWait wait(WaitGoal::start);
    EXPECT_EQ(wait.observe(failed, true), WaitVerdict::failed) << protocol::state_name(failed);
  }
  for (State ended : {State::exited, State::stopped}) {
    StateWait wait(WaitGoal::start);
    EXPECT_EQ(wait.observe(ended, true), WaitVerdict::pending) << protocol::state_name(ended);
    EXPECT_EQ(wait.observe(State::starting, true), WaitVerdict::pending);
    EXPECT_EQ(wait.observe(ended, true), WaitVerdict::failed) << protocol::state_name(ended);
  }
}

// A restart counts only a `running` after it went through `starting` again.
TEST(StateWait, RestartIgnoresTheOldRunUntilItStartsAgain) {
  StateWait wait(WaitGoal::restart);
  EXPECT_EQ(wait.observe(State::running, false), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(State::running, true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(State::stopping, true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(State::exited, true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(State::starting, true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(State::fatal, true), WaitVerdict::failed);
}

TEST(StateWait, ReadyWantsRunningAndReadyAndNeverFails) {
  auto status = [](State state, bool ready) {
    protocol::InstanceStatus s;
    s.state = state;
    s.ready = ready;
    return s;
  };
  StateWait wait(WaitGoal::ready);
  EXPECT_EQ(wait.observe(status(State::starting, false), false), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(status(State::fatal, false), true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(status(State::running, false), true), WaitVerdict::pending);
  EXPECT_EQ(wait.observe(status(State::running, true), true), WaitVerdict::reached);
  // A bare state reads as ready exactly when running.
  EXPECT_EQ(StateWait(WaitGoal::ready).observe(State::running, false), WaitVerdict::reached);
  EXPECT_EQ(StateWait(WaitGoal::ready).observe(State::backoff, true), WaitVerdict::pending);
}

TEST(StateWait, StartAndRestartWaitForReady) {
  for (WaitGoal goal : {WaitGoal::start, WaitGoal::restart}) {
    StateWait wait(goal);
    protocol::InstanceStatus s;
    s.state = State::starting;
    EXPECT_EQ(wait.observe(s, true), WaitVerdict::pending);
    s.state = State::running;
    EXPECT_EQ(wait.observe(s, true), WaitVerdict::pending) << "running, not ready yet";
    s.ready = true;
    EXPECT_EQ(wait.observe(s, true), WaitVerdict::reached);
  }
}

// A reload ends at the READY=1 of a running instance; leaving running ends it as a failure.
TEST(StateWait, AReloadEndsAtAReadyNoticeOnly) {
  protocol::InstanceStatus running;
  running.state = State::running;
  running.ready = true;
  StateWait wait(WaitGoal::reload);
  EXPECT_EQ(wait.observe(running, false), WaitVerdict::pending) << "running is where it starts";
  EXPECT_EQ(wait.observe(running, true), WaitVerdict::pending) << "RELOADING=1, a new status";
  EXPECT_EQ(wait.observe_ready_notice(running), WaitVerdict::reached);
  for (State state : {State::starting, State::backoff, State::stopping, State::stopped,
                      State::exited, State::fatal}) {
    StateWait during(WaitGoal::reload);
    EXPECT_EQ(during.observe(state, true), WaitVerdict::failed) << protocol::state_name(state);
  }
  // The other goals read a notice as one more published status.
  StateWait start(WaitGoal::start);
  EXPECT_EQ(start.observe_ready_notice(running), WaitVerdict::reached);
  StateWait stop(WaitGoal::stop);
  EXPECT_EQ(stop.observe_ready_notice(running), WaitVerdict::pending);
}
