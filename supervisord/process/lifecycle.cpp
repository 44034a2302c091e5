#include "supervisord/process/lifecycle.h"

#include <sys/wait.h>

#include <algorithm>
#include <utility>

#include "common/signals.h"

namespace gardien {

std::string_view to_string(State state) {
  return protocol::state_name(state);
}

std::string_view to_string(TimerKind kind) {
  constexpr std::array<std::string_view, kTimerKinds.size()> kNames = {
      "start", "backoff", "grace", "deadline", "ready", "watchdog"};  // in kTimerKinds' order
  return kNames[static_cast<std::size_t>(kind)];
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
    case K::hold_restarts:
      return "hold_restarts";
    case K::ready:
      return "ready";
    case K::unhealthy:
      return "unhealthy";
    case K::watchdog_ping:
      return "watchdog_ping";
    case K::extend_timeout:
      return "extend_timeout";
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

bool is_success(const ExitStatus& status, const ProgramConfig& config) {
  if (status.signaled) return false;
  const auto& codes = config.success_exit_codes;
  return std::find(codes.begin(), codes.end(), status.code) != codes.end();
}

bool completed_successfully(const LifecycleStatus& status, const ProgramConfig& config) {
  return status.last_run == RunOutcome::exited && status.last_exit &&
         is_success(*status.last_exit, config);
}

Duration backoff_delay(const ProgramConfig& config, int step) {
  Duration delay = config.backoff;
  for (int i = 0; i < step && delay > Duration{0} && delay < config.backoff_max; ++i) delay *= 2;
  return std::min(delay, config.backoff_max);
}

namespace {

using Kind = LifecycleEvent::Kind;
using Act = LifecycleAction::Kind;

// The timer a state runs on; nullopt: none (the deadline aside, which spans starting and running).
std::optional<TimerKind> timer_of(State state, const ProgramConfig& config) {
  switch (state) {
    case State::starting:
      return config.ready ? TimerKind::ready : TimerKind::start;
    case State::backoff:
      return TimerKind::backoff;
    case State::stopping:
      return TimerKind::grace;
    case State::running:
      if (config.watchdog > Duration{0}) return TimerKind::watchdog;
      return std::nullopt;
    case State::stopped:
    case State::exited:
    case State::fatal:
      return std::nullopt;
  }
  return std::nullopt;
}

// The states a run's deadline spans: its process is up and not being stopped.
bool is_up(State state) {
  return state == State::starting || state == State::running;
}

// Builds one decision; each handler below fills it for one state.
class Decider {
 public:
  Decider(const LifecycleStatus& status, const LifecycleEvent& event, const ProgramConfig& config,
          TimePoint now)
      : event_(event), config_(config), now_(now) {
    d_.next = status;
  }

  LifecycleDecision run() {
    if (event_.kind == Kind::hold_restarts) {
      s().restarts_allowed = false;  // the same in every state: nothing else changes
      return std::move(d_);
    }
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
  void act(Act kind) { d_.actions.push_back({kind, Duration{0}, TimerKind::start, 0}); }

  void illegal(std::string_view what) {
    LifecycleStatus unchanged = d_.next;
    d_ = LifecycleDecision{};
    d_.legal = false;
    d_.next = std::move(unchanged);
    d_.why = std::string(to_string(event_.kind));
    if (event_.kind == Kind::timer) {
      d_.why += " (";
      d_.why += to_string(event_.timer);
      d_.why += ')';
    }
    d_.why += " in state ";
    d_.why += to_string(d_.next.state);
    d_.why += ": ";
    d_.why += what;
  }

  // A state owns its timer: leaving the state cancels it, and leaving the process's up states
  // cancels the run's deadline.
  void enter(State state) {
    State from = s().state;
    if (from == state) return;
    if (auto timer = timer_of(from, config_)) cancel(*timer);
    if (is_up(from) && !is_up(state) && s().run_deadline > Duration{0}) cancel(TimerKind::deadline);
    s().state_since = now_;
    s().state = state;
  }

  void arm(TimerKind timer, Duration delay) {
    d_.actions.push_back({Act::arm_timer, delay, timer, 0});
    if (timer_of(s().state, config_) == timer) s().timer_due = now_ + delay;
  }
  void cancel(TimerKind timer) { d_.actions.push_back({Act::cancel_timer, Duration{0}, timer, 0}); }

  void ended(RunOutcome outcome) { s().last_run = outcome; }

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

  // Stops the run with the stop signal (an event's own signal when it carries one), then grace.
  void begin_stop(bool then_start, RunOutcome outcome) {
    enter(State::stopping);
    s().start_after_stop = then_start;
    s().killed = false;
    s().stop_outcome = outcome;
    d_.actions.push_back({Act::signal_stop, Duration{0}, TimerKind::start,
                          event_.signal != 0 ? event_.signal : config_.stop_signal});
    arm(TimerKind::grace, config_.stop_timeout);
  }

  void begin_kill() {
    if (s().state != State::stopping) s().stop_outcome = RunOutcome::stopped_by_operator;
    if (s().state == State::stopping) cancel(TimerKind::grace);
    enter(State::stopping);
    s().start_after_stop = false;
    s().killed = true;
    act(Act::kill_group);
  }

  // The run passed its deadline: stopped like an operator's stop, but recorded as timed out and
  // ended as a failed run once its group is empty.
  void deadline_passed() {
    bool during_start = s().state == State::starting;
    s().reason = "timed out after " + format_duration(s().run_deadline);
    s().pending_end = PendingEnd{during_start, std::nullopt, {}, true};
    begin_stop(false, RunOutcome::timed_out);
  }

  void reached_running() {
    enter(State::running);
    s().failed_starts = 0;
    s().backoff_step = 0;
    s().reason.clear();
    if (config_.watchdog > Duration{0}) arm(TimerKind::watchdog, config_.watchdog);
  }

  // Readiness did not pass within ready-timeout: the process is stopped, then it is a failed
  // start like an exit during start-seconds.
  void not_ready() {
    std::string reason = "not ready after " + format_duration(config_.ready_timeout);
    s().reason = reason + "; stopping it";
    s().pending_end = PendingEnd{true, std::nullopt, std::move(reason), false, false};
    begin_stop(false, RunOutcome::failed_to_start);
  }

  // A running instance found unhealthy (its check, or a missed watchdog): stopped and started
  // again, unless health-restarts were spent within backoff-max; then stopped for good (fatal).
  void health_failed(std::string reason) {
    auto& recent = s().health_restarts;
    TimePoint window_start = now_ - config_.backoff_max;
    recent.erase(
        std::remove_if(recent.begin(), recent.end(), [&](TimePoint t) { return t < window_start; }),
        recent.end());
    if (config_.health_restarts > 0 && static_cast<int>(recent.size()) >= config_.health_restarts) {
      reason += "; gave up after " + std::to_string(recent.size()) + " health restarts within " +
                format_duration(config_.backoff_max);
      s().reason = reason;
      s().pending_end = PendingEnd{false, std::nullopt, std::move(reason), false, true};
      return begin_stop(false, RunOutcome::unhealthy);
    }
    recent.push_back(now_);
    s().restarts++;
    s().reason = std::move(reason);
    begin_stop(s().restarts_allowed, RunOutcome::unhealthy);
  }

  // EXTEND_TIMEOUT_USEC: the running ready-timeout or stop-timeout lasts at least `delay` more.
  void extend_timeout() {
    std::optional<TimerKind> timer = timer_of(s().state, config_);
    bool extendable = (s().state == State::starting && timer == TimerKind::ready) ||
                      (s().state == State::stopping && !s().killed);
    if (!extendable || now_ + event_.delay <= s().timer_due) return;
    arm(*timer, event_.delay);
  }

  void schedule_restart(std::string reason) {
    Duration delay = backoff_delay(config_, s().backoff_step);
    TimePoint earliest = s().spawned_at + kMinSpawnInterval;
    if (now_ + delay < earliest) delay = std::chrono::ceil<Duration>(earliest - now_);
    s().backoff_step++;
    s().restarts++;
    enter(State::backoff);
    s().reason = std::move(reason);
    arm(TimerKind::backoff, delay);
  }

  void finish(State state, std::string reason) {
    enter(state);
    s().reason = std::move(reason);
  }

  // The daemon could not create the process (no fds, processes or memory left): the program is
  // not at fault, so the attempt is retried with backoff and not counted.
  void retry_spawn(std::string reason) {
    s().main_alive = false;
    ended(RunOutcome::failed_to_start);
    if (!s().restarts_allowed)
      return finish(State::exited, reason + "; not restarted: shutting down");
    if (config_.restart == RestartPolicy::never) {  // a container's command: no second spawn
      ended(RunOutcome::fatal);
      return finish(State::fatal, reason + "; not retried: restart = never");
    }
    schedule_restart(reason + "; retrying");
  }

  // A spawn that never reached running: retry with backoff, or give up after start-retries.
  void failed_start(std::string reason) {
    s().main_alive = false;
    s().failed_starts++;
    ended(RunOutcome::failed_to_start);
    if (!s().restarts_allowed)
      return finish(State::exited, reason + "; not restarted: shutting down");
    // `never` means no second spawn, also after a failed one (a container's command).
    if (config_.restart == RestartPolicy::never) {
      ended(RunOutcome::fatal);
      return finish(State::fatal, reason + "; not retried: restart = never");
    }
    if (config_.start_retries > 0 && s().failed_starts > config_.start_retries) {
      reason += "; gave up after ";
      reason += std::to_string(s().failed_starts);
      reason += " failed starts";
      ended(RunOutcome::fatal);
      return finish(State::fatal, std::move(reason));
    }
    schedule_restart(std::move(reason));
  }

  // The main process ended on its own with its group empty.
  void main_exited_while_up(bool during_start, const ExitStatus& st) {
    s().last_exit = st;
    bool success = is_success(st, config_);
    if (during_start) {
      // A program done with success before start-seconds is finished, not failing (one-shots).
      if (success && config_.restart != RestartPolicy::always) {
        s().main_alive = false;
        ended(RunOutcome::exited);
        return finish(State::exited, st.to_string());
      }
      return failed_start(st.to_string() + " during start");
    }
    s().main_alive = false;
    ended(RunOutcome::exited);
    bool wanted = config_.restart == RestartPolicy::always ||
                  (config_.restart == RestartPolicy::on_failure && !success);
    if (!wanted) return finish(State::exited, st.to_string());
    if (!s().restarts_allowed)
      return finish(State::exited, st.to_string() + "; not restarted: shutting down");
    schedule_restart(st.to_string());
  }

  // A run stopped at its deadline, its group now empty: a failed run (a failed start before
  // start-seconds), restarted as its policy says, and recorded as timed out whatever follows.
  void timed_out_end(const PendingEnd& end) {
    std::string reason = "timed out after " + format_duration(s().run_deadline);
    if (end.during_start) {
      failed_start(std::move(reason));
    } else if (config_.restart == RestartPolicy::never) {
      finish(State::exited, std::move(reason));
    } else if (!s().restarts_allowed) {
      finish(State::exited, reason + "; not restarted: shutting down");
    } else {
      schedule_restart(std::move(reason));
    }
    ended(RunOutcome::timed_out);
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
    PendingEnd end{during_start, std::nullopt, {}, false};
    if (event_.kind == Kind::exited) {
      end.status = event_.status;
      s().last_exit = event_.status;
      s().reason = event_.status.to_string();
      s().stop_outcome = during_start && !is_success(event_.status, config_)
                             ? RunOutcome::failed_to_start
                             : RunOutcome::exited;
    } else {
      end.failure = event_.reason;
      s().reason = event_.reason;
      s().stop_outcome = RunOutcome::failed_to_start;
    }
    s().reason += "; stopping the processes it left";
    s().pending_end = std::move(end);
    s().main_alive = false;
    s().killed = false;
    s().start_after_stop = false;
    enter(State::stopping);
    act(Act::signal_leftovers);
    act(Act::watch_group);
    arm(TimerKind::grace, config_.stop_timeout);
  }

  // The group is empty after a stop: stopped, started again, or the end that caused the stop.
  void take_end(const PendingEnd& end) {
    if (end.timed_out) return timed_out_end(end);
    if (end.give_up) {
      ended(RunOutcome::fatal);
      return finish(State::fatal, end.failure);
    }
    if (end.status) return main_exited_while_up(end.during_start, *end.status);
    failed_start(end.failure);
  }

  void complete_stop() {
    s().main_alive = false;
    s().killed = false;
    ended(s().stop_outcome);
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
      case Kind::hold_restarts:
        return;  // handled in run()
      case Kind::ready:
      case Kind::unhealthy:
      case Kind::watchdog_ping:
      case Kind::extend_timeout:
        return;  // from a run that is over (a datagram read late): nothing to act on
    }
  }

  // A timer while the process is up: start-seconds or ready-timeout (starting only), the
  // watchdog (running only) or the deadline.
  void timer_while_up() {
    if (event_.timer != TimerKind::deadline && timer_of(s().state, config_) != event_.timer)
      return illegal("that timer is not armed in this state");
    // A process that already died is neither running nor late: its exit comes next (a busy loop
    // may run due timers before the SIGCHLD, or its output is still draining).
    bool exit_pending = s().main_alive && event_.main_exited;
    if (exit_pending && event_.timer != TimerKind::deadline) return;
    switch (event_.timer) {
      case TimerKind::start:
        return reached_running();
      case TimerKind::ready:
        return not_ready();
      case TimerKind::watchdog:
        return health_failed("watchdog timeout");
      case TimerKind::deadline:
        if (s().run_deadline <= Duration{0}) return illegal("no deadline is set");
        return deadline_passed();
      case TimerKind::backoff:
      case TimerKind::grace:
        return illegal("no such timer is armed while the process is up");
    }
  }

  // Reports from the program itself or its checks, while its process is up.
  void report_while_up() {
    bool running = s().state == State::running;
    if (event_.kind == Kind::ready) {
      // Without `ready`, start-seconds decides; once running, there is nothing to do.
      if (!running && s().main_alive && config_.ready) reached_running();
    } else if (event_.kind == Kind::unhealthy) {
      if (running) health_failed("unhealthy: " + event_.reason);
    } else if (event_.kind == Kind::watchdog_ping) {
      if (running && config_.watchdog > Duration{0}) arm(TimerKind::watchdog, config_.watchdog);
    } else if (event_.kind == Kind::extend_timeout) {
      extend_timeout();
    }
  }

  void starting() {
    switch (event_.kind) {
      case Kind::start:
        return;  // already on its way
      case Kind::stop:
        return begin_stop(false, RunOutcome::stopped_by_operator);
      case Kind::restart:
        return begin_stop(true, RunOutcome::stopped_by_operator);
      case Kind::kill:
        return begin_kill();
      case Kind::spawned:
        if (s().main_alive) return illegal("the process was already spawned");
        s().main_alive = true;
        if (s().run_deadline > Duration{0}) arm(TimerKind::deadline, s().run_deadline);
        if (config_.ready) {
          if (config_.ready_timeout > Duration{0}) arm(TimerKind::ready, config_.ready_timeout);
          return;
        }
        if (config_.start_seconds <= Duration{0}) return reached_running();
        return arm(TimerKind::start, config_.start_seconds);
      case Kind::spawn_failed:
        return main_ended_while_up();
      case Kind::exited:
        if (!s().main_alive) return illegal("no process was spawned");
        return main_ended_while_up();
      case Kind::timer:
        return timer_while_up();
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
      case Kind::hold_restarts:
        return;
      case Kind::ready:
      case Kind::unhealthy:
      case Kind::watchdog_ping:
      case Kind::extend_timeout:
        return report_while_up();
    }
  }

  void running() {
    switch (event_.kind) {
      case Kind::start:
        return;
      case Kind::stop:
        return begin_stop(false, RunOutcome::stopped_by_operator);
      case Kind::restart:
        return begin_stop(true, RunOutcome::stopped_by_operator);
      case Kind::kill:
        return begin_kill();
      case Kind::spawned:
        return illegal("the process was already spawned");
      // Only with start-seconds = 0, where running begins before exec is known to succeed.
      case Kind::spawn_failed:
      case Kind::exited:
        return main_ended_while_up();
      case Kind::timer:
        return timer_while_up();
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
      case Kind::hold_restarts:
        return;
      case Kind::ready:
      case Kind::unhealthy:
      case Kind::watchdog_ping:
      case Kind::extend_timeout:
        return report_while_up();
    }
  }

  void backoff() {
    switch (event_.kind) {
      case Kind::start:
      case Kind::restart:
        return fresh_start();
      case Kind::stop:
      case Kind::kill:
        return finish(State::stopped, "");
      case Kind::spawned:
      case Kind::spawn_failed:
      case Kind::exited:
        return illegal("no process is alive while waiting to restart");
      case Kind::timer:
        if (event_.timer != TimerKind::backoff) return illegal("only the backoff timer is armed");
        return spawn();
      case Kind::group_empty:
        return illegal("no stop is waiting for a group");
      case Kind::hold_restarts:
        return;
      case Kind::ready:
      case Kind::unhealthy:
      case Kind::watchdog_ping:
      case Kind::extend_timeout:
        return;  // from the run that ended: nothing to act on
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
        // An operator's stop ends in stopped, whatever ended the main; a deadline's stop is
        // still recorded as timed out.
        s().pending_end.reset();
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
        if (event_.timer != TimerKind::grace) return illegal("only the grace timer is armed");
        if (s().killed) return illegal("no timer is armed after SIGKILL");
        s().killed = true;
        return act(Act::kill_group);
      case Kind::group_empty:
        if (s().main_alive) return;  // the main process is in the group: it cannot be empty yet
        return complete_stop();
      case Kind::hold_restarts:
        return;
      case Kind::extend_timeout:
        return extend_timeout();  // STOPPING=1 with EXTEND_TIMEOUT_USEC: a slow clean stop
      case Kind::ready:
      case Kind::unhealthy:
      case Kind::watchdog_ping:
        return;  // checks pause while it stops
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
