// The bare baseline bench/compare's start-up item sets beside the supervisors: fork/exec COUNT
// copies of a command in a loop, no supervision. It prints the wall-clock time (microseconds
// since the epoch) once the last one is spawned, then waits for SIGTERM or SIGINT and kills
// and reaps them all.
// Usage: forkexec_baseline COUNT CMD [ARGS...]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: forkexec_baseline COUNT CMD [ARGS...]\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  int count = std::atoi(argv[1]);
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      sigprocmask(SIG_UNBLOCK, &stop, nullptr);
      ::setsid();
      ::execvp(argv[2], argv + 2);
      ::_exit(127);
    }
    if (pid > 0) pids.push_back(pid);
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::printf("%lld\n", static_cast<long long>(
                            std::chrono::duration_cast<std::chrono::microseconds>(now).count()));
  std::fflush(stdout);
  int signo = 0;
  sigwait(&stop, &signo);
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  return 0;
}
