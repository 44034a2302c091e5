// Writes output in the shapes the output tests need. Usage:
//   output_writer split TEXT        TEXT and '\n' one byte per write(2), 2 ms apart
//   output_writer big BYTES         one line of BYTES 'x' (and '\n') in one go
//   output_writer count N           lines "line 1" ... "line N" as fast as the pipe takes them
//   output_writer last TEXT         TEXT without a newline, then exit at once
//   output_writer ticks MS          "tick 1", "tick 2"... every MS milliseconds, forever
//   output_writer both N            "out i" on stdout and "err i" on stderr, i = 1..N
// Then it exits 0 (ticks never ends).
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) std::exit(3);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_all(int fd, const std::string& s) {
  write_all(fd, s.data(), s.size());
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: output_writer split|big|count|last|ticks|both ARG\n");
    return 2;
  }
  std::string mode = argv[1];
  std::string arg = argv[2];
  if (mode == "split") {
    std::string text = arg + "\n";
    for (char c : text) {
      write_all(1, &c, 1);
      sleep_ms(2);
    }
  } else if (mode == "big") {
    std::string line(std::strtoul(argv[2], nullptr, 10), 'x');
    line += '\n';
    write_all(1, line);
  } else if (mode == "count") {
    long n = std::atol(argv[2]);
    std::string chunk;
    for (long i = 1; i <= n; ++i) {
      chunk += "line ";
      chunk += std::to_string(i);
      chunk += '\n';
      if (chunk.size() > 4000 || i == n) {
        write_all(1, chunk);
        chunk.clear();
      }
    }
  } else if (mode == "last") {
    write_all(1, arg);
  } else if (mode == "ticks") {
    long ms = std::atol(argv[2]);
    for (long i = 1;; ++i) {
      write_all(1, "tick " + std::to_string(i) + "\n");
      sleep_ms(ms);
    }
  } else if (mode == "both") {
    long n = std::atol(argv[2]);
    for (long i = 1; i <= n; ++i) {
      write_all(1, "out " + std::to_string(i) + "\n");
      write_all(2, "err " + std::to_string(i) + "\n");
    }
  } else {
    std::fprintf(stderr, "output_writer: unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
