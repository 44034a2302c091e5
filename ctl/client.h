// A blocking connection to the control socket: connect, send one request line, read lines with
// a deadline. Ctrl-C (SIGINT/SIGTERM) interrupts a read instead of killing the process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "common/fd.h"
#include "common/protocol.h"

namespace gardien::ctl {

// nullopt when the server behind connected socket `fd` may be trusted: it runs as root or as
// `euid` (SO_PEERCRED). Otherwise the refusal, naming the socket, the server's uid and the fix.
std::optional<std::string> check_server(int fd, const std::string& path, uid_t euid);

// Installs handlers (without SA_RESTART) that make a blocked read return `interrupted`.
void install_interrupt_handlers();
bool interrupted();

class Client {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  enum class Read { line, eof, timeout, interrupted, error };

  // nullopt and `error` set ("cannot connect to PATH: ...") when no daemon answers.
  static std::optional<Client> connect(const std::string& path, std::string& error);

  // Sends all of `line`. A peer that has already closed is not an error here: its answer (e.g.
  // permission denied) is still readable.
  bool send(const std::string& line, std::string& error);

  // The next line (without '\n') into `line`; `error` says why on Read::error.
  Read read_line(std::string& line, Deadline deadline, std::string& error);

 private:
  explicit Client(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
  protocol::LineBuffer buffer_{protocol::kMaxResponseBytes};
  bool eof_ = false;
};

}  // namespace gardien::ctl
