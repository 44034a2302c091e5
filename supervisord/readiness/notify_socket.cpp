#include "supervisord/readiness/notify_socket.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "supervisord/loop/log.h"

namespace gardien {
namespace {

// A flood of datagrams cannot keep the loop from its other events for longer than this many.
constexpr std::size_t kDatagramsPerWakeup = 64;
// Room for the sender's credentials and a few fds (BARRIER=1 sends one); fds past it are closed
// by the kernel (MSG_CTRUNC).
constexpr std::size_t kMaxPassedFds = 32;
// The abstract name's room for the instance's name; sun_path holds 107 bytes after the NUL.
constexpr std::size_t kMaxInstanceInAddress = 64;
constexpr int kBindAttempts = 8;

std::string random_suffix() {
  std::uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    static std::uint64_t counter = 0;  // a collision only costs another bind attempt
    bits = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (++counter << 48);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

std::string abstract_name(const std::string& instance) {
  return "gardien/" + std::to_string(::getpid()) + "/" + instance.substr(0, kMaxInstanceInAddress) +
         "/" + random_suffix();
}

// Binds `fd` to the abstract `name` (its exact length: sd_notify's clients connect to the
// NOTIFY_SOCKET string's length, not to a NUL-padded sun_path).
int bind_abstract(int fd, const std::string& name) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length);
}

// Closes every fd passed in `message`; the credentials when it carries them.
std::optional<ucred> take_control(msghdr& message) {
  std::optional<ucred> credentials;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        ::close(fd);
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred value;
      std::memcpy(&value, CMSG_DATA(c), sizeof value);
      credentials = value;
    }
  }
  return credentials;
}

}  // namespace

std::unique_ptr<NotifySocket> NotifySocket::open(EventLoop& loop, const std::string& instance,
                                                 uid_t writer, OnMessage on_message,
                                                 std::string& error) {
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    error = std::string("cannot create the notify socket: ") + std::strerror(errno);
    return nullptr;
  }
  int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    error = std::string("cannot set SO_PASSCRED on the notify socket: ") + std::strerror(errno);
    return nullptr;
  }
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    std::string name = abstract_name(instance);
    if (bind_abstract(fd.get(), name) == 0) {
      return std::unique_ptr<NotifySocket>(new NotifySocket(
          loop, std::move(fd), "@" + name, instance, writer, std::move(on_message)));
    }
    if (errno != EADDRINUSE) {
      error = "cannot bind the notify socket @" + name + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  error = "cannot bind a notify socket for " + instance + ": every address tried is in use";
  return nullptr;
}

NotifySocket::NotifySocket(EventLoop& loop, Fd fd, std::string address, std::string instance,
                           uid_t writer, OnMessage on_message)
    : fd_(std::move(fd)),
      address_(std::move(address)),
      instance_(std::move(instance)),
      writer_(writer),
      on_message_(std::move(on_message)) {
  event_ = std::make_unique<FdEvent>(loop, fd_.get(), EV_READ,
                                     [this](short) { read_datagrams(kDatagramsPerWakeup); });
  event_->enable();
}

NotifySocket::~NotifySocket() {
  *alive_ = false;
}

void NotifySocket::drain() {
  read_datagrams(std::numeric_limits<std::size_t>::max());
}

void NotifySocket::read_datagrams(std::size_t limit) {
  auto alive = alive_;  // read_one's callback may destroy this socket
  for (std::size_t n = 0; n < limit && *alive; ++n) {
    if (!read_one()) return;
  }
}

bool NotifySocket::read_one() {
  char data[kMaxNotifyDatagram];
  alignas(
      cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  iovec iov{data, sizeof data};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd_.get(), &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      log::debug(
          "cannot read the notify socket",
          {{"event", "notify_error"}, {"program", instance_}, {"error", std::strerror(errno)}});
    }
    return false;
  }
  std::optional<ucred> credentials = take_control(message);
  Sender sender;
  if (credentials) sender = Sender{credentials->pid, credentials->uid};
  const Sender* known = credentials ? &sender : nullptr;
  if ((message.msg_flags & MSG_TRUNC) || static_cast<std::size_t>(n) > sizeof data) {
    drop("oversized", known, std::to_string(n) + " bytes");
    return true;
  }
  if (!credentials) {
    drop("no sender credentials", known);
    return true;
  }
  if (sender.uid != writer_ && sender.uid != 0) {
    drop("sent by another user", known, "uid " + std::to_string(sender.uid));
    return true;
  }
  std::string error;
  auto parsed = parse_notify_message(std::string_view(data, static_cast<std::size_t>(n)), error);
  if (!parsed) {
    drop("malformed", known, error);
    return true;
  }
  on_message_(*parsed, sender);
  return true;
}

void NotifySocket::drop(const char* reason, const Sender* sender, const std::string& detail) {
  ++dropped_;
  if (!log::enabled(LogLevel::debug)) return;
  log::Fields fields = {{"event", "notify_dropped"}, {"program", instance_}, {"reason", reason}};
  if (sender) fields["pid"] = sender->pid;
  if (!detail.empty()) fields["detail"] = detail;
  log::debug("notify message dropped", fields);
}

}  // namespace gardien
