#include "supervisord/readiness/upward_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "common/notify_message.h"
#include "supervisord/loop/log.h"

namespace gardien {
namespace {

struct SocketAddress {
  sockaddr_un address{};
  socklen_t length = 0;
};

// NOTIFY_SOCKET: "@name" (abstract) or an absolute path; nullopt when neither fits sun_path.
std::optional<SocketAddress> socket_address(const std::string& value) {
  SocketAddress out;
  out.address.sun_family = AF_UNIX;
  if (value.size() < 2 || (value[0] != '@' && value[0] != '/')) return std::nullopt;
  if (value.size() > sizeof out.address.sun_path - (value[0] == '/' ? 1 : 0)) return std::nullopt;
  std::memcpy(out.address.sun_path, value.data(), value.size());
  if (value[0] == '@') out.address.sun_path[0] = '\0';
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + value.size() +
                                      (value[0] == '/' ? 1 : 0));
  return out;
}

// Half of WATCHDOG_USEC (the pings the init above expects), when the watchdog is this process's;
// zero otherwise.
Duration watchdog_interval(const char* usec, const char* pid) {
  if (usec == nullptr) return Duration(0);
  if (pid != nullptr && std::string(pid) != std::to_string(::getpid())) return Duration(0);
  std::string_view text(usec);
  std::uint64_t microseconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), microseconds);
  if (ec != std::errc() || end != text.data() + text.size() || microseconds == 0) {
    log::warn("WATCHDOG_USEC is not a number of microseconds; no watchdog pings are sent",
              {{"event", "notify_upward"}, {"value", text}});
    return Duration(0);
  }
  auto half = std::min<std::uint64_t>(microseconds / 2000, kMaxDuration.count());
  return std::max(Duration(1), Duration(static_cast<Duration::rep>(half)));
}

}  // namespace

std::unique_ptr<UpwardNotifier> UpwardNotifier::from_environment(EventLoop& loop) {
  const char* socket_variable = std::getenv("NOTIFY_SOCKET");
  std::string address = socket_variable ? socket_variable : "";
  Duration watchdog =
      socket_variable ? watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"))
                      : Duration(0);
  // Programs must never inherit them: their notifications would reach the init above, not us.
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  if (address.empty()) return nullptr;
  if (!socket_address(address)) {
    log::warn(
        "NOTIFY_SOCKET is neither @name nor an absolute path that fits a socket address; "
        "the init above is not told when gardien is ready",
        {{"event", "notify_upward"}, {"address", address}});
    return nullptr;
  }
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    log::warn(
        "cannot create a socket for NOTIFY_SOCKET; the init above is not told when gardien "
        "is ready",
        {{"event", "notify_upward"}, {"error", std::strerror(errno)}});
    return nullptr;
  }
  return std::unique_ptr<UpwardNotifier>(
      new UpwardNotifier(loop, std::move(fd), std::move(address), watchdog));
}

UpwardNotifier::UpwardNotifier(EventLoop& loop, Fd fd, std::string address, Duration watchdog)
    : loop_(loop), fd_(std::move(fd)), address_(std::move(address)), watchdog_interval_(watchdog) {
  if (watchdog_interval_.count() > 0) {
    watchdog_ = std::make_unique<Timer>(loop_, [this] { ping_watchdog(); });
    watchdog_->arm(watchdog_interval_);
  }
}

UpwardNotifier::~UpwardNotifier() = default;

void UpwardNotifier::ready(const std::string& summary) {
  if (ready_sent_) {
    status(summary);
    return;
  }
  NotifyMessage message;
  message.ready = true;
  message.status = summary;
  send(format_notify_message(message));
  ready_sent_ = true;
  last_status_ = summary;
}

void UpwardNotifier::status(const std::string& summary) {
  if (summary == last_status_) return;
  NotifyMessage message;
  message.status = summary;
  send(format_notify_message(message));
  last_status_ = summary;
}

void UpwardNotifier::stopping(const std::string& summary) {
  NotifyMessage message;
  message.stopping = true;
  message.status = summary;
  send(format_notify_message(message));
  last_status_ = summary;
}

void UpwardNotifier::ping_watchdog() {
  NotifyMessage message;
  message.watchdog = true;
  send(format_notify_message(message));
  watchdog_->arm(watchdog_interval_);
}

void UpwardNotifier::send(const std::string& datagram) {
  auto target = socket_address(address_);
  ssize_t sent;
  do {
    sent = ::sendto(fd_.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&target->address), target->length);
  } while (sent < 0 && errno == EINTR);
  if (sent >= 0 || send_failed_) return;
  send_failed_ = true;
  log::warn("cannot notify the init above through NOTIFY_SOCKET; later failures are not logged",
            {{"event", "notify_upward"}, {"address", address_}, {"error", std::strerror(errno)}});
}

}  // namespace gardien
