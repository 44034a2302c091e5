// The bare baseline for bench/lifecycle.sh: fork/exec COUNT copies of a command in a loop,
// print the wall-clock time (microseconds since the epoch) once the last one is spawned,
// then kill and reap them all.
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
  int count = std::atoi(argv[1]);
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
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
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  return 0;
}
