// Exits after a delay. Usage: exit_after MILLISECONDS CODE   (CODE "kill" = die by SIGKILL)
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: exit_after MILLISECONDS CODE|kill\n");
    return 2;
  }
  long ms = std::atol(argv[1]);
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0) {
  }
  if (std::string(argv[2]) == "kill") ::raise(SIGKILL);
  return std::atoi(argv[2]);
}
