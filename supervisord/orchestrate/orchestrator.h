// What runs next, as a pure function: (every instance's facts, the config, the daemon's mode)
// -> which instances start, stop or are killed now, which wait and for whom, which may be
// removed, and whether the daemon is done. No processes, no clock, no loop: the Supervisor
// gathers the facts and applies the decision, as Program applies the lifecycle's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {

// One instance as the orchestrator sees it.
struct InstanceFacts {
  std::string name;     // "web.0"
  std::string program;  // "web"
  State state = State::stopped;
  bool killed = false;     // stopping: SIGKILL was sent already
  bool wanted = false;     // kept up: started and not stopped on purpose since
  bool started = false;    // its process was spawned and lives (`depends-on` condition `started`)
  bool ready = false;      // fit to serve its dependents (`depends-on` condition `ready`)
  bool completed = false;  // exited with one of its success-exit-codes
  std::optional<ExitStatus> last_exit;
  std::string ended;   // how its last run ended, for whoever waits on it ("exit code 3")
  std::string reason;  // its lifecycle's reason (why fatal, exited, ...)
  // Intents the Supervisor keeps for it:
  bool start_requested = false;    // starts once its dependencies allow (autostart, start, ...)
  bool restart_requested = false;  // a reload changed it: start again once it has no process
  bool dropping = false;           // a reload or removal dropped it: removed once it has no process
};

// The lifecycle-derived facts of an instance (state, exit, completed); the caller adds the
// intents and readiness.
InstanceFacts facts_of(std::string name, const ProgramConfig& config,
                       const LifecycleStatus& status);

enum class DaemonMode { running, graceful_shutdown, forceful_shutdown };
std::string_view to_string(DaemonMode mode);

struct DaemonFacts {
  DaemonMode mode = DaemonMode::running;
  // Single-command mode (`gardien -- CMD`): its instance; the daemon ends with it.
  std::optional<std::string> command;
  // The exit code a critical program's end decided; once set, no other critical one decides.
  std::optional<int> critical_exit;
  // How many instances this evaluation may start (the rest wait for the next one).
  std::size_t start_budget = 32;
};

// The daemon must shut down (running mode only).
struct Ending {
  std::string instance;              // the critical program or command that ended
  std::string why;                   // "a critical program ended", "the command ended"
  std::optional<int> critical_exit;  // set when a critical program's end decides the exit code
};

struct Waiting {
  std::string instance;
  std::string info;  // "db cache", "migrate, which failed: exit code 3", "db (fatal): ..."
};

struct OrchestratorDecision {
  // Become start-requested (a reload's restart whose process ended, and what it needs).
  std::vector<std::string> request_start;
  std::vector<std::string> start;   // start() now, in this order
  std::vector<std::string> stop;    // graceful shutdown: stop() now
  std::vector<std::string> kill;    // forceful shutdown: kill() now
  std::vector<std::string> remove;  // dropped and without a process: remove now
  std::vector<Waiting> waiting;     // start-requested, their dependencies not there yet
  bool more_to_start = false;       // the budget ran out: evaluate again on the next turn
  std::optional<Ending> end;
  bool programs_down = false;  // a shutdown mode and no instance has a process left
  int exit_code = 0;           // what the daemon exits with once it is done
};

OrchestratorDecision orchestrate(const std::vector<InstanceFacts>& instances, const Config& config,
                                 const DaemonFacts& daemon);

// Starting `roots` also starts what they depend on that is neither there nor on its way (a
// `completed` dependency that already completed is not run again). Every instance to mark
// start-requested and wanted, roots first.
std::vector<std::string> start_closure(const std::vector<InstanceFacts>& instances,
                                       const Config& config, const std::vector<std::string>& roots);

// What a start-requested instance waits for ("db cache"; "migrate, which failed: exit code 3"),
// empty when its dependencies allow it to start.
std::string waiting_for(const std::vector<InstanceFacts>& instances, const Config& config,
                        const InstanceFacts& instance);

}  // namespace gardien
