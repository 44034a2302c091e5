// Ignores SIGTERM and forks a grandchild (in its process group) that ignores it too.
// Usage: stubborn PIDFILE   -- writes "MAIN GRANDCHILD\n" to PIDFILE, then sleeps forever.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: stubborn PIDFILE\n");
    return 2;
  }
  ::signal(SIGTERM, SIG_IGN);
  pid_t child = ::fork();
  if (child == 0) {
    for (;;) ::pause();
  }
  std::string tmp = std::string(argv[1]) + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d %d\n", static_cast<int>(::getpid()), static_cast<int>(child));
    std::fclose(f);
    std::rename(tmp.c_str(), argv[1]);
  }
  for (;;) ::pause();
}
