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

namespace gardien {

Reaper::Reaper(EventLoop& loop) : sigchld_(loop, SIGCHLD, [this](int) { reap(); }) {
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

namespace {

// The ppid field of /proc/PID/stat (after the parenthesised command name); -1 for a zombie,
// which needs reaping, not signalling.
pid_t live_parent_of(const std::string& pid) {
  std::string path = "/proc/";
  path += pid;
  path += "/stat";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return -1;
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  long ppid = -1;
  rest >> state >> ppid;
  return state == "Z" ? -1 : static_cast<pid_t>(ppid);
}

}  // namespace

std::vector<pid_t> Reaper::children() {
  std::vector<pid_t> out;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return out;
  pid_t self = ::getpid();
  while (dirent* d = ::readdir(proc.get())) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    std::string pid = d->d_name;
    if (live_parent_of(pid) == self) out.push_back(static_cast<pid_t>(std::stol(pid)));
  }
  return out;
}

}  // namespace gardien
