// The daemon's own log: one line per event on stderr, as text or as JSON objects.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/config.h"

namespace gardien::log {

void configure(LogLevel level, LogFormat format);
bool enabled(LogLevel level);

// `fields` is a JSON object of extra key/values ({"event": "spawn", "program": "web.0",
// "pid": 42}), kept in the order written. JSON lines carry every field after time, level and
// msg; text lines read "TIME LEVEL: PROGRAM: message key=value ...", without `event` (the
// message says it in words).
using Fields = nlohmann::ordered_json;
void write(LogLevel level, std::string_view message, const Fields& fields = nullptr);

// Where finished lines (each ending in '\n') go. Default (empty): one write(2) to stderr. The
// output hub installs its non-blocking stderr queue so logging never blocks the loop and never
// lands in the middle of a program's line.
using LineWriter = std::function<void(std::string_view line)>;
void set_line_writer(LineWriter writer);

inline void debug(std::string_view m, const Fields& f = nullptr) {
  write(LogLevel::debug, m, f);
}
inline void info(std::string_view m, const Fields& f = nullptr) {
  write(LogLevel::info, m, f);
}
inline void warn(std::string_view m, const Fields& f = nullptr) {
  write(LogLevel::warn, m, f);
}
inline void error(std::string_view m, const Fields& f = nullptr) {
  write(LogLevel::error, m, f);
}

}  // namespace gardien::log
