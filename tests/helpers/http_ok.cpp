// A tiny HTTP server for health checks: `http_ok PORT` listens on 127.0.0.1:PORT and answers
// every request with "200 OK" (body "ok") and closes the connection, one client at a time. Its
// footprint is small enough to run a hundred of them (tests/soak, bench/readiness).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "helper_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    ::fputs("usage: http_ok PORT\n", stderr);
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up early must not kill the server
  int port = ::atoi(argv[1]);
  int listener = helper::listen_on_loopback(port, 16);
  if (listener < 0) {
    ::perror("http_ok: listen");
    return 1;
  }
  static const char kAnswer[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\nok";
  for (;;) {
    int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      ::perror("http_ok: accept");
      return 1;
    }
    char request[4096];
    size_t got = helper::read_request_head(client, request, sizeof request);
    if (got > 0) {
      ssize_t unused = ::write(client, kAnswer, sizeof kAnswer - 1);
      (void)unused;
    }
    ::close(client);
  }
}
