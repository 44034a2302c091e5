// SIGCHLD (read from a signalfd) -> reap the child it names, then waitpid(-1, WNOHANG) for the
// ones whose SIGCHLD merged into another -> the handler registered for each pid. Orphans of
// programs come back to the daemon (child subreaper) and are reaped too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/fd.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/loop/signal_fd.h"

namespace gardien {

// When scans count as costly and what a storm of exits then does (tests shrink these).
struct ReaperTuning {
  // A scan's last waitpid (the one that finds nothing) taking longer walked ~1000 children.
  std::chrono::nanoseconds costly_scan = std::chrono::microseconds(10);
  // After a costly scan, the next runs once no SIGCHLD came for `quiet`, or `max_deferral`
  // after it was first put off: the most a zombie whose SIGCHLD merged into another waits.
  Duration quiet{5};
  Duration max_deferral{1000};
  // Meanwhile the loop wakes for SIGCHLD at most once a tick, not once per child.
  Duration tick{1};
};

class Reaper {
 public:
  // Blocks SIGCHLD and reads it from a signalfd on the loop (construct before the first spawn;
  // children start with an empty mask), and makes the daemon a child subreaper unless it is
  // PID 1. Throws when SIGCHLD cannot be taken.
  explicit Reaper(EventLoop& loop, ReaperTuning tuning = {});
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // `on_exit` gets waitpid's status once `pid` is reaped; it is called at most once.
  void watch(pid_t pid, std::function<void(int wait_status)> on_exit);
  void forget(pid_t pid);
  // Called after a round of reaping that reaped something (process groups may have emptied, a
  // shutdown may be complete).
  void after_reaping(std::function<void()> fn) { after_reaping_ = std::move(fn); }
  // From now on, children stopped by a signal are reported too (job control on a terminal).
  void on_stopped(std::function<void(pid_t pid, int signo)> fn) { on_stopped_ = std::move(fn); }

  // True while the daemon has any child at all, known or orphan, exited or not.
  static bool children_left();
  // The daemon's live (not zombie) children, from /proc: to signal orphans nobody else knows.
  static std::vector<pid_t> children();

 private:
  using Clock = std::chrono::steady_clock;

  void on_sigchld();
  // Reads every pending SIGCHLD and reaps the children they name; false when none was pending.
  bool read_sigchlds();
  // waitpid(pid) costs the kernel O(1), whatever the number of children.
  void reap_one(pid_t pid);
  // waitpid(-1) until nothing is left: each call walks the children up to the first zombie, and
  // the last one walks them all.
  void scan();
  void scan_when_quiet();
  Clock::time_point scan_due() const;
  void dispatch(pid_t pid, int status);
  void end_round();
  int wait_flags() const;

  ReaperTuning tuning_;
  std::unordered_map<pid_t, std::function<void(int)>> watched_;
  std::function<void()> after_reaping_;
  std::function<void(pid_t, int)> on_stopped_;
  bool reaped_ = false;        // since the last after_reaping_ call
  BlockedSignalFd signal_fd_;  // SIGCHLD
  FdEvent sigchld_;
  // With thousands of live children a scan walks them all for each zombie it reaps: in a storm
  // of exits, scanning at each SIGCHLD was most of an init's work. Once a scan proves costly
  // the next waits until SIGCHLDs pause (the walk is short then) or a bound passes, and the
  // signalfd is read once a tick; children whose SIGCHLD was read are still reaped at once.
  bool scans_costly_ = false;
  Clock::time_point last_sigchld_{};
  std::optional<Clock::time_point> deferred_since_;
  Timer scan_later_;
  Timer resume_reading_;
};

}  // namespace gardien
