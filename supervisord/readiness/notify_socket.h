// One instance's own NOTIFY_SOCKET: a datagram socket in the abstract namespace whose every
// message is the instance's (attributed by the socket it arrives on, so a short-lived helper's
// `systemd-notify --ready` is never misattributed, even after the helper has exited).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/fd.h"
#include "common/notify_message.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

class NotifySocket {
 public:
  // Who sent a message (SO_PASSCRED).
  struct Sender {
    pid_t pid = 0;
    uid_t uid = 0;
  };
  using OnMessage = std::function<void(const NotifyMessage&, const Sender&)>;

  // Binds a fresh abstract address naming `instance` ("@gardien/<daemon pid>/<instance>/<random>"),
  // readable on `loop`. Only datagrams sent by `writer` (the instance's uid) or by root are
  // accepted; others, oversized or malformed ones are dropped and logged at debug level. Every
  // fd passed with a datagram is closed at once (BARRIER=1: systemd-notify waits for that).
  // nullptr with `error` when no socket can be made (no fds left).
  static std::unique_ptr<NotifySocket> open(EventLoop& loop, const std::string& instance,
                                            uid_t writer, OnMessage on_message, std::string& error);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The NOTIFY_SOCKET value for the instance: "@gardien/...".
  const std::string& address() const noexcept { return address_; }
  // Reads every datagram already queued, now (before the main's exit is handled: a forking
  // daemon's MAINPID= comes first). Never blocks.
  void drain();
  // Datagrams dropped so far (from another uid, oversized, malformed).
  std::size_t dropped() const noexcept { return dropped_; }

 private:
  NotifySocket(EventLoop& loop, Fd fd, std::string address, uid_t writer, OnMessage on_message);
  void read_one_batch();

  Fd fd_;
  std::string address_;
  uid_t writer_;
  OnMessage on_message_;
  std::unique_ptr<FdEvent> event_;
  std::size_t dropped_ = 0;
};

}  // namespace gardien
