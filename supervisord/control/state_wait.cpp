#include "supervisord/control/state_wait.h"

namespace gardien {

using protocol::InstanceState;

namespace {

bool is_failed_start(InstanceState state) {
  switch (state) {
    case InstanceState::backoff:
    case InstanceState::exited:
    case InstanceState::fatal:
    case InstanceState::stopped:
      return true;
    case InstanceState::starting:
    case InstanceState::running:
    case InstanceState::stopping:
      return false;
  }
  return false;
}

bool has_no_process(InstanceState state) {
  switch (state) {
    case InstanceState::stopped:
    case InstanceState::exited:
    case InstanceState::fatal:
      return true;
    case InstanceState::starting:
    case InstanceState::running:
    case InstanceState::backoff:
    case InstanceState::stopping:
      return false;
  }
  return false;
}

}  // namespace

WaitVerdict StateWait::observe(const protocol::InstanceStatus& status, bool transition) {
  return observe(status.state, status.ready, transition);
}

WaitVerdict StateWait::observe(InstanceState state, bool transition) {
  return observe(state, state == InstanceState::running, transition);
}

WaitVerdict StateWait::observe_ready_notice(const protocol::InstanceStatus& status) {
  if (goal_ != WaitGoal::reload) return observe(status, true);
  return status.state == InstanceState::running ? WaitVerdict::reached : WaitVerdict::failed;
}

WaitVerdict StateWait::observe(InstanceState state, bool ready, bool transition) {
  bool up = state == InstanceState::running && ready;
  switch (goal_) {
    case WaitGoal::reload:
      // Only its READY=1 ends it; leaving running (even to restart) ends the run it reloaded.
      return state == InstanceState::running ? WaitVerdict::pending : WaitVerdict::failed;
    case WaitGoal::stop:
      return has_no_process(state) ? WaitVerdict::reached : WaitVerdict::pending;
    case WaitGoal::reach:
      return state == target_ ? WaitVerdict::reached : WaitVerdict::pending;
    case WaitGoal::ready:
      return up ? WaitVerdict::reached : WaitVerdict::pending;
    case WaitGoal::start:
    case WaitGoal::restart:
      // States before the instance (re)starts belong to the old process (a restart's stop, a
      // start queued behind a stop): they say nothing about this start.
      if (state == InstanceState::starting) {
        seen_starting_ = true;
        return WaitVerdict::pending;
      }
      if (up && (goal_ == WaitGoal::start || seen_starting_)) return WaitVerdict::reached;
      if (seen_starting_ && is_failed_start(state)) return WaitVerdict::failed;
      if (transition && (state == InstanceState::backoff || state == InstanceState::fatal))
        return WaitVerdict::failed;
      return WaitVerdict::pending;
  }
  return WaitVerdict::pending;
}

}  // namespace gardien
