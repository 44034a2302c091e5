// Helpers for the output tests: drive the loop until a condition (with a deadline, no fixed
// sleeps), temp dirs, pipes, children, and reading what arrived.
#pragma once

#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/fd.h"
#include "supervisord/loop/event_loop.h"

extern char** environ;

namespace gardien::testing {

using namespace std::chrono_literals;

// Runs the loop until `done()` or the deadline; true if `done()` became true.
inline bool run_until(EventLoop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  Timer tick(loop, [] {});
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    tick.arm(Duration(5));  // wake up at least this often to look at done()
    event_base_loop(loop.base(), EVLOOP_ONCE);
  }
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gardien-out-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Complete lines in `text` (a last line without its '\n' is still arriving).
inline std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A pipe whose read end is non-blocking; `capacity` shrinks it (in bytes, page multiple).
inline FdPair test_pipe(int capacity = 0) {
  FdPair p;
  make_pipe(p);
  ::fcntl(p.read.get(), F_SETFL, ::fcntl(p.read.get(), F_GETFL) | O_NONBLOCK);
  if (capacity > 0) ::fcntl(p.write.get(), F_SETPIPE_SZ, capacity);
  return p;
}

// Appends everything readable now from the non-blocking `fd` to `out`; false at EOF.
inline bool read_available(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0;  // EAGAIN: more may come; 0: EOF
  }
}

// Runs `/bin/sh -c script` with fd 1 and 2 dup'ed from `out`/`err`.
// `extra`, when given, is the script's fd 3.
inline pid_t spawn_sh(const std::string& script, int out, int err, int extra = -1) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  if (extra >= 0) posix_spawn_file_actions_adddup2(&fa, extra, 3);
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", &fa, nullptr, const_cast<char**>(argv), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// A child that writes `content` to `fd` in `chunk`-byte write(2)s, then exits. It keeps no other
// fd, so it holds no pipe end open but its own.
inline pid_t fork_writer(int fd, const std::string& content, std::size_t chunk = 4096) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::dup2(fd, 1);
  ::close_range(3, ~0U, 0);
  std::size_t off = 0;
  while (off < content.size()) {
    std::size_t n = std::min(chunk, content.size() - off);
    ssize_t w = ::write(1, content.data() + off, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(1);
    off += static_cast<std::size_t>(w);
  }
  ::_exit(0);
}

inline int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Lines "<tag> 0" ... "<tag> n-1", each padded to `width` with 'x' (shell-free, fast).
inline std::string numbered_lines(const std::string& tag, int n, std::size_t width = 0) {
  std::string all;
  for (int i = 0; i < n; ++i) {
    std::string line = tag + " " + std::to_string(i);
    if (line.size() < width) line.append(width - line.size(), 'x');
    all += line;
    all += '\n';
  }
  return all;
}

// Ignores SIGPIPE like the daemon does, for the life of the test.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() { old_ = ::signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { ::signal(SIGPIPE, old_); }

 private:
  sighandler_t old_;
};

}  // namespace gardien::testing
