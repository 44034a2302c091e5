#include "supervisord/process/process_host.h"

#include <signal.h>
#include <sys/wait.h>

namespace gardien {

namespace {

class LoopTimer final : public HostTimer {
 public:
  LoopTimer(EventLoop& loop, std::function<void()> on_fire) : timer_(loop, std::move(on_fire)) {}
  void arm(Duration after) override { timer_.arm(after); }
  void cancel() noexcept override { timer_.cancel(); }
  bool armed() const noexcept override { return timer_.armed(); }

 private:
  Timer timer_;
};

}  // namespace

std::unique_ptr<HostTimer> SystemProcessHost::make_timer(std::function<void()> on_fire) {
  return std::make_unique<LoopTimer>(loop_, std::move(on_fire));
}

int SystemProcessHost::kill(pid_t target, int signo) {
  return ::kill(target, signo);
}

bool SystemProcessHost::has_exited(pid_t pid) {
  siginfo_t info{};
  // WNOWAIT: look without reaping, so the reaper still dispatches it.
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

}  // namespace gardien
