// What the helper programs share: pauses, the wall clock, reports written in one step, a
// listener on the loopback address and the head of an HTTP request.
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string>

namespace helper {

inline void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

// Milliseconds since the epoch, comparable with the daemon's event times.
inline long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A test that polls `path` reads the whole text or nothing, never half of it.
inline void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

// A socket listening on 127.0.0.1:port, or -1 with errno set.
inline int listen_on_loopback(int port, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, backlog) != 0) {
    int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// Reads a request into `buffer` (kept NUL-terminated) until its head has ended ("\r\n\r\n"), the
// buffer is full, or the client closes or stays silent for a second (so it cannot hold the
// server up). Returns how many bytes were read.
inline std::size_t read_request_head(int client, char* buffer, std::size_t size) {
  timeval patience{1, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  std::size_t got = 0;
  buffer[0] = '\0';
  while (got < size - 1 && !::strstr(buffer, "\r\n\r\n")) {
    ssize_t n = ::read(client, buffer + got, size - 1 - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    buffer[got] = '\0';
  }
  return got;
}

}  // namespace helper
