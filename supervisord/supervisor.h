// Owns every instance, starts them in dependency order, and runs the daemon's shutdown mode.
// Its public methods are the API the control socket builds on.
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
#include <vector>

#include "common/config.h"
#include "supervisord/cgroup.h"
#include "supervisord/event_loop.h"
#include "supervisord/program.h"
#include "supervisord/reaper.h"

namespace gardien {

// The answer to a control request.
struct Outcome {
  bool ok = true;
  std::string code;  // when !ok: "unknown-program", "shutting-down", "not-running", "bad-request"
  std::string message;                 // when !ok: one line naming the thing and the fix
  std::vector<std::string> instances;  // the instances the request applied to
};

class Supervisor;

// Keeps an observer registered; unregisters it when destroyed (it must not outlive the Supervisor).
class Subscription {
 public:
  Subscription() = default;
  Subscription(Supervisor* owner, std::uint64_t id) : owner_(owner), id_(id) {}
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription();
  void reset();

 private:
  Supervisor* owner_ = nullptr;
  std::uint64_t id_ = 0;
};

class Supervisor {
 public:
  using Observer = std::function<void(const StateChange&)>;

  // Registers the daemon's signals on `loop` (before anything is spawned) and ignores SIGPIPE.
  // `config` must have passed unsupported() for every program.
  Supervisor(EventLoop& loop, Config config, std::filesystem::path config_path);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the autostart programs and runs the loop until the shutdown is complete and every
  // child is reaped. Returns the daemon's exit code: 0 after a graceful shutdown, 1 if it had
  // to be forced.
  int run();

  // --- For the control socket. ---
  // A target is an instance ("web.1"), a program ("web": all of its instances) or "all".
  std::vector<InstanceInfo> list() const;  // every instance, in config order
  std::optional<InstanceInfo> find(std::string_view instance) const;
  // Starts the targets once their dependencies (started too if needed) are running.
  Outcome start(std::string_view target);
  Outcome stop(std::string_view target);
  Outcome restart(std::string_view target);
  // To the main process, or with `to_group` to its whole process group.
  Outcome signal(std::string_view target, int signo, bool to_group = false);
  // Graceful shutdown, like SIGTERM; a second call makes it forceful.
  void shutdown(std::string_view why);
  bool shutting_down() const noexcept { return shutting_down_; }
  // `observer` gets every state change of every instance until the Subscription dies.
  [[nodiscard]] Subscription subscribe(Observer observer);
  const Config& config() const noexcept { return config_; }
  const std::filesystem::path& config_path() const noexcept { return config_path_; }

  // --- Container init (docs/container.md). ---
  // Single-command mode (`gardien -- CMD`): every signal the daemon gets goes to `program`'s
  // process group (only its main process without `to_group`); TERM/INT/QUIT also start the
  // graceful shutdown. The program gets the daemon's stdin and, when stdin is a terminal, its
  // foreground. run() then returns the program's exit code (128+N for signal N, 127/126 when
  // it could not be executed). Call before run().
  void forward_signals_to(std::string_view program, bool to_group);

  // --- For the reload diff (control issue). ---
  // Adds a program and its instances (started if autostart); an error message on failure.
  std::optional<std::string> add_program(const ProgramConfig& program);
  // Stops every instance of `name`, then removes it; `done` runs once it is gone.
  bool remove_program(std::string_view name, std::function<void()> done = {});

 private:
  friend class Subscription;
  void unsubscribe(std::uint64_t id) { observers_.erase(id); }

  std::vector<Program*> resolve(std::string_view target, Outcome& outcome) const;
  std::vector<Program*> instances_of(std::string_view program) const;
  const ProgramConfig* program_config(std::string_view name) const;
  void want_started(const std::string& program, std::set<std::string>& visiting);
  void start_ready();
  bool all_running(std::string_view program) const;
  bool any_process(std::string_view program) const;
  void on_state_change(Program& program, const StateChange& change);
  void on_signal(int signo);
  void reload();
  void advance_shutdown();
  void force_shutdown(std::string_view why);
  void after_reaping();
  void finish_removals();
  // Container init.
  CgroupTree* cgroups_for(const ProgramConfig& program);
  void forward_signal(int signo);
  void on_child_stopped(pid_t pid, int signo);
  void on_program_end(Program& program, const StateChange& change);
  bool all_ended() const;
  Program* command_instance() const;

  EventLoop& loop_;
  Config config_;
  std::filesystem::path config_path_;
  Reaper reaper_;
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
  std::vector<std::unique_ptr<Program>> instances_;
  std::set<std::string> pending_start_;  // programs waiting for their dependencies
  std::map<std::string, std::function<void()>> removing_;
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
  bool shutting_down_ = false;
  bool forceful_ = false;
  std::set<pid_t> orphans_signalled_;
  bool exiting_ = false;
  bool in_start_ready_ = false;
  bool start_ready_again_ = false;
  bool in_advance_shutdown_ = false;
  Timer shutdown_timer_;
};

}  // namespace gardien
