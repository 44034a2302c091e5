#include "supervisord/readiness/probe_connect.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace gardien {

bool ProbeConnect::start(const ProbeAddress& address, Done done, std::string& error) {
  cancel();
  spent_.reset();  // the last poll's, disabled in its own callback
  target_ = address.text;
  socket_.reset(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_) {
    error = "connect " + target_ + ": cannot create a socket: " + std::strerror(errno);
    return false;
  }
  // Closed with a reset, not a FIN: a probe a second would otherwise leave 60 TIME_WAIT
  // sockets (ports, conntrack entries) behind it and pay the closing handshake each time.
  const linger reset_on_close{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  int rc;
  do {
    rc = ::connect(socket_.get(), reinterpret_cast<const sockaddr*>(&address.storage),
                   address.length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    error = failure(errno);
    socket_.reset();
    return false;
  }
  // Connected at once or not: the writable socket reports it, from the loop.
  done_ = std::move(done);
  writable_ =
      std::make_unique<FdEvent>(loop_, socket_.get(), EV_WRITE, [this](short) { on_writable(); });
  writable_->enable();
  return true;
}

void ProbeConnect::cancel() noexcept {
  writable_.reset();
  socket_.reset();
  done_ = nullptr;
}

void ProbeConnect::on_writable() {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(socket_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  writable_->disable();
  // Not destroyed inside its own callback (its std::function would die while running): kept,
  // disabled, until the next connect.
  spent_ = std::move(writable_);
  Done done = std::exchange(done_, nullptr);
  if (error != 0) {
    socket_.reset();
    done(Fd(), failure(error));
    return;
  }
  done(std::move(socket_), std::string());
}

std::string ProbeConnect::failure(int error) const {
  return "connect " + target_ + ": " + std::strerror(error);
}

}  // namespace gardien
