#include "supervisord/reaper.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/signals.h"
#include "supervisord/log.h"
#include "supervisord/process_tree.h"

namespace gardien {

Reaper::Reaper(EventLoop& loop)
    : reap_soon_(loop, [this] { reap(); }), sigchld_(loop, SIGCHLD, [this](int) {
        if (!reap_soon_.armed()) reap_soon_.arm(Duration{0});
      }) {
  if (::getpid() != 1 && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    log::warn("cannot become a child subreaper: orphans of programs will not be reaped by gardien",
              {{"error", std::strerror(errno)}});
  }
}

void Reaper::watch(pid_t pid, std::function<void(int)> on_exit) {
  watched_[pid] = std::move(on_exit);
}

void Reaper::forget(pid_t pid) {
  watched_.erase(pid);
}

void Reaper::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG | (on_stopped_ ? WUNTRACED : 0));
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;  // 0: children left but none exited; -1/ECHILD: none left
    if (WIFSTOPPED(status)) {
      on_stopped_(pid, WSTOPSIG(status));
      continue;
    }
    auto it = watched_.find(pid);
    if (it == watched_.end()) {
      if (!log::enabled(LogLevel::debug)) continue;  // thousands of orphans: no JSON for nothing
      nlohmann::json fields = {{"event", "reap"}, {"pid", pid}};
      if (WIFSIGNALED(status)) {
        fields["signal"] = signal_name(WTERMSIG(status));
      } else {
        fields["code"] = WEXITSTATUS(status);
      }
      log::debug("reaped an orphan", fields);
      continue;
    }
    // Erase first: the handler may spawn again and watch a new pid.
    auto handler = std::move(it->second);
    watched_.erase(it);
    handler(status);
  }
  if (after_reaping_) after_reaping_();
}

bool Reaper::children_left() {
  siginfo_t info{};
  // WNOWAIT: look without reaping, so the SIGCHLD callback still dispatches it.
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

std::vector<pid_t> Reaper::children() {
  std::vector<pid_t> out;
  pid_t self = ::getpid();
  // A zombie child needs reaping, not signalling: only live ones count.
  for_each_process([&](pid_t pid, const ProcStat& s) {
    if (!s.zombie() && s.ppid == self) out.push_back(pid);
  });
  return out;
}

}  // namespace gardien
