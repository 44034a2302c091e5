// A tiny HTTP server for health checks: `http_ok PORT` listens on 127.0.0.1:PORT and answers
// every request with "200 OK" (body "ok") and closes the connection, one client at a time. Its
// footprint is small enough to run a hundred of them (tests/soak, bench/readiness).
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

int main(int argc, char** argv) {
  if (argc != 2) {
    ::fputs("usage: http_ok PORT\n", stderr);
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up early must not kill the server
  int port = ::atoi(argv[1]);
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listener, 16) != 0) {
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
    // Reads the request's head (it fits in one buffer), then answers; a client that sends
    // nothing for a second is dropped, so it cannot hold the others up.
    timeval patience{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    char request[4096];
    size_t got = 0;
    while (got < sizeof request - 1) {
      ssize_t n = ::read(client, request + got, sizeof request - 1 - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
      request[got] = '\0';
      if (::strstr(request, "\r\n\r\n")) break;
    }
    if (got > 0) {
      ssize_t unused = ::write(client, kAnswer, sizeof kAnswer - 1);
      (void)unused;
    }
    ::close(client);
  }
}
