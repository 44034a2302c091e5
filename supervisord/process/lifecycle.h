// A program instance's life as a pure function: (status, event, config, now) -> decision.
// No processes, no timers, no clock reads: Program applies the decision's actions.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/protocol.h"

namespace gardien {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// The states are the protocol's: one list (protocol::kInstanceStates) names them everywhere.
using State = protocol::InstanceState;
std::string_view to_string(State state);
// True in the states where a process of the instance may be alive.
bool has_process(State state);

// How a process ended, from waitpid's status.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // signal number when signaled
  static ExitStatus from_wait_status(int wait_status);
  static ExitStatus exited(int code) { return {false, code, 0}; }
  static ExitStatus killed(int signo) { return {true, 0, signo}; }
  // "exit code 3" or "killed by SIGKILL".
  std::string to_string() const;
  bool operator==(const ExitStatus&) const = default;
};

// How an instance's last run ended, apart from the state it is in now (the protocol's list).
using RunOutcome = protocol::RunOutcome;

// Which of an instance's timers an action arms or cancels and an event reports. Each kind runs
// on its own, so a deadline runs alongside start-seconds.
enum class TimerKind {
  start,     // start-seconds: starting -> running (programs without `ready`)
  backoff,   // the delay before a restart
  grace,     // stop-timeout: stop signal -> SIGKILL
  deadline,  // how long one run may last (LifecycleStatus::run_deadline)
  ready,     // ready-timeout: not ready by then is a failed start
  watchdog,  // `watchdog`: running without a WATCHDOG=1 for this long is unhealthy
};
inline constexpr std::array<TimerKind, 6> kTimerKinds = {TimerKind::start, TimerKind::backoff,
                                                         TimerKind::grace, TimerKind::deadline,
                                                         TimerKind::ready, TimerKind::watchdog};
std::string_view to_string(TimerKind kind);

struct LifecycleEvent {
  enum class Kind {
    start,           // an operator or the supervisor wants it up
    stop,            // wants it down (graceful: stop-signal, grace, SIGKILL)
    restart,         // stop if up, then start
    kill,            // forceful shutdown: SIGKILL the group now
    spawned,         // fork succeeded; the process exists
    spawn_failed,    // fork or exec failed (`reason` says which and why)
    exited,          // the main process was reaped (`status`)
    timer,           // one of the instance's timers fired (`timer` says which)
    group_empty,     // nothing is left in the process group
    hold_restarts,   // the daemon is shutting down: an exit from now on is final
    ready,           // its readiness passed (READY=1, the fd line, a probe)
    unhealthy,       // its health check failed failure-threshold times in a row (`reason`)
    watchdog_ping,   // WATCHDOG=1: the watchdog starts over
    extend_timeout,  // EXTEND_TIMEOUT_USEC: the ready or stop timeout lasts at least `delay` more
  };
  static constexpr int kKinds = 14;
  Kind kind = Kind::start;
  ExitStatus status;        // exited
  std::string reason;       // spawn_failed
  bool group_empty = true;  // exited, spawn_failed: the group was empty when the main was reaped
  // spawn_failed: the daemon ran out of fds, processes or memory. Not the program's fault: it is
  // retried with backoff and never counts towards start-retries.
  bool out_of_resources = false;
  TimerKind timer = TimerKind::start;  // timer: which one fired
  // timer: the main process has exited, but its exit was not handled yet (the SIGCHLD or the
  // drain of its output comes next).
  bool main_exited = false;
  int signal = 0;     // stop: the signal to stop with instead of stop-signal; 0: stop-signal
  Duration delay{0};  // extend_timeout

  static LifecycleEvent of(Kind kind) {
    LifecycleEvent e;
    e.kind = kind;
    return e;
  }
  static LifecycleEvent exit(ExitStatus status, bool group_empty) {
    LifecycleEvent e = of(Kind::exited);
    e.status = status;
    e.group_empty = group_empty;
    return e;
  }
  static LifecycleEvent failure(std::string reason, bool group_empty,
                                bool out_of_resources = false) {
    LifecycleEvent e = of(Kind::spawn_failed);
    e.reason = std::move(reason);
    e.group_empty = group_empty;
    e.out_of_resources = out_of_resources;
    return e;
  }
  static LifecycleEvent timer_fired(TimerKind which, bool main_exited = false) {
    LifecycleEvent e = of(Kind::timer);
    e.timer = which;
    e.main_exited = main_exited;
    return e;
  }
  static LifecycleEvent unhealthy_because(std::string why) {
    LifecycleEvent e = of(Kind::unhealthy);
    e.reason = std::move(why);
    return e;
  }
  static LifecycleEvent extend_by(Duration delay) {
    LifecycleEvent e = of(Kind::extend_timeout);
    e.delay = delay;
    return e;
  }
  static LifecycleEvent stop_with(int signo) {
    LifecycleEvent e = of(Kind::stop);
    e.signal = signo;
    return e;
  }
};
std::string_view to_string(LifecycleEvent::Kind kind);

// What the decisions read and write besides the state.
// How the main process ended while processes of its group lived on: the instance stops those
// first and takes the state this end calls for once its group is empty.
struct PendingEnd {
  bool during_start = false;         // it ended in starting, not running
  std::optional<ExitStatus> status;  // its exit; nullopt when exec failed (`failure` says why)
  std::string failure;
  bool timed_out = false;  // it was stopped because its run passed its deadline
  bool give_up = false;    // it was stopped for good (health restarts spent): fatal with `failure`
  bool operator==(const PendingEnd&) const = default;
};

struct LifecycleStatus {
  State state = State::stopped;
  bool main_alive = false;        // the main process exists and was not reaped yet
  bool killed = false;            // stopping: SIGKILL was sent to the group
  bool start_after_stop = false;  // stopping: start again once the stop completes (restart)
  bool restarts_allowed = true;   // false while the daemon shuts down: an exit is final
  int failed_starts = 0;          // spawns in a row that never reached running
  int backoff_step = 0;           // restarts since the instance last reached running
  int restarts = 0;               // restarts made by the policy (not by operators), for display
  TimePoint spawned_at{};
  TimePoint state_since{};
  TimePoint timer_due{};  // when the state's own timer (start/ready, backoff, grace) fires
  // How long one run may last before it is stopped as timed out; zero: no limit. No config key
  // sets it yet.
  Duration run_deadline{0};
  std::optional<ExitStatus> last_exit;
  std::optional<RunOutcome> last_run;  // how the last run ended; nullopt: none ended yet
  // stopping: what the stop records as the run's outcome once it completes (its first cause).
  RunOutcome stop_outcome = RunOutcome::stopped_by_operator;
  std::string reason;  // why the state is what it is (fatal, backoff, exited)
  // stopping: the main ended on its own and left processes behind (see PendingEnd).
  std::optional<PendingEnd> pending_end;
  // When its recent health restarts were made (within backoff-max): the budget health-restarts
  // spends.
  std::vector<TimePoint> health_restarts;
};

struct LifecycleAction {
  enum class Kind {
    spawn,         // fork/exec the program, then feed spawned or spawn_failed
    arm_timer,     // (re)arm the `timer` timer for `delay`
    cancel_timer,  // cancel the `timer` timer
    // `signal` + SIGCONT to the group (or the main process, kill-mode = process)
    signal_stop,
    kill_group,   // SIGKILL to the group
    watch_group,  // the main is gone but the group is not: poll until it is empty
    // The main is gone: stop-signal + SIGCONT to what is left of its group or cgroup, unless
    // that group already got exactly this stop.
    signal_leftovers,
  };
  Kind kind = Kind::spawn;
  Duration delay{0};
  TimerKind timer = TimerKind::start;  // arm_timer, cancel_timer
  int signal = 0;                      // signal_stop
  bool operator==(const LifecycleAction&) const = default;
};
std::string_view to_string(LifecycleAction::Kind kind);

struct LifecycleDecision {
  bool legal = true;  // false: the event makes no sense in this state; nothing changes
  std::string why;    // for an illegal event, the explanation to log
  LifecycleStatus next;
  std::vector<LifecycleAction> actions;
  bool state_changed(const LifecycleStatus& before) const { return next.state != before.state; }
};

// The minimum time between two spawns of one instance, whatever `backoff` says: a program that
// crashes at once never spins the CPU.
inline constexpr Duration kMinSpawnInterval = std::chrono::milliseconds(100);
// How often a stop that waits for the rest of an emptying process group looks again.
inline constexpr Duration kGroupPollInterval = std::chrono::milliseconds(50);

// The delay before restart number `step` (0-based) after the last healthy run:
// backoff * 2^step, capped at backoff-max.
Duration backoff_delay(const ProgramConfig& config, int step);

// The run ended by exiting with one of success-exit-codes: what a dependency on its completion
// waits for.
bool is_success(const ExitStatus& status, const ProgramConfig& config);
bool completed_successfully(const LifecycleStatus& status, const ProgramConfig& config);

LifecycleDecision decide(const LifecycleStatus& status, const LifecycleEvent& event,
                         const ProgramConfig& config, TimePoint now);

}  // namespace gardien
