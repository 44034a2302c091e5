// Records every forwardable signal it gets, for signal-forwarding tests.
// Usage: siglog FILE   -- creates FILE.ready once its handlers are in place, appends the name of
// each signal it gets (HUP, USR1, WINCH, RTMIN+1, ...) as a line of FILE; TERM ends it (exit 0)
// after recording it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

int g_fd = -1;

void on_signal(int signo) {
  char line[32];
  const char* name = sigabbrev_np(signo);
  int n = name                ? std::snprintf(line, sizeof line, "%s\n", name)
          : signo >= SIGRTMIN ? std::snprintf(line, sizeof line, "RTMIN+%d\n", signo - SIGRTMIN)
                              : std::snprintf(line, sizeof line, "%d\n", signo);
  (void)!::write(g_fd, line, static_cast<std::size_t>(n));
  if (signo == SIGTERM) ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: siglog FILE\n");
    return 2;
  }
  std::string file = argv[1];
  g_fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);  // one line at a time
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGWINCH, SIGURG,
                SIGPWR, SIGCONT, SIGVTALRM, SIGPROF, SIGXCPU, SIGIO, SIGPIPE})
    ::sigaction(s, &sa, nullptr);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) ::sigaction(s, &sa, nullptr);
  int ready = ::open((file + ".ready").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ::close(ready);
  for (;;) ::pause();
}
