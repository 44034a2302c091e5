// The daemon's own log: one line per event on stderr, as text or as JSON objects.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/config.h"

namespace gardien::log {

void configure(LogLevel level, LogFormat format);
bool enabled(LogLevel level);

// `fields` is a JSON object of extra key/values ({"program": "web.0", "pid": 42}).
void write(LogLevel level, std::string_view message, const nlohmann::json& fields = nullptr);

inline void debug(std::string_view m, const nlohmann::json& f = nullptr) { write(LogLevel::debug, m, f); }
inline void info(std::string_view m, const nlohmann::json& f = nullptr) { write(LogLevel::info, m, f); }
inline void warn(std::string_view m, const nlohmann::json& f = nullptr) { write(LogLevel::warn, m, f); }
inline void error(std::string_view m, const nlohmann::json& f = nullptr) { write(LogLevel::error, m, f); }

}  // namespace gardien::log
