#include "supervisord/orchestrate/container_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

#include "common/fd.h"
#include "common/signals.h"
#include "supervisord/loop/log.h"

namespace gardien {

std::vector<int> daemon_signals() {
  std::vector<int> out = {SIGHUP,    SIGINT,  SIGQUIT,  SIGUSR1, SIGUSR2, SIGALRM,
                          SIGTERM,   SIGCONT, SIGTSTP,  SIGURG,  SIGXCPU, SIGXFSZ,
                          SIGVTALRM, SIGPROF, SIGWINCH, SIGIO,   SIGPWR,  SIGSTKFLT};
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) out.push_back(s);
  return out;
}

SentSigpipe::SentSigpipe(EventLoop& loop, std::function<void(int)> on_signal)
    : fd_(SIGPIPE),
      readable_(loop, fd_.fd(), EV_READ, [this](short) { read_all(); }),
      on_signal_(std::move(on_signal)) {
  readable_.enable();
}

SentSigpipe::~SentSigpipe() = default;  // pending ones, once unblocked: ignored

void SentSigpipe::read_all() {
  signalfd_siginfo info;
  while (::read(fd_.fd(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    pid_t sender = static_cast<pid_t>(info.ssi_pid);
    if (is_own_broken_pipe(info.ssi_code, sender)) continue;
    log::debug("SIGPIPE sent by another process",
               {{"event", "daemon_signal"}, {"signal", signal_name(SIGPIPE)}, {"sender", sender}});
    on_signal_(SIGPIPE);
  }
}

bool is_own_broken_pipe(int code, pid_t sender) {
  return code == SI_USER && sender == ::getpid();
}

int signal_for_own_session(int signo) {
  return signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU ? SIGSTOP : signo;
}

bool is_shutdown_signal(int signo) {
  return signo == SIGTERM || signo == SIGINT || signo == SIGQUIT;
}

bool is_quiet_signal(int signo) {
  return signo == SIGWINCH || signo == SIGCONT || signo == SIGURG || signo == SIGTSTP;
}

bool has_controlling_terminal() {
  Fd tty(::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC));
  return static_cast<bool>(tty);
}

Config single_command_config(std::vector<std::string> argv, Duration grace, bool to_group) {
  Config config;
  config.supervisor.shutdown_timeout = grace;
  ProgramConfig p;
  p.name = std::string(kCommandProgram);
  p.command = std::move(argv);
  p.restart = RestartPolicy::never;
  p.critical = true;
  p.start_seconds = Duration{0};
  p.stop_timeout = grace;
  p.kill_mode = to_group ? KillMode::group : KillMode::process;
  p.stdout_sink.kind = OutputSink::Kind::inherit;
  p.stderr_sink.kind = OutputSink::Kind::inherit;
  p.log_buffer_size = 0;
  config.programs.push_back(std::move(p));
  return config;
}

int shell_exit_code(const ExitStatus& status) {
  return status.signaled ? 128 + status.signal : status.code;
}

int spawn_failure_exit_code(std::string_view reason) {
  return reason.find(std::strerror(ENOENT)) != std::string_view::npos ? 127 : 126;
}

int exit_code_of(const LifecycleStatus& status) {
  const std::string& r = status.reason;
  bool exit_reason = r.starts_with("exit code") || r.starts_with("killed by");
  if (status.state == State::fatal && !r.empty() && !exit_reason) return spawn_failure_exit_code(r);
  if (status.last_exit) return shell_exit_code(*status.last_exit);
  return 1;
}

StopChain longest_stop_chain(const Config& config) {
  std::map<std::string, StopChain> memo;
  // chain(p) = p's stop-timeout + the longest chain among the programs that depend on p.
  std::function<StopChain(const ProgramConfig&)> chain = [&](const ProgramConfig& p) {
    if (auto it = memo.find(p.name); it != memo.end()) return it->second;
    memo[p.name] =
        StopChain{p.stop_timeout, {p.name}};  // a cycle (rejected by the loader) ends here
    StopChain longest;
    for (const ProgramConfig& q : config.programs) {
      for (const std::string& dep : q.depends_on) {
        if (dep != p.name) continue;
        StopChain c = chain(q);
        if (c.total > longest.total || longest.programs.empty()) longest = c;
      }
    }
    longest.total += p.stop_timeout;
    longest.programs.push_back(p.name);
    memo[p.name] = longest;
    return longest;
  };
  StopChain best;
  for (const ProgramConfig& p : config.programs) {
    StopChain c = chain(p);
    if (c.total > best.total || best.programs.empty()) best = c;
  }
  return best;
}

}  // namespace gardien
