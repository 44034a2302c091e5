// One signal blocked and read from a signalfd instead of run by a handler: it waits in the
// kernel until the loop reads it, and arrives with its sender and code.
#pragma once

#include "common/fd.h"

namespace gardien {

class BlockedSignalFd {
 public:
  // Throws std::runtime_error naming the signal when it cannot be blocked or the fd opened.
  explicit BlockedSignalFd(int signo);
  // Unblocks the signal again, unless it was blocked before.
  ~BlockedSignalFd();
  BlockedSignalFd(const BlockedSignalFd&) = delete;
  BlockedSignalFd& operator=(const BlockedSignalFd&) = delete;

  int fd() const noexcept { return fd_.get(); }

 private:
  int signo_;
  bool was_blocked_ = false;
  Fd fd_;
};

}  // namespace gardien
