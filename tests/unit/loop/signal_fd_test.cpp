// BlockedSignalFd with real signals sent to this process: blocked while it lives, read from its
// fd with the sender, and the mask restored to what it was.
#include "supervisord/loop/signal_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "supervisord/loop/event_loop.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;

bool blocked(int signo) {
  sigset_t now;
  ::sigprocmask(SIG_SETMASK, nullptr, &now);
  return sigismember(&now, signo) == 1;
}

void set_blocked(int signo, bool block) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  ::sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

// Restores the mask whatever the test did, so a repeated run starts from the same one.
class SignalFd : public ::testing::Test {
 protected:
  void SetUp() override {
    ::sigprocmask(SIG_SETMASK, nullptr, &saved_);
    set_blocked(SIGUSR2, false);
  }
  void TearDown() override { ::sigprocmask(SIG_SETMASK, &saved_, nullptr); }

  // The next siginfo on `fd`, waiting up to 5 s for it.
  static std::optional<signalfd_siginfo> next(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return std::nullopt;
    signalfd_siginfo info{};
    if (::read(fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return std::nullopt;
    return info;
  }

 private:
  sigset_t saved_{};
};

TEST_F(SignalFd, BlocksTheSignalAndReadsItWithItsSender) {
  ASSERT_FALSE(blocked(SIGUSR2));
  {
    BlockedSignalFd usr2(SIGUSR2);
    EXPECT_TRUE(blocked(SIGUSR2));
    ASSERT_GE(usr2.fd(), 0);
    int fd_flags = ::fcntl(usr2.fd(), F_GETFD);
    int status_flags = ::fcntl(usr2.fd(), F_GETFL);
    EXPECT_TRUE(fd_flags & FD_CLOEXEC);
    EXPECT_TRUE(status_flags & O_NONBLOCK);

    // Nothing pending: a read does not block.
    signalfd_siginfo info{};
    EXPECT_EQ(::read(usr2.fd(), &info, sizeof info), -1);
    EXPECT_EQ(errno, EAGAIN);

    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);  // blocked: waits in the kernel, kills nothing
    auto got = next(usr2.fd());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->ssi_signo, static_cast<std::uint32_t>(SIGUSR2));
    EXPECT_EQ(got->ssi_pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_EQ(got->ssi_uid, static_cast<std::uint32_t>(::getuid()));
    EXPECT_EQ(got->ssi_code, SI_USER);
  }
  EXPECT_FALSE(blocked(SIGUSR2));
}

TEST_F(SignalFd, SeesOnlyItsOwnSignal) {
  set_blocked(SIGUSR1, true);
  BlockedSignalFd usr2(SIGUSR2);
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  pollfd p{usr2.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  // Take the SIGUSR1 back so restoring the mask does not deliver it.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  timespec no_wait{0, 0};
  EXPECT_EQ(::sigtimedwait(&usr1, nullptr, &no_wait), SIGUSR1);
}

TEST_F(SignalFd, LeavesASignalBlockedThatWasBlockedBefore) {
  set_blocked(SIGUSR2, true);
  { BlockedSignalFd usr2(SIGUSR2); }
  EXPECT_TRUE(blocked(SIGUSR2));
}

TEST_F(SignalFd, TwoAtOnceOnDifferentSignalsUnblockOnlyTheirOwn) {
  set_blocked(SIGUSR1, false);
  {
    BlockedSignalFd usr1(SIGUSR1);
    {
      BlockedSignalFd usr2(SIGUSR2);
      EXPECT_TRUE(blocked(SIGUSR1));
      EXPECT_TRUE(blocked(SIGUSR2));
    }
    EXPECT_TRUE(blocked(SIGUSR1));
    EXPECT_FALSE(blocked(SIGUSR2));
  }
  EXPECT_FALSE(blocked(SIGUSR1));
}

TEST_F(SignalFd, ReadableThroughTheLoopLikeTheReaperReadsSigchld) {
  BlockedSignalFd usr2(SIGUSR2);
  EventLoop loop;
  std::optional<signalfd_siginfo> got;
  FdEvent readable(loop, usr2.fd(), EV_READ, [&](short) {
    signalfd_siginfo info{};
    if (::read(usr2.fd(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) got = info;
    loop.exit();
  });
  readable.enable(5000ms);  // the deadline: a timeout also ends the loop
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
  loop.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ssi_signo, static_cast<std::uint32_t>(SIGUSR2));
}

}  // namespace
}  // namespace gardien
