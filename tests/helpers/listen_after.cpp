// A server that starts listening late, for the readiness and health probes.
// Usage: listen_after PORT DELAY_MS REPORT [http [SICKFILE]]
// Waits DELAY_MS, listens on 127.0.0.1:PORT, then writes REPORT (key=value lines, atomically:
// pid and listen_ms, the time in ms since the epoch just before it began to listen: no
// connection can succeed earlier). Plain: accepts and closes each connection. http:
// reads a request and answers 200, or 500 while SICKFILE holds this process's pid.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "helper_io.h"

namespace {

bool sick(const std::string& sickfile) {
  if (sickfile.empty()) return false;
  std::ifstream in(sickfile);
  long pid = 0;
  return (in >> pid) && pid == ::getpid();
}

void answer_http(int client, const std::string& sickfile) {
  static char request[65537];
  std::size_t got = helper::read_request_head(client, request, sizeof request);
  if (got < sizeof request - 1 && !std::strstr(request, "\r\n\r\n")) return;  // it gave up
  std::string response = sick(sickfile) ? "HTTP/1.1 500 Internal Server Error\r\n"
                                          "Content-Length: 5\r\nConnection: close\r\n\r\nsick\n"
                                        : "HTTP/1.1 200 OK\r\n"
                                          "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";
  (void)!::write(client, response.data(), response.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6 || (argc >= 5 && std::string(argv[4]) != "http")) {
    std::fprintf(stderr, "usage: listen_after PORT DELAY_MS REPORT [http [SICKFILE]]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  bool http = argc >= 5;
  std::string sickfile = argc == 6 ? argv[5] : "";
  helper::sleep_ms(std::atol(argv[2]));
  long long listen_ms = helper::now_ms();
  int server = helper::listen_on_loopback(port, 64);
  if (server < 0) {
    std::perror("listen_after: bind");
    return 1;
  }
  helper::write_atomically(argv[3], "pid=" + std::to_string(::getpid()) +
                                        "\nlisten_ms=" + std::to_string(listen_ms) + "\n");
  for (;;) {
    int client = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (http) answer_http(client, sickfile);
    ::close(client);
  }
}
