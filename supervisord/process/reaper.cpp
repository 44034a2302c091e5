#include "supervisord/process/reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/process/process_tree.h"

namespace gardien {

namespace {

Duration until(std::chrono::steady_clock::time_point when) {
  auto left = when - std::chrono::steady_clock::now();
  return std::chrono::ceil<Duration>(std::max(left, std::chrono::steady_clock::duration{}));
}

}  // namespace

Reaper::Reaper(EventLoop& loop, ReaperTuning tuning)
    : tuning_(tuning),
      signal_fd_(SIGCHLD),
      sigchld_(loop, signal_fd_.fd(), EV_READ, [this](short) { on_sigchld(); }),
      scan_later_(loop, [this] { scan_when_quiet(); }),
      resume_reading_(loop, [this] { sigchld_.enable(); }) {
  sigchld_.enable();
  if (::getpid() != 1 && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    log::warn("cannot become a child subreaper: orphans of programs will not be reaped by gardien",
              {{"error", std::strerror(errno)}});
  }
}

Reaper::~Reaper() = default;

void Reaper::watch(pid_t pid, std::function<void(int)> on_exit) {
  watched_[pid] = std::move(on_exit);
}

void Reaper::forget(pid_t pid) {
  watched_.erase(pid);
}

int Reaper::wait_flags() const {
  return WNOHANG | (on_stopped_ ? WUNTRACED : 0);
}

void Reaper::on_sigchld() {
  bool any = read_sigchlds();
  if (!scans_costly_) {
    scan();
    return;
  }
  if (any) {
    if (!deferred_since_) deferred_since_ = last_sigchld_;
    sigchld_.disable();
    resume_reading_.arm(tuning_.tick);
    scan_later_.arm(until(scan_due()));
  }
  end_round();
}

bool Reaper::read_sigchlds() {
  // A SIGCHLD sent while another is pending merges into it: the pids read here are some of the
  // children that changed state, and a scan finds the rest.
  bool any = false;
  signalfd_siginfo infos[16];
  for (;;) {
    ssize_t n = ::read(signal_fd_.fd(), infos, sizeof infos);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    any = true;
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof infos[0]; ++i) {
      int code = infos[i].ssi_code;
      if (code == CLD_EXITED || code == CLD_KILLED || code == CLD_DUMPED || code == CLD_STOPPED)
        reap_one(static_cast<pid_t>(infos[i].ssi_pid));
    }
  }
  if (any) last_sigchld_ = Clock::now();
  return any;
}

void Reaper::reap_one(pid_t pid) {
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid, &status, wait_flags());
  } while (got < 0 && errno == EINTR);
  if (got == pid) dispatch(pid, status);  // else reaped by a scan already, or not exited yet
}

Reaper::Clock::time_point Reaper::scan_due() const {
  return std::min(last_sigchld_ + tuning_.quiet, *deferred_since_ + tuning_.max_deferral);
}

void Reaper::scan_when_quiet() {
  // A busy machine may run this late, with SIGCHLDs unread meanwhile: the storm may go on.
  read_sigchlds();
  if (Clock::now() < scan_due()) {
    scan_later_.arm(until(scan_due()));
    end_round();
    return;
  }
  scan();
}

void Reaper::scan() {
  scan_later_.cancel();
  deferred_since_.reset();
  for (;;) {
    int status = 0;
    // The vDSO clock: a CPU-time clock is a system call, two per child reaped.
    auto before = Clock::now();
    pid_t pid = ::waitpid(-1, &status, wait_flags());
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) {  // 0: children left but none exited; -1/ECHILD: none left
      scans_costly_ = Clock::now() - before > tuning_.costly_scan;
      break;
    }
    dispatch(pid, status);
  }
  end_round();
}

void Reaper::dispatch(pid_t pid, int status) {
  reaped_ = true;
  if (WIFSTOPPED(status)) {
    if (on_stopped_) on_stopped_(pid, WSTOPSIG(status));
    return;
  }
  auto it = watched_.find(pid);
  if (it == watched_.end()) {
    if (!log::enabled(LogLevel::debug)) return;  // thousands of orphans: no JSON for nothing
    nlohmann::ordered_json fields = {{"event", "reap"}, {"pid", pid}};
    if (WIFSIGNALED(status)) {
      fields["signal"] = signal_name(WTERMSIG(status));
    } else {
      fields["code"] = WEXITSTATUS(status);
    }
    log::debug("reaped an orphan", fields);
    return;
  }
  // Erase first: the handler may spawn again and watch a new pid.
  auto handler = std::move(it->second);
  watched_.erase(it);
  handler(status);
}

void Reaper::end_round() {
  if (!reaped_) return;
  reaped_ = false;
  if (after_reaping_) after_reaping_();
}

bool Reaper::children_left() {
  siginfo_t info{};
  // WNOWAIT: look without reaping, so the reaper still dispatches it.
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
