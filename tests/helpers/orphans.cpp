// Makes N orphans that exit at the same moment, then measures how long their new parent (the
// init: gardien, tini, dumb-init) takes to reap them all.
// Usage: orphans N   -- prints "orphans=N reaped_ms=T init_cpu_ms=C zombies=0" (C: the CPU time
// the init spent meanwhile, from /proc/1/schedstat) and exits 0 once no zombie is left in
// the pid namespace, 1 if some are still there after 30 s. Run it as the init's command, in a
// fresh pid namespace (unshare --pid --fork --mount-proc INIT -- orphans N).
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

// {processes whose parent is `parent`, zombies anywhere}, from every /proc entry: slow (5000
// files a pass), so only for the final check and where the children file is missing.
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

// Children of `parent`, zombies included until reaped, from its one children file: a single
// read per pass, so the measurement barely competes with the init it measures. -1 when the
// kernel has no CONFIG_PROC_CHILDREN.
int children_of(pid_t parent) {
  std::string path = "/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent);
  path += "/children";
  std::ifstream in(path);
  if (!in) return -1;
  int count = 0;
  for (long pid; in >> pid;) ++count;
  return count;
}

// Nanoseconds `pid` has spent on a CPU (first field of /proc/PID/schedstat); -1 without it.
long long cpu_ns(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
  long long ns = -1;
  in >> ns;
  return in ? ns : -1;
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
  bool fast = children_of(init) >= 0;
  auto children = [&] { return fast ? children_of(init) : scan(init).first; };
  while (children() < n + 1 && std::chrono::steady_clock::now() < deadline)  // +1: this one
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  long long init_cpu0 = cpu_ns(init);
  auto t0 = std::chrono::steady_clock::now();
  ::close(gate[1]);
  for (;;) {
    int left = fast ? children_of(init) : -1;
    if (fast ? left <= 1 : scan(init) == std::pair<int, int>{1, 0}) break;
    if (std::chrono::steady_clock::now() > deadline) break;
    // A read costs the kernel a tasklist_lock round per child listed, the lock every exit
    // and reap needs: with thousands left, look every 10 ms (~10% of a core); near the end,
    // every millisecond, which is what the figure's precision rests on.
    std::this_thread::sleep_for(std::chrono::microseconds(std::clamp(left * 2, 1000, 10000)));
  }
  auto t1 = std::chrono::steady_clock::now();
  long long init_cpu1 = cpu_ns(init);
  int zombies = scan(init).second;  // anywhere in the namespace, not only the init's children
  double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double init_cpu_ms = init_cpu0 < 0 || init_cpu1 < 0 ? -1 : (init_cpu1 - init_cpu0) / 1e6;
  std::printf("orphans=%d reaped_ms=%.1f init_cpu_ms=%.1f zombies=%d\n", n, ms, init_cpu_ms,
              zombies);
  return zombies == 0 ? 0 : 1;
}
