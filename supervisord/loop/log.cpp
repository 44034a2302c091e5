#include "supervisord/loop/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/timestamp.h"

namespace gardien::log {

namespace {

LogLevel g_level = LogLevel::info;
LogFormat g_format = LogFormat::text;
LineWriter g_writer;

std::string timestamp() {
  return format_rfc3339(WallClock::now());
}

// One write(2) per line so concurrent writers never interleave mid-line.
void emit(const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to; never let logging take the daemon down
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string json_line(LogLevel level, std::string_view message, const Fields& fields) {
  Fields obj = {{"time", timestamp()}, {"level", std::string(to_string(level))}, {"msg", message}};
  if (fields.is_object()) obj.update(fields);
  return obj.dump(-1, ' ', false, Fields::error_handler_t::replace);
}

// Bare when unambiguous, else quoted: `reason="exit code 1"`.
std::string text_value(const Fields& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.find_first_of(" \"=") == std::string::npos) return text;
  }
  return value.dump(-1, ' ', false, Fields::error_handler_t::replace);
}

std::string text_line(LogLevel level, std::string_view message, const Fields& fields) {
  std::string line = timestamp() + " " + std::string(to_string(level)) + ": ";
  if (fields.is_object()) {
    auto program = fields.find("program");
    if (program != fields.end()) line += text_value(*program) + ": ";
  }
  line += message;
  if (!fields.is_object()) return line;
  for (const auto& [key, value] : fields.items()) {
    if (key == "event" || key == "program") continue;
    line += " " + key + "=" + text_value(value);
  }
  return line;
}

}  // namespace

void set_line_writer(LineWriter writer) {
  g_writer = std::move(writer);
}

void configure(LogLevel level, LogFormat format) {
  g_level = level;
  g_format = format;
}

bool enabled(LogLevel level) {
  return static_cast<int>(level) >= static_cast<int>(g_level);
}

void write(LogLevel level, std::string_view message, const Fields& fields) {
  if (!enabled(level)) return;
  std::string line = g_format == LogFormat::json ? json_line(level, message, fields)
                                                 : text_line(level, message, fields);
  line += '\n';
  if (g_writer) {
    g_writer(line);
  } else {
    emit(line);
  }
}

}  // namespace gardien::log
