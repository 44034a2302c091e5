#include "supervisord/loop/signal_fd.h"

#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/signals.h"

namespace gardien {

namespace {

sigset_t only(int signo) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  return set;
}

}  // namespace

BlockedSignalFd::BlockedSignalFd(int signo) : signo_(signo) {
  sigset_t set = only(signo);
  sigset_t old;
  if (::sigprocmask(SIG_BLOCK, &set, &old) != 0)
    throw std::runtime_error("cannot block " + signal_name(signo) + ": " + std::strerror(errno));
  was_blocked_ = sigismember(&old, signo) == 1;
  fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_) {
    int error = errno;
    if (!was_blocked_) ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    throw std::runtime_error("signalfd(" + signal_name(signo) + "): " + std::strerror(error));
  }
}

BlockedSignalFd::~BlockedSignalFd() {
  sigset_t set = only(signo_);
  if (!was_blocked_) ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace gardien
