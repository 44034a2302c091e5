// Runs one program through the daemon's output machinery and reports how fast its output got
// through: `output_throughput file PATH CMD` (file sink, no rotation) or
// `output_throughput prefix PATH CMD` (the prefix sink with PATH as the daemon's stdout).
// Prints "<seconds> <peak RSS KiB> <CPU seconds>" on stdout. Driven by bench/output_throughput.sh.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "supervisord/output/output_hub.h"

extern char** environ;

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "file") != 0 && std::strcmp(argv[1], "prefix") != 0)) {
    std::fprintf(stderr, "usage: %s file|prefix PATH 'SHELL COMMAND'\n", argv[0]);
    return 2;
  }
  using namespace gardien;
  ::signal(SIGPIPE, SIG_IGN);
  bool to_file = std::strcmp(argv[1], "file") == 0;
  Fd daemon_stdout(
      ::open(to_file ? "/dev/null" : argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!daemon_stdout) {
    std::perror(argv[2]);
    return 1;
  }
  EventLoop loop;
  OutputHub::Settings settings;
  settings.stdout_fd = daemon_stdout.get();
  settings.route_daemon_log = false;
  OutputHub hub(loop, settings);
  hub.set_name_width(5);

  OutputSink out;
  if (to_file) {
    out.kind = OutputSink::Kind::file;
    out.path = argv[2];
    out.max_size = 0;
  }
  OutputSink err;
  err.kind = OutputSink::Kind::inherit;
  auto opened = hub.open("bench", out, err);
  if (!opened.output) {
    std::fprintf(stderr, "%s\n", opened.error.c_str());
    return 1;
  }
  ProgramOutput& po = *opened.output;

  auto start = std::chrono::steady_clock::now();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, po.child_stdout(), 1);
  const char* child_argv[] = {"/bin/sh", "-c", argv[3], nullptr};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/sh", &fa, nullptr, const_cast<char**>(child_argv), environ) != 0) {
    std::perror("posix_spawn");
    return 1;
  }
  posix_spawn_file_actions_destroy(&fa);
  po.close_child_ends();

  // A real daemon drains after SIGCHLD; draining at once with a long wait is the same here.
  po.drain(std::chrono::hours(1), [&] { loop.exit(); });
  loop.run();
  hub.flush_blocking(std::chrono::seconds(60));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int status = 0;
  ::waitpid(pid, &status, 0);
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("%.3f %ld %.3f\n", seconds, ru.ru_maxrss, cpu);
  return 0;
}
