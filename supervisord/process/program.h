// One supervised instance: applies the lifecycle's decisions with real processes, timers and
// signals. Owns its timers, its pid and process group, and its statistics.
#pragma once

#include <sys/types.h>

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
#include "supervisord/process/reaper.h"
#include "supervisord/process/spawn.h"

namespace gardien {

class OutputHub;

// nullopt when gardien can run `config`; else why not (kill-mode = "cgroup" for now).
std::optional<std::string> unsupported(const ProgramConfig& config);

class Program {
 public:
  // Called after each state change, with the state it left.
  using OnChange = std::function<void(Program&, State before)>;

  Program(EventLoop& loop, Reaper& reaper, ProgramConfig config, std::string instance,
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
  void hold_restarts() { status_.restarts_allowed = false; }
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
  void stop_with(int signo);
  pid_t pgid() const noexcept { return pgid_; }
  const Cgroup* cgroup() const noexcept { return cgroup_.get(); }

 private:
  void feed(LifecycleEvent event);
  void apply(const LifecycleDecision& decision, State before);
  void do_spawn();
  void on_exit(int wait_status);
  void on_timer();
  // The main process has exited, whether or not its exit was handled yet.
  bool main_exited() const;
  void after_output_drained(pid_t pid, int wait_status);
  bool open_output(std::string& error);
  void on_error_pipe();
  void close_error_pipe();
  bool group_empty();
  void signal_group(int signo);
  void signal_stop();
  // `signo` to every process of the cgroup, else of the process group.
  void signal_tree(int signo);
  // `signo` + SIGCONT to the whole tree.
  void stop_tree(int signo);
  void signal_leftovers();

  EventLoop& loop_;
  Reaper& reaper_;
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
  Timer timer_;       // start-seconds, backoff or stop grace: one at a time
  Timer group_poll_;  // only while a stop waits for a non-empty group whose main is gone
  Timer group_look_;  // a look at the group that came too soon after the last one, deferred
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
  int stop_signal_override_ = 0;
  int tree_stop_signal_ = 0;  // the stop signal the whole tree got during this run; 0: none
};

}  // namespace gardien
