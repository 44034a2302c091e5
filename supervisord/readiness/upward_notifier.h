// The daemon's own readiness, told to the init above it (a systemd Type=notify unit, podman
// --sdnotify=container) through the NOTIFY_SOCKET it was started with: READY=1 once every
// autostart program is ready, STATUS= with a summary, STOPPING=1 at shutdown, and WATCHDOG=1
// every half of WATCHDOG_USEC.
#pragma once

#include <memory>
#include <string>

#include "common/fd.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

class UpwardNotifier {
 public:
  // From the daemon's environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID); nullptr when
  // NOTIFY_SOCKET is unset. Removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the
  // daemon's environment, so that programs never inherit them. A socket that cannot be reached
  // is logged once (warn) and the daemon runs on.
  static std::unique_ptr<UpwardNotifier> from_environment(EventLoop& loop);
  ~UpwardNotifier();
  UpwardNotifier(const UpwardNotifier&) = delete;
  UpwardNotifier& operator=(const UpwardNotifier&) = delete;

  // READY=1 (sent once; later calls only update STATUS=) with STATUS=`summary`.
  void ready(const std::string& summary);
  // STATUS=`summary`, when it differs from the last one sent.
  void status(const std::string& summary);
  // STOPPING=1 with STATUS=`summary`; the watchdog pings go on until the daemon exits.
  void stopping(const std::string& summary);
  const std::string& address() const noexcept { return address_; }

 private:
  UpwardNotifier(EventLoop& loop, Fd fd, std::string address, Duration watchdog);
  void send(const std::string& datagram);
  void ping_watchdog();

  EventLoop& loop_;
  Fd fd_;
  std::string address_;
  bool ready_sent_ = false;
  std::string last_status_;
  std::unique_ptr<Timer> watchdog_;
  Duration watchdog_interval_{0};
  bool send_failed_ = false;  // the first failure is logged, the rest are not
};

}  // namespace gardien
