// Reports what it inherited, then records the signals it gets.
// Usage: probe REPORT   -- writes REPORT (key=value lines, atomically), then waits; every
// signal among HUP INT QUIT USR1 USR2 TERM is appended to REPORT.signals; TERM ends it (exit 0).
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

int g_signals_fd = -1;

void on_signal(int signo) {
  const char* name = signo == SIGHUP    ? "HUP\n"
                     : signo == SIGINT  ? "INT\n"
                     : signo == SIGQUIT ? "QUIT\n"
                     : signo == SIGUSR1 ? "USR1\n"
                     : signo == SIGUSR2 ? "USR2\n"
                                        : "TERM\n";
  if (g_signals_fd >= 0) (void)!::write(g_signals_fd, name, std::strlen(name));
  if (signo == SIGTERM) ::_exit(0);
}

std::string status_field(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::string v = line.substr(prefix.size());
      return v.substr(v.find_first_not_of(" \t"));
    }
  }
  return "?";
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "(unset)";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: probe REPORT\n");
    return 2;
  }
  std::string report = argv[1];
  std::string out;
  // fds, without the one opendir itself uses
  std::string fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int own = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.' || std::atoi(e->d_name) == own) continue;
      if (!fds.empty()) fds += ',';
      fds += e->d_name;
    }
    ::closedir(d);
  }
  out += "fds=" + fds + "\n";
  char target[4096];
  ssize_t n = ::readlink("/proc/self/fd/0", target, sizeof target - 1);
  out += "stdin=" + std::string(target, n > 0 ? static_cast<std::size_t>(n) : 0) + "\n";
  // Read before installing any handler: what was inherited.
  out += "sigblk=" + status_field("SigBlk") + "\n";
  out += "sigign=" + status_field("SigIgn") + "\n";
  out += "sigcgt=" + status_field("SigCgt") + "\n";
  out += "pid=" + std::to_string(::getpid()) + "\n";
  out += "pgid=" + std::to_string(::getpgid(0)) + "\n";
  out += "sid=" + std::to_string(::getsid(0)) + "\n";
  out += "uid=" + std::to_string(::getuid()) + "\n";
  out += "gid=" + std::to_string(::getgid()) + "\n";
  gid_t groups[256];
  int ng = ::getgroups(256, groups);
  std::string gl;
  for (int i = 0; i < ng; ++i) {
    if (i) gl += ',';
    gl += std::to_string(groups[i]);
  }
  out += "groups=" + gl + "\n";
  mode_t mask = ::umask(0);
  ::umask(mask);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(mask));
  out += std::string("umask=") + mode + "\n";
  char cwd[4096];
  out += std::string("cwd=") + (::getcwd(cwd, sizeof cwd) ? cwd : "?") + "\n";
  for (const char* name :
       {"HOME", "USER", "LOGNAME", "SHELL", "GARDIEN_PROGRAM", "GARDIEN_INSTANCE", "PROBE_VAR"})
    out += std::string(name) + "=" + env(name) + "\n";

  std::string signals = report + ".signals";
  g_signals_fd = ::open(signals.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM}) ::sigaction(s, &sa, nullptr);

  std::string tmp = report + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fputs(out.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), report.c_str());
  }
  for (;;) ::pause();
}
