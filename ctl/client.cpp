#include "ctl/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "common/socket_path.h"

namespace gardien::ctl {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
  g_interrupted = 1;
}

}  // namespace

std::optional<std::string> check_server(int fd, const std::string& path, uid_t euid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    std::string error = "refusing to use the socket ";
    error += path;
    error += ": cannot read who serves it (";
    error += std::strerror(errno);
    error += ")";
    return error;
  }
  if (cred.uid == 0 || cred.uid == euid) return std::nullopt;
  std::string error = "refusing to talk to the process behind ";
  error += path;
  error += ": it runs as uid ";
  error += std::to_string(cred.uid);
  error += " (pid ";
  error += std::to_string(cred.pid);
  error += "), neither root nor you (uid ";
  error += std::to_string(euid);
  error +=
      "), so it may not be gardien; check who created the socket, or use another with "
      "--socket or GARDIEN_SOCKET";
  return error;
}

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() must return EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() {
  return g_interrupted != 0;
}

std::optional<Client> Client::connect(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  socklen_t len = 0;
  if (!make_socket_address(path, addr, len)) {
    error = check_socket_path(path).value_or("bad socket path");
    return std::nullopt;
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = "cannot create a socket: ";
    error += std::strerror(errno);
    return std::nullopt;
  }
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len);
  } while (rc != 0 && errno == EINTR && !interrupted());
  if (rc != 0) {
    int err = errno;
    error = "cannot connect to the daemon at ";
    error += path;
    error += ": ";
    error += std::strerror(err);
    if (err == ENOENT || err == ECONNREFUSED)
      error += " (is gardien running? --socket or GARDIEN_SOCKET name another socket)";
    if (err == EACCES) error += " (the socket's mode or group does not let this user in)";
    return std::nullopt;
  }
  if (auto refusal = check_server(fd.get(), path, ::geteuid())) {
    error = std::move(*refusal);
    return std::nullopt;
  }
  return Client(std::move(fd));
}

bool Client::send(const std::string& line, std::string& error) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      if (interrupted()) {
        error = "interrupted";
        return false;
      }
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return true;  // read what it said
    if (n < 0) {
      error = "cannot send to the daemon: ";
      error += std::strerror(errno);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

Client::Read Client::read_line(std::string& line, Deadline deadline, std::string& error) {
  char chunk[65536];
  for (;;) {
    if (auto next = buffer_.next_line()) {
      line = std::move(*next);
      return Read::line;
    }
    if (buffer_.overflowed()) {
      error = "the daemon sent a line longer than ";
      error += std::to_string(protocol::kMaxResponseBytes);
      error += " bytes";
      return Read::error;
    }
    if (eof_) return Read::eof;
    if (interrupted()) return Read::interrupted;

    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Read::timeout;
      timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1 << 30));
    }
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;  // the loop top checks interrupted()
      error = "cannot wait for the daemon: ";
      error += std::strerror(errno);
      return Read::error;
    }
    if (rc == 0) continue;  // the loop top checks the deadline
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) {
        eof_ = true;
        continue;
      }
      error = "cannot read from the daemon: ";
      error += std::strerror(errno);
      return Read::error;
    }
    if (n == 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(std::string_view(chunk, static_cast<std::size_t>(n)));
  }
}

}  // namespace gardien::ctl
