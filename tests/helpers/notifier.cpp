// Speaks the sd_notify protocol to $NOTIFY_SOCKET ("@abstract" or a path), as daemons do.
// Usage:
//   notifier send LINE...           one datagram of the LINEs joined by newlines, then exit 0
//   notifier fork-ready PIDFILE     a forking daemon: a child writes its pid to PIDFILE, sends
//                                   "MAINPID=<its pid>\nREADY=1" and waits forever; the parent
//                                   exits 0 once the child has sent that
//   notifier watchdog COUNT REPORT  READY=1, then COUNT pings (WATCHDOG=1) every WATCHDOG_USEC/4,
//                                   then no more; REPORT (key=value lines, written atomically
//                                   after the last ping) has WATCHDOG_USEC, WATCHDOG_PID, pid and
//                                   last_ping_ms (ms since the epoch)
//   notifier reloader REPORT GATE   READY=1, then on each SIGHUP: RELOADING=1, waits until the
//                                   file GATE exists (removes it), then READY=1; appends each
//                                   step to REPORT as it happens ("started", "hup",
//                                   "reloading-sent", "ready-sent"; a step's line is written
//                                   before its datagram is sent)
// Exits 1 when a datagram cannot be sent.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "helper_io.h"

namespace {

bool notify(const std::string& message) {
  const char* address = std::getenv("NOTIFY_SOCKET");
  if (!address || !*address) {
    std::fprintf(stderr, "notifier: NOTIFY_SOCKET is not set\n");
    return false;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::size_t length = std::strlen(address);
  if (length >= sizeof sa.sun_path) {
    std::fprintf(stderr, "notifier: NOTIFY_SOCKET is too long\n");
    return false;
  }
  std::memcpy(sa.sun_path, address, length);
  if (address[0] == '@') sa.sun_path[0] = '\0';  // the abstract namespace
  auto sa_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length +
                                          (address[0] == '@' ? 0 : 1));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                          reinterpret_cast<sockaddr*>(&sa), sa_length);
  ::close(fd);
  if (sent != static_cast<ssize_t>(message.size())) {
    std::perror("notifier: sendto");
    return false;
  }
  return true;
}

[[noreturn]] void wait_forever() {
  for (;;) ::pause();
}

int fork_ready(const std::string& pidfile) {
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return 1;
  pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::close(sync[0]);
    std::string pid = std::to_string(::getpid());
    helper::write_atomically(pidfile, pid + "\n");
    if (!notify("MAINPID=" + pid + "\nREADY=1")) ::_exit(1);
    char done = 'r';
    (void)!::write(sync[1], &done, 1);
    ::close(sync[1]);
    wait_forever();
  }
  ::close(sync[1]);
  char done = 0;
  ssize_t n;
  while ((n = ::read(sync[0], &done, 1)) < 0) {
  }
  return n == 1 ? 0 : 1;  // EOF: the child died before it could say so
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "(unset)";
}

int watchdog(int count, const std::string& report) {
  long long usec = std::atoll(env("WATCHDOG_USEC").c_str());
  if (usec <= 0) {
    std::fprintf(stderr, "notifier: WATCHDOG_USEC is not set\n");
    return 1;
  }
  if (!notify("READY=1")) return 1;
  long long last_ping = 0;
  for (int i = 0; i < count; ++i) {
    helper::sleep_ms(static_cast<long>(usec / 4000));
    if (!notify("WATCHDOG=1")) return 1;
    last_ping = helper::now_ms();
  }
  helper::write_atomically(report, "WATCHDOG_USEC=" + env("WATCHDOG_USEC") + "\nWATCHDOG_PID=" +
                                       env("WATCHDOG_PID") + "\npid=" + std::to_string(::getpid()) +
                                       "\nlast_ping_ms=" + std::to_string(last_ping) + "\n");
  wait_forever();
}

void append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

volatile sig_atomic_t g_hup = 0;

void on_hup(int) {
  g_hup = 1;
}

int reloader(const std::string& report, const std::string& gate) {
  sigset_t hup, before;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &hup, &before);  // delivered only inside sigsuspend: no lost wakeup
  struct sigaction sa {};
  sa.sa_handler = on_hup;
  ::sigaction(SIGHUP, &sa, nullptr);
  append_line(report, "started");
  if (!notify("READY=1")) return 1;
  for (;;) {
    while (!g_hup) ::sigsuspend(&before);
    g_hup = 0;
    append_line(report, "hup");
    append_line(report, "reloading-sent");
    if (!notify("RELOADING=1")) return 1;
    while (::access(gate.c_str(), F_OK) != 0) helper::sleep_ms(10);
    ::unlink(gate.c_str());
    append_line(report, "ready-sent");
    if (!notify("READY=1")) return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "send" && argc > 2) {
    std::string message;
    for (int i = 2; i < argc; ++i) message += std::string(i > 2 ? "\n" : "") + argv[i];
    return notify(message) ? 0 : 1;
  }
  if (verb == "fork-ready" && argc == 3) return fork_ready(argv[2]);
  if (verb == "watchdog" && argc == 4) return watchdog(std::atoi(argv[2]), argv[3]);
  if (verb == "reloader" && argc == 4) return reloader(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: notifier send LINE... | fork-ready PIDFILE | watchdog COUNT REPORT | "
               "reloader REPORT GATE\n");
  return 2;
}
