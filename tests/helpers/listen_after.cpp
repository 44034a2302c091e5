// A server that starts listening late, for the readiness and health probes.
// Usage: listen_after PORT DELAY_MS REPORT [http [SICKFILE]]
// Waits DELAY_MS, listens on 127.0.0.1:PORT, then writes REPORT (key=value lines, atomically:
// pid and listen_ms, the time in ms since the epoch just before it began to listen: no
// connection can succeed earlier). Plain: accepts and closes each connection. http:
// reads a request and answers 200, or 500 while SICKFILE holds this process's pid.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

bool sick(const std::string& sickfile) {
  if (sickfile.empty()) return false;
  std::ifstream in(sickfile);
  long pid = 0;
  return (in >> pid) && pid == ::getpid();
}

void answer_http(int client, const std::string& sickfile) {
  timeval limit{1, 0};  // a client that never sends its request does not hang the server
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
    ssize_t n = ::read(client, buffer, sizeof buffer);
    if (n <= 0) return;
    request.append(buffer, static_cast<std::size_t>(n));
  }
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
  sleep_ms(std::atol(argv[2]));
  long long listen_ms = now_ms();
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(server, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(server, 64) != 0) {
    std::perror("listen_after: bind");
    return 1;
  }
  write_atomically(argv[3], "pid=" + std::to_string(::getpid()) +
                                "\nlisten_ms=" + std::to_string(listen_ms) + "\n");
  for (;;) {
    int client = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (http) answer_http(client, sickfile);
    ::close(client);
  }
}
