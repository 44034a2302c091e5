// The lifecycle without processes: a driver that applies decisions like Program does, with a
// fake clock, a fake spawner and fake timers, for the lifecycle's tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "supervisord/process/lifecycle.h"

namespace gardien::lifecycle_testing {

using namespace std::chrono_literals;
using Kind = LifecycleEvent::Kind;
using Act = LifecycleAction::Kind;

inline LifecycleEvent ev(Kind kind) {
  return LifecycleEvent::of(kind);
}
inline LifecycleEvent exited(ExitStatus st, bool group_empty = true) {
  return LifecycleEvent::exit(st, group_empty);
}
inline LifecycleEvent spawn_failed(std::string reason) {
  return LifecycleEvent::failure(std::move(reason), true);
}

inline ProgramConfig test_config() {
  ProgramConfig c;
  c.name = "web";
  c.command = {"/bin/true"};
  c.start_seconds = 1s;
  c.start_retries = 3;
  c.backoff = 1s;
  c.backoff_max = 8s;
  c.stop_timeout = 5s;
  return c;
}

inline bool has_action(const LifecycleDecision& d, Act kind) {
  for (const auto& a : d.actions)
    if (a.kind == kind) return true;
  return false;
}

// The timer a state arms for itself: what fires in it when nothing else was asked for.
inline TimerKind timer_of_state(State state) {
  switch (state) {
    case State::backoff:
      return TimerKind::backoff;
    case State::stopping:
      return TimerKind::grace;
    case State::stopped:
    case State::starting:
    case State::running:
    case State::exited:
    case State::fatal:
      return TimerKind::start;
  }
  return TimerKind::start;
}

// Applies decisions like Program does, with a fake spawner and fake one-shot timers, one per kind.
struct Driver {
  ProgramConfig config = test_config();
  TimePoint now = TimePoint{} + 1h;
  LifecycleStatus status;
  std::optional<TimePoint> timer_due;    // the state's own timer: start or ready, backoff, grace
  std::map<TimerKind, TimePoint> armed;  // every armed timer, by kind
  int spawns = 0;
  std::optional<std::string> spawn_error;  // the fake spawner fails with this reason
  std::vector<Duration> backoff_delays;    // every delay armed in backoff
  std::vector<Act> signals;                // signal_stop / kill_group / signal_leftovers
  std::vector<int> stop_signals;           // the signal of each signal_stop
  bool watching_group = false;

  LifecycleDecision feed(const LifecycleEvent& e) {
    LifecycleDecision d = decide(status, e, config, now);
    if (!d.legal) return d;
    status = d.next;
    for (const LifecycleAction& a : d.actions) {
      switch (a.kind) {
        case Act::spawn:
          break;  // after the other actions, like Program
        case Act::arm_timer:
          armed[a.timer] = now + a.delay;
          if (a.timer == TimerKind::backoff) backoff_delays.push_back(a.delay);
          break;
        case Act::cancel_timer:
          armed.erase(a.timer);
          break;
        case Act::signal_stop:
        case Act::kill_group:
        case Act::signal_leftovers:
          signals.push_back(a.kind);
          if (a.kind == Act::signal_stop) stop_signals.push_back(a.signal);
          break;
        case Act::watch_group:
          watching_group = true;
          break;
      }
    }
    timer_due.reset();
    for (TimerKind kind :
         {TimerKind::start, TimerKind::ready, TimerKind::backoff, TimerKind::grace})
      if (armed.count(kind)) timer_due = armed[kind];
    if (has_action(d, Act::spawn)) {
      ++spawns;
      if (spawn_error) {
        feed(spawn_failed(*spawn_error));
      } else {
        feed(ev(Kind::spawned));
      }
    }
    return d;
  }

  // Fires the state's own timer (start, backoff or grace).
  void fire_timer() {
    ASSERT_TRUE(timer_due.has_value()) << "no timer armed in state " << to_string(status.state);
    for (TimerKind kind :
         {TimerKind::start, TimerKind::ready, TimerKind::backoff, TimerKind::grace})
      if (armed.count(kind)) return fire(kind);
  }

  void fire(TimerKind kind, bool main_exited = false) {
    ASSERT_TRUE(armed.count(kind)) << "no " << to_string(kind) << " timer armed";
    now = armed[kind];
    armed.erase(kind);
    timer_due.reset();
    feed(LifecycleEvent::timer_fired(kind, main_exited));
  }

  void advance(Duration d) { now += d; }

  // start, then wait out start-seconds: running.
  void bring_up() {
    feed(ev(Kind::start));
    fire_timer();
    ASSERT_EQ(status.state, State::running);
  }
};

// A status that is typical of `state`, reached through legal moves.
inline LifecycleStatus status_in(State state) {
  Driver d;
  switch (state) {
    case State::stopped:
      break;
    case State::starting:
      d.feed(ev(Kind::start));
      break;
    case State::running:
      d.bring_up();
      break;
    case State::backoff:
      d.bring_up();
      d.advance(10s);
      d.feed(exited(ExitStatus::exited(1)));
      break;
    case State::stopping:
      d.bring_up();
      d.feed(ev(Kind::stop));
      break;
    case State::exited:
      d.config.restart = RestartPolicy::never;
      d.bring_up();
      d.feed(exited(ExitStatus::exited(0)));
      break;
    case State::fatal:
      d.config.start_retries = 1;
      d.spawn_error = "exec /nope: No such file or directory";
      d.feed(ev(Kind::start));
      d.fire_timer();
      break;
  }
  EXPECT_EQ(d.status.state, state);
  return d.status;
}

}  // namespace gardien::lifecycle_testing
