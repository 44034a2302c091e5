// A program for bench/readiness, linked statically so that its start costs no dynamic loading:
//   notify_stamp ready FILE [MS]
//                             after MS milliseconds (default 0), reads CLOCK_MONOTONIC, sends
//                             READY=1 to $NOTIFY_SOCKET, writes the time (ns) to FILE, then
//                             waits for a signal
//   notify_stamp stamp FILE   writes CLOCK_MONOTONIC (ns) to FILE first thing, and exits 0
//   notify_stamp ready        sends READY=1 at once, then waits
//   notify_stamp pause        only waits
// FILE is written beside and renamed, so a reader never sees half of it.
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

long long monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
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

[[noreturn]] void wait_for_a_signal() {
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  long long start = monotonic_ns();
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
  ::fputs("usage: notify_stamp ready [FILE [MS]] | stamp FILE | pause\n", stderr);
  return 2;
}
