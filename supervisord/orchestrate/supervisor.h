// Owns every instance and the daemon's mode, and applies what the orchestrator decides (start
// order, shutdown order, critical programs: orchestrator.h). It is the control socket's
// ControlTarget: its public methods are the API the verbs use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "supervisord/control/control_target.h"
#include "supervisord/jobs/job_runner.h"
#include "supervisord/jobs/run_history_file.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/orchestrate/container_init.h"
#include "supervisord/orchestrate/orchestrator.h"
#include "supervisord/process/cgroup.h"
#include "supervisord/process/program.h"
#include "supervisord/process/reaper.h"
#include "supervisord/process/run_record.h"
#include "supervisord/readiness/instance_checks.h"
#include "supervisord/readiness/upward_notifier.h"

namespace gardien {

class OutputHub;

class Supervisor final : public ControlTarget {
 public:
  // Registers the daemon's signals on `loop` (before anything is spawned).
  Supervisor(EventLoop& loop, Config config, std::filesystem::path config_path);
  ~Supervisor() override;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the autostart programs and runs the loop until the shutdown is complete and every
  // child is reaped. Returns the daemon's exit code: 0 after a graceful shutdown, 1 if it had
  // to be forced.
  int run();

  // --- ControlTarget (docs: control_target.h). Names are instance names. ---
  std::vector<protocol::InstanceStatus> instances() const override;
  void count_processes(std::vector<protocol::InstanceStatus>& statuses) const override;
  // Starts the instances once their dependencies (started too if needed) are running.
  std::vector<protocol::InstanceResult> start(const std::vector<std::string>& names) override;
  std::vector<protocol::InstanceResult> stop(const std::vector<std::string>& names) override;
  std::vector<protocol::InstanceResult> restart(const std::vector<std::string>& names) override;
  std::vector<protocol::InstanceResult> signal(int signo,
                                               const std::vector<std::string>& names) override;
  // Sends reload-signal to each running instance's main process (supervisor_program_reload.cpp).
  std::vector<InstanceReload> reload_instances(const std::vector<std::string>& names) override;
  StateChangeHub& state_changes() override { return hub_; }
  ReloadOutcome reload(bool dry_run) override;
  // Tasks (supervisor_jobs.cpp).
  JobsAnswer submit_run(const RunRequest& request) override;
  JobsListing jobs(const std::string& task, std::size_t queued_limit) const override;
  std::optional<protocol::JobRecord> job(const std::string& id) const override;
  JobsAnswer cancel(const std::string& target) override;
  std::vector<protocol::TaskSchedule> schedules(const std::string& task, int count) const override;
  void shutdown() override { shutdown("gardienctl shutdown"); }
  bool shutting_down() const override { return mode_ != DaemonMode::running; }

  // One instance's status; nullopt when no instance has that name.
  std::optional<protocol::InstanceStatus> find(std::string_view instance) const;
  // Graceful shutdown, like SIGTERM; a second call makes it forceful.
  void shutdown(std::string_view why);
  const Config& config() const noexcept { return config_; }
  const std::filesystem::path& config_path() const noexcept { return config_path_; }
  // --log-level/--log-format given on the command line win over the config's, reloads included.
  void set_log_overrides(std::optional<LogLevel> level, std::optional<LogFormat> format) {
    log_level_override_ = level;
    log_format_override_ = format;
  }

  // --- Program output (docs/output.md). ---
  // From now on every spawn takes its stdout/stderr from `hub` (without: the daemon's own fds).
  // Call before run(); the hub must outlive the supervisor.
  void attach_output(OutputHub& hub);
  OutputHub* output() const noexcept { return output_; }
  // SIGUSR1 / `gardienctl reopen-logs`: reopens every log file.
  void reopen_logs();

  // --- Container init (docs/container.md). ---
  // Single-command mode (`gardien -- CMD`): every signal the daemon gets goes to `program`'s
  // process group (only its main process without `to_group`); TERM/INT/QUIT also start the
  // graceful shutdown. The program gets the daemon's stdin and, when stdin is a terminal, its
  // foreground. run() then returns the program's exit code (128+N for signal N, 127/126 when
  // it could not be executed). Call before run().
  void forward_signals_to(std::string_view program, bool to_group);

  // Keeps finished task runs and run numbers in `[supervisor] state-dir`, else in `default_dir`,
  // across restarts (docs/tasks.md "History"). Call before run(); only a config with tasks
  // creates the directory.
  void keep_task_history(const std::string& default_dir);

  // Keeps `path` up to date with what runs, for the next daemon should this one be killed
  // (run_record.h). Call before run().
  void keep_run_record(const std::filesystem::path& path);

  // --- The reload builds on these. ---
  // Adds a program and its instances (started if autostart); an error message on failure.
  std::optional<std::string> add_program(const ProgramConfig& program);
  // Stops every instance of `name`, then removes it; `done` runs once it is gone.
  bool remove_program(std::string_view name, std::function<void()> done = {});

 private:
  // One entry per instance: its Program and what the Supervisor intends for it (the facts the
  // orchestrator reads besides the Program's own status).
  struct Entry {
    std::unique_ptr<Program> program;
    std::unique_ptr<InstanceChecks> checks;  // its readiness and health; after `program`
    bool start_requested = false;            // starts once its dependencies allow
    bool restart_requested = false;          // changed by a reload: start again once stopped
    bool dropping = false;                   // removed once it has no process
  };

  Entry* entry(std::string_view name);
  const Entry* entry(std::string_view name) const;
  Program* instance(std::string_view name) const;
  Entry make_entry(const ProgramConfig& config, const std::string& name);
  // A new instance, or one a reload was dropping taken back; false when it exists already.
  bool add_instance(const ProgramConfig& config, const std::string& name);
  protocol::InstanceResult result_of(const Program& program, bool ok, std::string info) const;
  // Its status, with what its checks say; `waiting_for` as instance_status() takes it.
  protocol::InstanceStatus status_of(const Program& program, TimePoint now,
                                     const std::string& waiting_for) const;
  std::string waiting_for(const Program& program) const;
  void apply(const Config& next, const protocol::ReloadPlan& plan);
  // Adds the instances it creates that should run to `to_start`.
  void scale(const ProgramConfig& config, const protocol::ScaleChange& change,
             std::vector<std::string>& to_start);
  void rename(Program& program, const std::string& to);
  // Stopped by an operator or a reload: not kept up, not waiting to start or restart.
  void stop_on_purpose(Entry& entry);
  // Stopped on purpose, then removed once it has no process (a reload or removal dropped it).
  void drop(Entry& entry);
  std::vector<Program*> instances_of(std::string_view program) const;

  // --- Orchestration (supervisor_orchestrate.cpp): facts -> orchestrate() -> actions. ---
  std::vector<InstanceFacts> snapshot() const;
  DaemonFacts daemon_facts() const;
  // Marks `names` and what they need (start_closure) wanted and start-requested.
  void request_start(const std::vector<std::string>& names);
  // Decides and applies now. Never from inside a Program's callback: use evaluate_soon().
  void evaluate();
  // One more evaluation on the next turn of the loop (once, however often it is asked).
  void evaluate_soon();
  // One more evaluation later in this turn, once the Program's callback has returned: what
  // waited for an instance to be ready starts without a turn of delay. Inside an evaluation, or
  // with one already due next turn (a batch past its budget), the same as evaluate_soon().
  void evaluate_this_turn();
  void apply(const OrchestratorDecision& decision);
  void remove_instance(const std::string& name);
  void begin_shutdown(std::string_view why);
  void force_shutdown(std::string_view why);
  void end_when_children_gone();
  void on_state_change(Program& program, State before);
  // `reload NAME` (supervisor_program_reload.cpp): one instance, and what its checks hear.
  InstanceReload reload_instance(Program& program);
  void on_notice(Program& program, InstanceChecks::Notice notice);
  void on_signal(int signo);
  void after_reaping();
  void update_output_names();
  // --- Tasks (supervisor_jobs.cpp). ---
  void make_job_runner();
  // What the orchestrator reads of each task (a run on its way, how the latest ended).
  void add_task_facts(std::vector<InstanceFacts>& facts) const;
  // The status lines of tasks and their active runs, after the programs'.
  void add_task_statuses(std::vector<protocol::InstanceStatus>& out) const;
  // Applies the orchestrator's start/stop/kill to a task: false when `name` is no task.
  bool start_task(const std::string& name);
  bool stop_task(const std::string& name, bool forceful);
  // start/stop/restart/signal of a name that is a task or a run, not an instance.
  std::optional<protocol::InstanceResult> task_result(const std::string& name, bool stopping);
  void on_job_change(const protocol::JobRecord& record);
  // Opens the history file once the config has tasks (at start, or a reload that adds some).
  void open_task_history();
  // Tells the init above (NOTIFY_SOCKET) how things stand: READY=1 once every autostart
  // instance is ready, and a one-line summary.
  void notify_upward();
  std::string summary() const;
  // Container init.
  CgroupTree* cgroups_for(const ProgramConfig& program);
  void forward_signal(int signo);
  void on_child_stopped(pid_t pid, int signo);
  Program* command_instance() const;

  EventLoop& loop_;
  Config config_;
  std::filesystem::path config_path_;
  Reaper reaper_;
  SystemProcessHost probe_host_;  // exec probes spawn and are reaped like programs
  std::unique_ptr<UpwardNotifier> upward_;
  // Before the instances: their cgroups are removed before the tree that holds them.
  std::unique_ptr<CgroupTree> cgroup_tree_;
  bool cgroups_tried_ = false;
  struct CommandMode {
    std::string program;
    bool to_group = true;
    bool terminal = false;
  };
  std::optional<CommandMode> command_;
  std::optional<int> exit_code_;  // a critical program's, once one ended for good
  std::vector<std::unique_ptr<SignalEvent>> signals_;
  SentSigpipe sigpipe_;
  // Each instance's checks by its Program (stable across renames and reloads): a status needs
  // no search. Filled by make_entry, emptied by remove_instance; outlives the entries.
  std::unordered_map<const Program*, const InstanceChecks*> checks_of_;
  std::vector<Entry> instances_;
  // Programs being removed, with what to call once their last instance is gone.
  std::map<std::string, std::function<void()>> removing_;
  StateChangeHub hub_;
  std::optional<LogLevel> log_level_override_;
  std::optional<LogFormat> log_format_override_;
  DaemonMode mode_ = DaemonMode::running;
  bool exiting_ = false;  // everything is down and reaped: the loop was told to exit
  std::set<pid_t> orphans_signalled_;
  Timer shutdown_timer_;
  // How many instances one turn of the loop starts: thousands would block it for seconds.
  static constexpr std::size_t kSpawnsPerTurn = 32;
  Timer evaluate_soon_;
  SameTurnCall evaluate_this_turn_;
  bool evaluating_ = false;  // state changes an evaluation causes wait for the next turn
  OutputHub* output_ = nullptr;
  std::unique_ptr<RunRecord> run_record_;
  // Tasks whose run the orchestrator is asked to start once their dependencies allow (on-start
  // tasks at the daemon's start, a program's `completed` dependency).
  std::set<std::string> tasks_requested_;
  std::string history_dir_;  // keep_task_history's default
  std::unique_ptr<RunHistoryFile> history_;
  std::unique_ptr<JobRunner> jobs_;  // last: its runs' Programs use everything above
};

}  // namespace gardien
