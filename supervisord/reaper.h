// SIGCHLD -> waitpid(-1, WNOHANG) until nothing is left -> the handler registered for that pid.
// Orphans of programs come back to the daemon (child subreaper) and are reaped too.
#pragma once

#include <sys/types.h>

#include <functional>
#include <unordered_map>
#include <vector>

#include "supervisord/event_loop.h"

namespace gardien {

class Reaper {
 public:
  // Registers SIGCHLD on the loop (construct before the first spawn) and makes the daemon a
  // child subreaper unless it is PID 1.
  explicit Reaper(EventLoop& loop);
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // `on_exit` gets waitpid's status once `pid` is reaped; it is called at most once.
  void watch(pid_t pid, std::function<void(int wait_status)> on_exit);
  void forget(pid_t pid);
  // Called after each SIGCHLD once everything that exited was reaped (process groups may
  // have emptied, a shutdown may be complete).
  void after_reaping(std::function<void()> fn) { after_reaping_ = std::move(fn); }
  // From now on, children stopped by a signal are reported too (job control on a terminal).
  void on_stopped(std::function<void(pid_t pid, int signo)> fn) { on_stopped_ = std::move(fn); }

  // Reaps everything that has exited and dispatches by pid. Normally run by SIGCHLD.
  void reap();
  // True while the daemon has any child at all, known or orphan, exited or not.
  static bool children_left();
  // The daemon's live (not zombie) children, from /proc: to signal orphans nobody else knows.
  static std::vector<pid_t> children();

 private:
  std::unordered_map<pid_t, std::function<void(int)>> watched_;
  std::function<void()> after_reaping_;
  std::function<void(pid_t, int)> on_stopped_;
  // libevent runs a signal's callback once per signal caught: a burst of N SIGCHLDs would mean
  // N reaps, each ending in a waitpid that walks every child. One reap per burst instead.
  Timer reap_soon_;
  SignalEvent sigchld_;
};

}  // namespace gardien
