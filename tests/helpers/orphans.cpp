// Makes N orphans that exit at the same moment, then measures how long their new parent (the
// init: gardien, tini, dumb-init) takes to reap them all.
// Usage: orphans N   -- prints "orphans=N reaped_ms=T" and exits 0 once no zombie is left in
// the pid namespace, 1 if some are still there after 30 s. Run it as the init's command, in a
// fresh pid namespace (unshare --pid --fork --mount-proc INIT -- orphans N).
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

// {processes whose parent is `parent`, zombies anywhere}, from /proc.
std::pair<int, int> scan(pid_t parent) {
  int children = 0, zombies = 0;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
      std::string line;
      if (!std::getline(in, line)) continue;
      auto close = line.rfind(')');
      if (close == std::string::npos || line.size() < close + 3) continue;
      char state = line[close + 2];
      long ppid = std::atol(line.c_str() + close + 4);
      if (state == 'Z') ++zombies;
      if (ppid == parent && state != 'Z') ++children;
    }
    ::closedir(d);
  }
  return {children, zombies};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: orphans N\n");
    return 2;
  }
  int n = std::atoi(argv[1]);
  int gate[2];
  if (::pipe(gate) != 0) return 1;
  pid_t middle = ::fork();
  if (middle == 0) {
    ::close(gate[1]);
    for (int i = 0; i < n; ++i) {
      if (::fork() == 0) {
        char c;
        (void)!::read(gate[0], &c, 1);  // EOF when the gate closes: every orphan exits at once
        ::_exit(0);
      }
    }
    ::_exit(0);  // its children become orphans of the init
  }
  ::close(gate[0]);
  ::waitpid(middle, nullptr, 0);
  pid_t init = ::getppid();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (scan(init).first < n + 1 && std::chrono::steady_clock::now() < deadline)  // +1: this one
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto t0 = std::chrono::steady_clock::now();
  ::close(gate[1]);
  int zombies = 0;
  for (;;) {
    auto [children, z] = scan(init);
    zombies = z;
    if (children <= 1 && zombies == 0) break;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("orphans=%d reaped_ms=%.1f zombies=%d\n", n, ms, zombies);
  return zombies == 0 ? 0 : 1;
}
