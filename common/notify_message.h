// The systemd notification protocol (sd_notify(3)): one datagram of newline-separated KEY=VALUE
// lines. Pure parsing, shared by the daemon's per-instance sockets and its fuzz target.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.h"

namespace gardien {

// The largest datagram read; a longer one is dropped whole (systemd's own limit is 4 KiB of
// text plus fds; STATUS= lines are short).
inline constexpr std::size_t kMaxNotifyDatagram = 4096;

// What one datagram says. Keys not listed are ignored, as sd_notify(3) asks; a key given twice
// takes its last value.
struct NotifyMessage {
  bool ready = false;                      // READY=1
  bool reloading = false;                  // RELOADING=1
  bool stopping = false;                   // STOPPING=1
  bool watchdog = false;                   // WATCHDOG=1: the watchdog starts over
  bool watchdog_trigger = false;           // WATCHDOG=trigger: act as if the watchdog expired
  bool barrier = false;                    // BARRIER=1: the fds sent with it are to be closed
  std::optional<std::string> status;       // STATUS=: free text for `status`
  std::optional<pid_t> main_pid;           // MAINPID=: a pid > 0
  std::optional<int> errno_value;          // ERRNO=: an errno number >= 0
  std::optional<Duration> extend_timeout;  // EXTEND_TIMEOUT_USEC=, rounded up to a millisecond
  bool operator==(const NotifyMessage&) const = default;
};

// nullopt with `error` (one line naming the key: "MAINPID=abc: not a pid") when the datagram is
// malformed: not text, a line without '=', an empty key, or a known key with a bad value.
std::optional<NotifyMessage> parse_notify_message(std::string_view datagram, std::string& error);

// A datagram that says `message` (what the daemon itself sends to the init above it).
std::string format_notify_message(const NotifyMessage& message);

}  // namespace gardien
