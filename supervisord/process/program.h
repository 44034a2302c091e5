// One supervised instance: applies the lifecycle's decisions with real processes, timers and
// signals. Owns its timers, its pid and process group, and its statistics.
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/fd.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/program_output.h"
#include "supervisord/process/cgroup.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/process_host.h"
#include "supervisord/process/reaper.h"
#include "supervisord/process/run_observer.h"
#include "supervisord/process/spawn.h"

namespace gardien {

class OutputHub;

class Program {
 public:
  // Called after each state change, with the state it left.
  using OnChange = std::function<void(Program&, State before)>;

  // On the real system: spawn_process, kill(2), `reaper`, the loop's timers, the steady clock.
  Program(EventLoop& loop, Reaper& reaper, ProgramConfig config, std::string instance,
          OnChange on_change);
  // On `host` (a fake in tests); `host` outlives the Program.
  Program(EventLoop& loop, ProcessHost& host, ProgramConfig config, std::string instance,
          OnChange on_change);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  const std::string& name() const noexcept { return name_; }
  const ProgramConfig& config() const noexcept { return config_; }
  State state() const noexcept { return status_.state; }
  pid_t pid() const noexcept { return pid_; }
  const LifecycleStatus& status() const noexcept { return status_; }
  // Being kept up: started (by autostart or an operator) and not stopped on purpose since.
  bool wanted() const noexcept { return wanted_; }
  void set_wanted(bool wanted) noexcept { wanted_ = wanted; }
  // A reload changed the settings: used from the next spawn on (at once when no process runs,
  // so that a process is always stopped with the settings it was started with).
  void replace_config(ProgramConfig config);

  // Scaling from or to one instance renames it in place (`web` <-> `web.0`): the process keeps
  // running; its next spawn gets the new GARDIEN_INSTANCE.
  void rename(std::string name);

  // Operator and supervisor requests; each is a lifecycle event (a no-op where it makes no sense).
  void start() { feed(LifecycleEvent::of(LifecycleEvent::Kind::start)); }
  void stop() { feed(LifecycleEvent::of(LifecycleEvent::Kind::stop)); }
  void restart() { feed(LifecycleEvent::of(LifecycleEvent::Kind::restart)); }
  void kill() { feed(LifecycleEvent::of(LifecycleEvent::Kind::kill)); }
  // Sends `signo` to the main process (or its whole group); once the main is gone, to what is
  // left of its group. False with `error` when no process.
  bool send_signal(int signo, bool to_group, std::string& error);
  // The daemon is shutting down: an exit from now on is final.
  void hold_restarts() { feed(LifecycleEvent::of(LifecycleEvent::Kind::hold_restarts)); }
  // How long each run may last before it is stopped as timed out, from the next spawn on; zero:
  // no limit (the default). No config key sets it yet.
  void set_run_deadline(Duration deadline) noexcept { status_.run_deadline = deadline; }
  // --- What its readiness and health checks (the observer) report. ---
  // `observer` outlives the Program, or is reset to nullptr first.
  void set_observer(RunObserver* observer) noexcept { observer_ = observer; }
  void report_ready() { feed(LifecycleEvent::of(LifecycleEvent::Kind::ready)); }
  void report_unhealthy(std::string why) {
    feed(LifecycleEvent::unhealthy_because(std::move(why)));
  }
  void watchdog_ping() { feed(LifecycleEvent::of(LifecycleEvent::Kind::watchdog_ping)); }
  void extend_timeout(Duration delay) { feed(LifecycleEvent::extend_by(delay)); }
  // MAINPID=: `pid`, a process of its tree, becomes the main process (a daemon that forks). The
  // old main's exit is then not the run's end. false with `error` when `pid` is not in its tree.
  bool adopt_main(pid_t pid, std::string& error);

  // After a reaping: a stop waiting for the rest of its process group may be complete.
  void recheck_group();
  // Empty while its output sinks work; else e.g. "stdout file: No space left on device" (for
  // status INFO).
  std::string output_problem() const { return output_ ? output_->problems() : std::string(); }
  // Where its stdout/stderr go from the next spawn on; null: the daemon's own fds (inherit).
  void set_output_hub(OutputHub* hub) noexcept { output_hub_ = hub; }
  // How long an exit waits for the rest of the program's output (a grandchild may hold the pipe;
  // its later lines are still read).
  static constexpr Duration kOutputDrainWait = std::chrono::seconds(1);
  // The shortest time between two looks at whether a stopping group is empty.
  static constexpr Duration kGroupLookInterval = std::chrono::milliseconds(5);

  // --- Container init (single-command mode, kill-mode = cgroup). ---
  // kill-mode = "cgroup": each spawn joins this instance's cgroup under `tree` (made at the
  // first spawn); nullptr, or a cgroup that cannot be made, means `group`.
  void use_cgroups(CgroupTree* tree) { cgroup_tree_ = tree; }
  // The child gets the daemon's stdin and its own process group: in the daemon's session when
  // the daemon has a controlling terminal (the child keeps /dev/tty and job control), in a
  // session of its own otherwise. With `take_terminal`, that group becomes the terminal's
  // foreground.
  void attach_stdin(bool take_terminal, bool same_session) {
    attach_stdin_ = true;
    take_terminal_ = take_terminal;
    same_session_ = same_session || take_terminal;
  }
  // A stop that sends `signo` instead of stop-signal (a forwarded SIGINT/SIGQUIT).
  void stop_with(int signo) { feed(LifecycleEvent::stop_with(signo)); }
  pid_t pgid() const noexcept { return pgid_; }
  const Cgroup* cgroup() const noexcept { return cgroup_.get(); }

 private:
  Program(EventLoop& loop, std::unique_ptr<ProcessHost> owned_host, ProcessHost* host,
          ProgramConfig config, std::string instance, OnChange on_change);
  void feed(LifecycleEvent event);
  // A reload's settings, once no process runs with the old ones.
  void take_next_config();
  void on_group_poll();
  void apply(const LifecycleDecision& decision, State before);
  void do_spawn();
  void on_exit(pid_t pid, int wait_status);
  void on_timer(TimerKind kind);
  // The main process has exited, whether or not its exit was handled yet.
  bool main_exited() const;
  void after_output_drained(pid_t pid, int wait_status);
  bool open_output(std::string& error);
  void on_error_pipe();
  void close_error_pipe();
  bool group_empty();
  void signal_group(int signo);
  void signal_stop(int signo);
  // `signo` to every process of the cgroup, else of the process group.
  void signal_tree(int signo);
  void kill_tree();
  // `signo`, then SIGCONT so that a stopped process can act on it, to the whole tree or only to
  // the main process.
  void send_stop(int signo, bool whole_tree);
  void signal_leftovers();

  EventLoop& loop_;
  std::unique_ptr<ProcessHost> owned_host_;  // the real system, unless a host was given
  ProcessHost& host_;
  ProgramConfig config_;
  std::string name_;
  OnChange on_change_;
  LifecycleStatus status_;
  pid_t pid_ = 0;   // the main process until it is reaped; never signalled after that
  pid_t pgid_ = 0;  // its process group, kept until the group is seen empty
  std::optional<SpawnPlan> plan_;  // reused by every spawn until one fails; describes exec errors
  Fd error_pipe_;
  std::shared_ptr<FdEvent> error_event_;
  std::string exec_error_;
  std::array<std::unique_ptr<HostTimer>, kTimerKinds.size()> timers_;  // one per TimerKind
  // Only while a stop waits for a non-empty group whose main is gone.
  std::unique_ptr<HostTimer> group_poll_;
  // A look at the group that came too soon after the last one, deferred.
  std::unique_ptr<HostTimer> group_look_;
  TimePoint next_group_look_{};
  std::vector<LifecycleEvent> queue_;  // events raised while one is being applied
  bool feeding_ = false;
  bool wanted_ = false;
  std::optional<ProgramConfig> next_config_;  // from a reload, waiting for the process to end
  OutputHub* output_hub_ = nullptr;
  std::unique_ptr<ProgramOutput> output_;  // this run's pipes and readers
  // Earlier runs' pipes that a process they left still holds open: read until EOF.
  std::vector<std::unique_ptr<ProgramOutput>> lingering_outputs_;
  CgroupTree* cgroup_tree_ = nullptr;
  std::unique_ptr<Cgroup> cgroup_;
  std::unique_ptr<FdEvent> cgroup_event_;  // cgroup.events changed: the stop may be complete
  bool attach_stdin_ = false;
  bool take_terminal_ = false;
  bool same_session_ = false;
  int tree_stop_signal_ = 0;  // the stop signal the whole tree got during this run; 0: none
  RunObserver* observer_ = nullptr;
};

}  // namespace gardien
