// A move-only owner of one file descriptor, and the close-on-exec ways to make them.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

namespace gardien {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct FdPair {
  Fd read;
  Fd write;
};

// Returns false (errno set) on failure. Both ends are O_CLOEXEC; `flags` may add O_NONBLOCK.
inline bool make_pipe(FdPair& out, int flags = 0) noexcept {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) != 0) return false;
  out.read.reset(fds[0]);
  out.write.reset(fds[1]);
  return true;
}

inline bool make_socketpair(FdPair& out, int type = SOCK_STREAM) noexcept {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) return false;
  out.read.reset(fds[0]);
  out.write.reset(fds[1]);
  return true;
}

}  // namespace gardien
