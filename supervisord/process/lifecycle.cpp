#include "supervisord/process/lifecycle.h"

#include <sys/wait.h>

#include <algorithm>
#include <utility>

#include "common/signals.h"

namespace gardien {

std::string_view to_string(State state) {
  switch (state) {
    case State::stopped:
      return "stopped";
    case State::starting:
      return "starting";
    case State::running:
      return "running";
    case State::backoff:
      return "backoff";
    case State::stopping:
      return "stopping";
    case State::exited:
      return "exited";
    case State::fatal:
      return "fatal";
  }
  return "?";
}

bool has_process(State state) {
  switch (state) {
    case State::starting:
    case State::running:
    case State::stopping:
      return true;
    case State::stopped:
    case State::backoff:
    case State::exited:
    case State::fatal:
      return false;
  }
  return false;
}

std::string_view to_string(LifecycleEvent::Kind kind) {
  using K = LifecycleEvent::Kind;
  switch (kind) {
    case K::start:
      return "start";
    case K::stop:
      return "stop";
    case K::restart:
      return "restart";
    case K::kill:
      return "kill";
    case K::spawned:
      return "spawned";
    case K::spawn_failed:
      return "spawn_failed";
    case K::exited:
      return "exited";
    case K::timer:
      return "timer";
    case K::group_empty:
      return "group_empty";
  }
  return "?";
}

std::string_view to_string(LifecycleAction::Kind kind) {
  using K = LifecycleAction::Kind;
  switch (kind) {
    case K::spawn:
      return "spawn";
    case K::arm_timer:
      return "arm_timer";
    case K::cancel_timer:
      return "cancel_timer";
    case K::signal_stop:
      return "signal_stop";
    case K::kill_group:
      return "kill_group";
    case K::watch_group:
      return "watch_group";
    case K::signal_leftovers:
      return "signal_leftovers";
  }
  return "?";
}

ExitStatus ExitStatus::from_wait_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) return killed(WTERMSIG(wait_status));
  if (WIFEXITED(wait_status)) return exited(WEXITSTATUS(wait_status));
  return exited(0);
}

std::string ExitStatus::to_string() const {
  std::string out;
  if (signaled) {
    out = "killed by ";
    out += signal_name(signal);
  } else {
    out = "exit code ";
    out += std::to_string(code);
  }
  return out;
}

Duration backoff_delay(const ProgramConfig& config, int step) {
  Duration delay = config.backoff;
  for (int i = 0; i < step && delay > Duration{0} && delay < config.backoff_max; ++i) delay *= 2;
  return std::min(delay, config.backoff_max);
}

namespace {

using Kind = LifecycleEvent::Kind;
using Act = LifecycleAction::Kind;

// Builds one decision; each handler below fills it for one state.
class Decider {
 public:
  Decider(const LifecycleStatus& status, const LifecycleEvent& event, const ProgramConfig& config,
          TimePoint now)
      : event_(event), config_(config), now_(now) {
    d_.next = status;
  }

  LifecycleDecision run() {
    switch (d_.next.state) {
      case State::stopped:
      case State::exited:
      case State::fatal:
        at_rest();
        break;
      case State::starting:
        starting();
        break;
      case State::running:
        running();
        break;
      case State::backoff:
        backoff();
        break;
      case State::stopping:
        stopping();
        break;
    }
    return std::move(d_);
  }

 private:
  LifecycleStatus& s() { return d_.next; }
  void act(Act kind, Duration delay = Duration{0}) { d_.actions.push_back({kind, delay}); }

  void illegal(std::string_view what) {
    LifecycleStatus unchanged = d_.next;
    d_ = LifecycleDecision{};
    d_.legal = false;
    d_.next = std::move(unchanged);
    d_.why = std::string(to_string(event_.kind));
    d_.why += " in state ";
    d_.why += to_string(d_.next.state);
    d_.why += ": ";
    d_.why += what;
  }

  void enter(State state) {
    if (s().state != state) s().state_since = now_;
    s().state = state;
  }

  void arm(Duration delay) {
    act(Act::arm_timer, delay);
    s().timer_due = now_ + delay;
  }

  // A start an operator (or the supervisor) asked for: a fresh series of attempts.
  void fresh_start() {
    s().failed_starts = 0;
    s().backoff_step = 0;
    spawn();
  }

  void spawn() {
    enter(State::starting);
    s().main_alive = false;
    s().killed = false;
    s().start_after_stop = false;
    s().spawned_at = now_;
    s().reason.clear();
    s().pending_end.reset();
    act(Act::spawn);
  }

  void begin_stop(bool then_start) {
    enter(State::stopping);
    s().start_after_stop = then_start;
    s().killed = false;
    act(Act::signal_stop);
    arm(config_.stop_timeout);
  }

  void begin_kill() {
    enter(State::stopping);
    s().start_after_stop = false;
    s().killed = true;
    act(Act::cancel_timer);
    act(Act::kill_group);
  }

  void reached_running() {
    enter(State::running);
    s().failed_starts = 0;
    s().backoff_step = 0;
    s().reason.clear();
  }

  bool is_success(const ExitStatus& st) const {
    if (st.signaled) return false;
    const auto& codes = config_.success_exit_codes;
    return std::find(codes.begin(), codes.end(), st.code) != codes.end();
  }

  void schedule_restart(std::string reason) {
    Duration delay = backoff_delay(config_, s().backoff_step);
    TimePoint earliest = s().spawned_at + kMinSpawnInterval;
    if (now_ + delay < earliest) delay = std::chrono::ceil<Duration>(earliest - now_);
    s().backoff_step++;
    s().restarts++;
    enter(State::backoff);
    s().reason = std::move(reason);
    arm(delay);
  }

  void finish(State state, std::string reason) {
    enter(state);
    s().reason = std::move(reason);
  }

  // The daemon could not create the process (no fds, processes or memory left): the program is
  // not at fault, so the attempt is retried with backoff and not counted.
  void retry_spawn(std::string reason) {
    act(Act::cancel_timer);
    s().main_alive = false;
    if (!s().restarts_allowed)
      return finish(State::exited, reason + "; not restarted: shutting down");
    if (config_.restart == RestartPolicy::never)  // a container's command: no second spawn
      return finish(State::fatal, reason + "; not retried: restart = never");
    schedule_restart(reason + "; retrying");
  }

  // A spawn that never reached running: retry with backoff, or give up after start-retries.
  void failed_start(std::string reason) {
    act(Act::cancel_timer);
    s().main_alive = false;
    s().failed_starts++;
    if (!s().restarts_allowed)
      return finish(State::exited, reason + "; not restarted: shutting down");
    // `never` means no second spawn, also after a failed one (a container's command).
    if (config_.restart == RestartPolicy::never)
      return finish(State::fatal, reason + "; not retried: restart = never");
    if (config_.start_retries > 0 && s().failed_starts > config_.start_retries) {
      reason += "; gave up after ";
      reason += std::to_string(s().failed_starts);
      reason += " failed starts";
      return finish(State::fatal, std::move(reason));
    }
    schedule_restart(std::move(reason));
  }

  // The main process ended on its own with its group empty.
  void main_exited_while_up(bool during_start, const ExitStatus& st) {
    s().last_exit = st;
    bool success = is_success(st);
    if (during_start) {
      // A program done with success before start-seconds is finished, not failing (one-shots).
      if (success && config_.restart != RestartPolicy::always) {
        act(Act::cancel_timer);
        s().main_alive = false;
        return finish(State::exited, st.to_string());
      }
      return failed_start(st.to_string() + " during start");
    }
    s().main_alive = false;
    bool wanted = config_.restart == RestartPolicy::always ||
                  (config_.restart == RestartPolicy::on_failure && !success);
    if (!wanted) return finish(State::exited, st.to_string());
    if (!s().restarts_allowed)
      return finish(State::exited, st.to_string() + "; not restarted: shutting down");
    schedule_restart(st.to_string());
  }

  // The main ended (exit or failed exec) in starting or running.
  void main_ended_while_up() {
    bool during_start = s().state == State::starting;
    if (event_.group_empty) {
      if (event_.kind == Kind::exited) return main_exited_while_up(during_start, event_.status);
      if (event_.out_of_resources) return retry_spawn(event_.reason);
      return failed_start(event_.reason);
    }
    // What it left behind is stopped first: nothing lives on unmanaged, and no restart spawns
    // beside it.
    PendingEnd end{during_start, std::nullopt, {}};
    if (event_.kind == Kind::exited) {
      end.status = event_.status;
      s().last_exit = event_.status;
      s().reason = event_.status.to_string();
    } else {
      end.failure = event_.reason;
      s().reason = event_.reason;
    }
    s().reason += "; stopping the processes it left";
    s().pending_end = std::move(end);
    s().main_alive = false;
    s().killed = false;
    s().start_after_stop = false;
    enter(State::stopping);
    act(Act::signal_leftovers);
    act(Act::watch_group);
    arm(config_.stop_timeout);
  }

  // The group is empty after a stop: stopped, started again, or the end that caused the stop.
  void take_end(const PendingEnd& end) {
    if (end.status) return main_exited_while_up(end.during_start, *end.status);
    failed_start(end.failure);
  }

  void complete_stop() {
    act(Act::cancel_timer);
    s().main_alive = false;
    s().killed = false;
    if (s().start_after_stop && s().restarts_allowed) return fresh_start();
    s().start_after_stop = false;
    if (s().pending_end) return take_end(*std::exchange(s().pending_end, std::nullopt));
    finish(State::stopped, "");
  }

  // stopped, exited, fatal: no process, no timer.
  void at_rest() {
    switch (event_.kind) {
      case Kind::start:
      case Kind::restart:
        return fresh_start();
      case Kind::stop:
      case Kind::kill:
        return;  // already down
      case Kind::spawned:
      case Kind::spawn_failed:
      case Kind::exited:
        return illegal("no process was spawned");
      case Kind::timer:
        return illegal("no timer is armed");
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
    }
  }

  void starting() {
    switch (event_.kind) {
      case Kind::start:
        return;  // already on its way
      case Kind::stop:
        return begin_stop(false);
      case Kind::restart:
        return begin_stop(true);
      case Kind::kill:
        return begin_kill();
      case Kind::spawned:
        if (s().main_alive) return illegal("the process was already spawned");
        s().main_alive = true;
        if (config_.start_seconds <= Duration{0}) return reached_running();
        return arm(config_.start_seconds);
      case Kind::spawn_failed:
        return main_ended_while_up();
      case Kind::exited:
        if (!s().main_alive) return illegal("no process was spawned");
        return main_ended_while_up();
      case Kind::timer:
        return reached_running();
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
    }
  }

  void running() {
    switch (event_.kind) {
      case Kind::start:
        return;
      case Kind::stop:
        return begin_stop(false);
      case Kind::restart:
        return begin_stop(true);
      case Kind::kill:
        return begin_kill();
      case Kind::spawned:
        return illegal("the process was already spawned");
      // Only with start-seconds = 0, where running begins before exec is known to succeed.
      case Kind::spawn_failed:
      case Kind::exited:
        return main_ended_while_up();
      case Kind::timer:
        return illegal("no timer is armed");
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
    }
  }

  void backoff() {
    switch (event_.kind) {
      case Kind::start:
      case Kind::restart:
        act(Act::cancel_timer);
        return fresh_start();
      case Kind::stop:
      case Kind::kill:
        act(Act::cancel_timer);
        return finish(State::stopped, "");
      case Kind::spawned:
      case Kind::spawn_failed:
      case Kind::exited:
        return illegal("no process is alive while waiting to restart");
      case Kind::timer:
        return spawn();
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
    }
  }

  void stopping() {
    switch (event_.kind) {
      case Kind::start:
      case Kind::restart:
        s().start_after_stop = true;
        return;
      case Kind::stop:
        s().start_after_stop = false;
        s().pending_end.reset();  // an operator's stop ends in stopped, whatever ended the main
        return;
      case Kind::kill:
        if (s().killed) return;
        return begin_kill();
      case Kind::spawned:
        return illegal("the process was already spawned");
      case Kind::spawn_failed:
      case Kind::exited:
        if (!s().main_alive) return illegal("the main process was already reaped");
        s().main_alive = false;
        if (event_.kind == Kind::exited) s().last_exit = event_.status;
        if (event_.group_empty) return complete_stop();
        if (!s().killed) act(Act::signal_leftovers);
        return act(Act::watch_group);
      case Kind::timer:
        if (s().killed) return illegal("no timer is armed after SIGKILL");
        s().killed = true;
        return act(Act::kill_group);
      case Kind::group_empty:
        if (s().main_alive) return;  // the main process is in the group: it cannot be empty yet
        return complete_stop();
    }
  }

  LifecycleDecision d_;
  const LifecycleEvent& event_;
  const ProgramConfig& config_;
  TimePoint now_;
};

}  // namespace

LifecycleDecision decide(const LifecycleStatus& status, const LifecycleEvent& event,
                         const ProgramConfig& config, TimePoint now) {
  return Decider(status, event, config, now).run();
}

}  // namespace gardien
