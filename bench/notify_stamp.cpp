// A program for bench/readiness and bench/jobs, linked statically so that its start costs no
// dynamic loading:
//   notify_stamp ready FILE [MS]
//                             after MS milliseconds (default 0), reads CLOCK_MONOTONIC, sends
//                             READY=1 to $NOTIFY_SOCKET, writes the time (ns) to FILE, then
//                             waits for a signal
//   notify_stamp stamp FILE   writes CLOCK_MONOTONIC (ns) to FILE first thing, and exits 0
//   notify_stamp ready        sends READY=1 at once, then waits
//   notify_stamp pause        only waits
//   notify_stamp span FILE [realtime]
//                             appends "START END\n" to FILE: CLOCK_MONOTONIC (CLOCK_REALTIME
//                             with `realtime`) in ns first thing and just before it exits 0
// FILE is written beside and renamed, so a reader never sees half of it; span's line is one
// O_APPEND write, so runs one after the other each add a whole line.
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

namespace {

long long clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long long monotonic_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

int write_stamp(const char* path, long long ns) {
  char tmp[4096];
  if (::snprintf(tmp, sizeof tmp, "%s.tmp", path) >= static_cast<int>(sizeof tmp)) return 1;
  int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  char text[32];
  int n = ::snprintf(text, sizeof text, "%lld\n", ns);
  bool ok = ::write(fd, text, static_cast<size_t>(n)) == n;
  ok = ::close(fd) == 0 && ok;
  return ok && ::rename(tmp, path) == 0 ? 0 : 1;
}

// One datagram to $NOTIFY_SOCKET ("@name": the abstract namespace).
int notify(const char* message) {
  const char* address = ::getenv("NOTIFY_SOCKET");
  if (!address || !*address) {
    ::fputs("notify_stamp: NOTIFY_SOCKET is not set\n", stderr);
    return 1;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  size_t length = ::strlen(address);
  if (length >= sizeof sa.sun_path) return 1;
  ::memcpy(sa.sun_path, address, length);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length +
                                          (address[0] == '@' ? 0 : 1));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  ssize_t sent =
      ::sendto(fd, message, ::strlen(message), 0, reinterpret_cast<const sockaddr*>(&sa), size);
  ::close(fd);
  if (sent < 0) ::perror("notify_stamp: sendto");
  return sent < 0 ? 1 : 0;
}

// The file is opened before the end is read, so that little but the write and the exit follow it.
int append_span(const char* path, clockid_t clock, long long start) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  char text[64];
  int n = ::snprintf(text, sizeof text, "%lld %lld\n", start, clock_ns(clock));
  bool ok = ::write(fd, text, static_cast<size_t>(n)) == n;
  return ok ? 0 : 1;  // the exit closes it
}

[[noreturn]] void wait_for_a_signal() {
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  bool realtime = argc == 4 && ::strcmp(argv[1], "span") == 0 && ::strcmp(argv[3], "realtime") == 0;
  clockid_t clock = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  long long start = clock_ns(clock);
  if ((argc == 3 || realtime) && ::strcmp(argv[1], "span") == 0)
    return append_span(argv[2], clock, start);
  if (argc == 3 && ::strcmp(argv[1], "stamp") == 0) return write_stamp(argv[2], start);
  if ((argc == 3 || argc == 4) && ::strcmp(argv[1], "ready") == 0) {
    if (argc == 4) {
      long ms = ::strtol(argv[3], nullptr, 10);
      timespec pause{ms / 1000, (ms % 1000) * 1000000L};
      while (::nanosleep(&pause, &pause) != 0) {
      }
    }
    long long before = monotonic_ns();
    if (notify("READY=1") != 0) return 1;
    if (write_stamp(argv[2], before) != 0) return 1;
    wait_for_a_signal();
  }
  if (argc == 2 && ::strcmp(argv[1], "ready") == 0) {
    if (notify("READY=1") != 0) return 1;
    wait_for_a_signal();
  }
  if (argc == 2 && ::strcmp(argv[1], "pause") == 0) wait_for_a_signal();
  ::fputs("usage: notify_stamp ready [FILE [MS]] | stamp FILE | span FILE [realtime] | pause\n",
          stderr);
  return 2;
}
