// Container-init policy: which signals the daemon handles, the single-command mode's config,
// exit codes as shells report them, and whether the stop timeouts fit the shutdown timeout.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/fd.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/loop/signal_fd.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {

// The program `gardien -- CMD` synthesizes (`gardienctl status main`).
inline constexpr std::string_view kCommandProgram = "main";
// `--grace` when not given: docker stop's own default is 10 s, so the SIGKILL after the grace
// comes from gardien (which then still reaps and exits with CMD's code), not from docker.
inline constexpr Duration kDefaultGrace = std::chrono::seconds(10);

// Every signal the daemon registers on its loop besides SIGCHLD: all catchable asynchronous
// signals (the kernel drops any of them without a handler when gardien is PID 1), minus SIGPIPE
// (a SentSigpipe) and SIGTTIN/SIGTTOU (ignored with a terminal). Synchronous faults (SEGV, BUS,
// ...) are left at their default.
std::vector<int> daemon_signals();

// SIGPIPE, blocked and read from a signalfd, so that its sender tells the two kinds apart: one
// another process sent (`kill -PIPE`) is handed to `on_signal` like any other signal, while the
// daemon's own broken pipes (a write to a vanished reader, which then fails with EPIPE) are
// dropped. It stays ignored as well, and spawned children reset both (empty mask, defaults).
class SentSigpipe {
 public:
  SentSigpipe(EventLoop& loop, std::function<void(int)> on_signal);
  ~SentSigpipe();
  SentSigpipe(const SentSigpipe&) = delete;
  SentSigpipe& operator=(const SentSigpipe&) = delete;

 private:
  void read_all();

  BlockedSignalFd fd_;  // SIGPIPE, blocked: the EPIPE of a write is unaffected
  FdEvent readable_;
  std::function<void(int)> on_signal_;
};

// The kernel's own SIGPIPE for a write that failed with EPIPE names the writer as its sender.
bool is_own_broken_pipe(int code, pid_t sender);

// The signal that stops a command in a session of its own: its process group is orphaned there,
// so the kernel discards SIGTSTP, SIGTTIN and SIGTTOU it has no handler for; they become SIGSTOP
// (as dumb-init does). Any other signal is itself.
int signal_for_own_session(int signo);

// Signals the daemon takes as a request to shut down: TERM, INT, QUIT.
bool is_shutdown_signal(int signo);
// Signals that are routine noise (terminal resizes, job control): not worth an info line.
bool is_quiet_signal(int signo);

// Whether this process has a controlling terminal (`/dev/tty` opens): the command of
// `gardien -- CMD` then stays in gardien's session, else it gets a session of its own.
bool has_controlling_terminal();

// The one-program config of `gardien -- CMD ARGS...`: inherit output, restart never, critical,
// start-seconds 0, stop-timeout = shutdown-timeout = `grace`; `to_group` false signals only
// CMD (kill-mode = process; the SIGKILL after the grace still reaches the group).
Config single_command_config(std::vector<std::string> argv, Duration grace, bool to_group);

// A shell's $?: the exit code, or 128+N for death by signal N.
int shell_exit_code(const ExitStatus& status);
// 127 when the command was not found, 126 when it was found but could not be executed.
int spawn_failure_exit_code(std::string_view reason);
// The exit code an instance ended with: its last exit, or 127/126 when it could not start;
// 1 when it never ran.
int exit_code_of(const LifecycleStatus& status);

// The longest chain of stop-timeouts a graceful shutdown may have to wait out in sequence
// (a program stops only once everything that depends on it is down).
struct StopChain {
  Duration total{0};
  std::vector<std::string> programs;  // dependents first
};
StopChain longest_stop_chain(const Config& config);

}  // namespace gardien
