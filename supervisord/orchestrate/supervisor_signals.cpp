// The daemon's signals as the Supervisor answers them: reload, reopen, shutdown, and in
// single-command mode forwarding to the command (docs/container.md).
#include <signal.h>
#include <unistd.h>

#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/container_init.h"
#include "supervisord/orchestrate/supervisor.h"

namespace gardien {

void Supervisor::forward_signal(int signo) {
  Program* cmd = command_instance();
  if (!cmd) return;
  if (signo == SIGCONT && command_->terminal && cmd->pgid() != 0 &&
      ::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) {
    // `fg` gave the terminal back to gardien: it belongs to the command's group.
    ::tcsetpgrp(STDIN_FILENO, cmd->pgid());
  }
  if (is_shutdown_signal(signo) && !shutting_down()) {
    log::info("signal received", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
    cmd->stop_with(signo);  // the signal itself, SIGKILL after the grace
    shutdown(signal_name(signo));
    return;
  }
  // A command with a session of its own: the kernel would discard a stop signal it has no
  // handler for, its group being orphaned there.
  if (cmd->pid() > 0 && ::getsid(cmd->pid()) == cmd->pid()) signo = signal_for_own_session(signo);
  std::string error;
  if (!cmd->send_signal(signo, command_->to_group, error))
    log::debug("signal not forwarded", {{"event", "forward"}, {"error", error}});
}

void Supervisor::on_child_stopped(pid_t pid, int signo) {
  Program* cmd = command_instance();
  if (!cmd || pid != cmd->pid()) return;
  if (signo != SIGTSTP && signo != SIGTTIN && signo != SIGTTOU) return;
  if (::getpid() == 1) return;  // PID 1 cannot be stopped: nothing to hand back to
  // Ctrl-Z stopped the command: stop gardien too, so the shell sees its job stopped and
  // takes the terminal back; `fg` continues gardien, which continues the command (SIGCONT).
  log::debug("the command was stopped: stopping too",
             {{"event", "job_stop"}, {"signal", signal_name(signo)}});
  ::kill(::getpid(), SIGSTOP);
}

// --- The daemon's own signals (config mode). ---

void Supervisor::on_signal(int signo) {
  if (command_) return forward_signal(signo);
  if (signo == SIGUSR1) return reopen_logs();
  if (signo == SIGHUP) {
    if (shutting_down()) {
      log::warn("SIGHUP ignored: gardien is shutting down", {{"event", "reload"}, {"ok", false}});
      return;
    }
    reload(false);  // logs its diagnostics and its plan
    return;
  }
  if (!is_shutdown_signal(signo)) {
    if (!is_quiet_signal(signo))
      log::info("signal ignored", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
    return;
  }
  log::info("signal received", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
  shutdown(signal_name(signo));
}

}  // namespace gardien
