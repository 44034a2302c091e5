// Starting one process: everything is computed before fork(); the child only makes
// async-signal-safe calls and reports a failure through a close-on-exec pipe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/fd.h"

namespace gardien {

// The uid/gid/groups the child switches to.
struct SpawnIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (setgroups)
  bool set_uid = false;       // false: `group` without `user`, only the groups change
};

// Everything the child needs, ready for execve.
struct SpawnPlan {
  std::string path;               // the resolved executable (PATH searched in the parent)
  std::vector<std::string> argv;  // argv[0] is the command as configured
  std::vector<std::string> envp;  // "KEY=VALUE", sorted by key
  std::string directory;          // empty: the daemon's
  std::optional<mode_t> umask;
  std::vector<ResourceLimit> rlimits;
  std::optional<SpawnIdentity> identity;
  // The child's stdio. -1: stdin reads /dev/null, stdout/stderr are the daemon's own; else the
  // ends of the output hub's pipes, so the daemon reads what the program writes.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // false: a new process group in the daemon's session instead of a new session (single-command
  // mode, so that the child can own the daemon's terminal).
  bool new_session = true;
  // With !new_session: the child's group becomes the foreground of the terminal on stdin.
  bool take_terminal = false;
  // An O_WRONLY fd on a cgroup's cgroup.procs: the child joins that cgroup (kill-mode = cgroup).
  int cgroup_fd = -1;
  // Sent to the child when the daemon dies (PR_SET_PDEATHSIG); 0: none.
  int parent_death_signal = 0;
  // Fds the child gets at fixed numbers ({fd in the daemon, number in the child >= 3}), kept
  // open while every other fd is closed: the readiness fd of the s6 protocol.
  std::vector<std::pair<int, int>> pass_fds;
  // The name of an environment entry ("WATCHDOG_PID") whose value the child sets to its own pid.
  std::string pid_variable;
};

// Sets `key` to `value` in `plan`'s environment, keeping it sorted.
void set_environment(SpawnPlan& plan, const std::string& key, const std::string& value);

// The child's environment: the daemon's, then HOME/USER/LOGNAME/SHELL of `user`, then the
// program's `environment`, then GARDIEN_PROGRAM, GARDIEN_INSTANCE and GARDIEN_INSTANCE_INDEX.
std::vector<std::string> build_environment(const ProgramConfig& config, const std::string& instance,
                                           char* const* daemon_environ);

// Resolves `name` like execvp would, against `path_var` (a PATH value; the default when unset).
// A name with a '/' is used as is. On failure returns nullopt and sets `error`.
std::optional<std::string> find_executable(const std::string& name,
                                           const std::optional<std::string>& path_var,
                                           std::string& error);

// Raises the daemon's soft RLIMIT_NOFILE to its hard limit (thousands of programs hold thousands
// of pipes); every child spawned afterwards gets the original soft limit back, before its own
// `rlimits`. Call once at start, before any spawn.
void raise_fd_limit() noexcept;

// Builds the plan for one instance of `config`; nullopt with `error` set when it cannot run
// (command not found in PATH, empty command).
std::optional<SpawnPlan> make_spawn_plan(const ProgramConfig& config, const std::string& instance,
                                         char* const* daemon_environ, std::string& error);

struct SpawnedProcess {
  pid_t pid = -1;
  // Why the child could not exec, when that is already known ("" = it exec'd or may still).
  std::string exec_error;
  // Only when the outcome is not known yet (fork fallback): EOF once exec succeeded, a report
  // (read_spawn_error) when it failed.
  Fd error_pipe;
};

// Starts the child with every signal blocked around the clone/fork. nullopt with `error` set
// (and errno) when no process could be created. An exec failure is reported in `exec_error` (or
// later through `error_pipe`); the child then exits 127 and must still be reaped.
std::optional<SpawnedProcess> spawn_process(const SpawnPlan& plan, std::string& error);

// Reads the error pipe without blocking. Returns:
//   nullopt  - nothing to read yet (the child has neither exec'd nor failed)
//   ""       - exec succeeded (EOF)
//   message  - why the child could not exec: "exec /usr/bin/x: No such file or directory"
std::optional<std::string> read_spawn_error(int error_pipe, const SpawnPlan& plan);

}  // namespace gardien
