// A non-blocking TCP connect on the loop, for the tcp and http probes: the socket is made with
// SOCK_NONBLOCK | SOCK_CLOEXEC, the loop waits for it to become writable, SO_ERROR says how it
// went.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/fd.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/readiness/probe_address.h"

namespace gardien {

class ProbeConnect {
 public:
  // The connected socket, or an empty Fd and why not: "connect 127.0.0.1:5432: Connection refused".
  using Done = std::function<void(Fd socket, std::string error)>;

  explicit ProbeConnect(EventLoop& loop) : loop_(loop) {}
  ProbeConnect(const ProbeConnect&) = delete;
  ProbeConnect& operator=(const ProbeConnect&) = delete;

  // Starts connecting; `done` is called later, from the loop. False with `error` set when the
  // connect failed at once (then `done` is never called).
  bool start(const ProbeAddress& address, Done done, std::string& error);
  // Stops a connect in flight and closes its socket; its `done` is not called.
  void cancel() noexcept;

 private:
  void on_writable();
  std::string failure(int error) const;

  EventLoop& loop_;
  std::string target_;  // "127.0.0.1:5432"
  Fd socket_;
  std::unique_ptr<FdEvent> writable_;
  std::unique_ptr<FdEvent> spent_;
  Done done_;
};

}  // namespace gardien
