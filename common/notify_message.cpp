#include "common/notify_message.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

namespace gardien {
namespace {

// STATUS= is shown in one line of `status`; a longer text is cut, not refused.
constexpr std::size_t kMaxStatus = 1024;
// How much of a bad line an error quotes.
constexpr std::size_t kMaxQuoted = 64;

// `text` cut to at most `limit` bytes, at a character boundary.
std::string_view truncated(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// Lines are checked UTF-8 before they are quoted: the cut keeps them so.
std::string quoted(std::string_view line) {
  if (line.size() <= kMaxQuoted) return std::string(line);
  return std::string(truncated(line, kMaxQuoted)) + "...";
}

// The length of the UTF-8 sequence at `at`, or 0 when it is not one (overlong forms, surrogates
// and code points past U+10FFFF included).
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() - at < length) return 0;
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
  }
  return length;
}

// Text is UTF-8 without control bytes other than the line ends and tabs.
bool is_text(std::string_view datagram, std::string& error) {
  for (std::size_t at = 0; at < datagram.size();) {
    unsigned char c = static_cast<unsigned char>(datagram[at]);
    if (c == 0) {
      error = "the datagram holds a NUL byte at offset " + std::to_string(at);
      return false;
    }
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
      error = "the datagram holds control byte " + std::to_string(c) + " at offset " +
              std::to_string(at);
      return false;
    }
    std::size_t length = utf8_sequence(datagram, at);
    if (length == 0) {
      error = "the datagram is not UTF-8 (at offset " + std::to_string(at) + ")";
      return false;
    }
    at += length;
  }
  return true;
}

// A decimal number of digits only (no sign, no spaces); nullopt past `max`.
template <typename T>
std::optional<T> decimal(std::string_view value, T max) {
  if (value.empty() || value.size() > 20) return std::nullopt;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  T result{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (ec != std::errc() || end != value.data() + value.size() || result > max) return std::nullopt;
  return result;
}

// Microseconds, rounded up to a millisecond; a number too large for any timeout is the longest.
std::optional<Duration> microseconds(std::string_view value) {
  if (value.empty()) return std::nullopt;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  constexpr std::uint64_t kMaxUsec = static_cast<std::uint64_t>(kMaxDuration.count()) * 1000;
  std::uint64_t usec = 0;
  for (char c : value) {
    usec = usec * 10 + static_cast<std::uint64_t>(c - '0');
    if (usec >= kMaxUsec) return kMaxDuration;
  }
  return Duration(static_cast<Duration::rep>((usec + 999) / 1000));
}

bool is_one(std::string_view value) {
  return value == "1";
}

// The keys whose only value is 1, and the flag each sets.
struct FlagKey {
  std::string_view key;
  bool NotifyMessage::*flag;
};
constexpr FlagKey kFlagKeys[] = {{"READY", &NotifyMessage::ready},
                                 {"RELOADING", &NotifyMessage::reloading},
                                 {"STOPPING", &NotifyMessage::stopping},
                                 {"BARRIER", &NotifyMessage::barrier}};

// Applies one KEY=VALUE line; false with `error` when a known key has a bad value.
bool apply(std::string_view line, std::string_view key, std::string_view value,
           NotifyMessage& message, std::string& error) {
  auto bad = [&](std::string_view why) {
    error = quoted(line) + ": ";
    error += why;
    return false;
  };
  for (const FlagKey& f : kFlagKeys) {
    if (key != f.key) continue;
    if (!is_one(value)) return bad(std::string(key) + " takes only 1");
    message.*f.flag = true;
    return true;
  }
  if (key == "WATCHDOG") {
    if (!is_one(value) && value != "trigger") return bad("WATCHDOG takes 1 or trigger");
    message.watchdog = is_one(value);
    message.watchdog_trigger = !is_one(value);
  } else if (key == "STATUS") {
    message.status = std::string(truncated(value, kMaxStatus));
  } else if (key == "MAINPID") {
    auto pid = decimal<pid_t>(value, std::numeric_limits<pid_t>::max());
    if (!pid || *pid <= 0) return bad("not a pid (a decimal number > 0)");
    message.main_pid = *pid;
  } else if (key == "ERRNO") {
    auto number = decimal<int>(value, std::numeric_limits<int>::max());
    if (!number) return bad("not an errno number (a decimal number >= 0)");
    message.errno_value = *number;
  } else if (key == "EXTEND_TIMEOUT_USEC") {
    auto extend = microseconds(value);
    if (!extend) return bad("not a number of microseconds");
    message.extend_timeout = *extend;
  }
  return true;
}

}  // namespace

std::optional<NotifyMessage> parse_notify_message(std::string_view datagram, std::string& error) {
  if (!is_text(datagram, error)) return std::nullopt;
  NotifyMessage message;
  while (!datagram.empty()) {
    std::size_t end = datagram.find('\n');
    std::string_view line = datagram.substr(0, end);
    datagram.remove_prefix(end == std::string_view::npos ? datagram.size() : end + 1);
    if (line.empty()) continue;
    std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      error = quoted(line) + ": not KEY=VALUE";
      return std::nullopt;
    }
    if (equals == 0) {
      error = quoted(line) + ": an empty key";
      return std::nullopt;
    }
    if (!apply(line, line.substr(0, equals), line.substr(equals + 1), message, error)) {
      return std::nullopt;
    }
  }
  return message;
}

std::string format_notify_message(const NotifyMessage& message) {
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value) {
    out.append(key).append("=").append(value).append("\n");
  };
  if (message.main_pid) line("MAINPID", std::to_string(*message.main_pid));
  if (message.status) {
    std::string status(truncated(*message.status, kMaxStatus));
    for (char& c : status) {
      if (c == '\n') c = ' ';  // one line: a newline would start another key
    }
    line("STATUS", status);
  }
  if (message.errno_value) line("ERRNO", std::to_string(*message.errno_value));
  if (message.extend_timeout) {
    Duration extend = std::clamp(*message.extend_timeout, Duration(0), kMaxDuration);
    line("EXTEND_TIMEOUT_USEC", std::to_string(extend.count() * 1000));
  }
  if (message.reloading) line("RELOADING", "1");
  if (message.stopping) line("STOPPING", "1");
  if (message.ready) line("READY", "1");
  if (message.watchdog) line("WATCHDOG", "1");
  if (message.watchdog_trigger) line("WATCHDOG", "trigger");
  if (message.barrier) line("BARRIER", "1");
  return out;
}

}  // namespace gardien
