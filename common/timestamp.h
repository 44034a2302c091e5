// RFC 3339 times as the daemon prints them: UTC, milliseconds, "2024-05-01T12:00:00.123Z".
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace gardien {

using WallClock = std::chrono::system_clock;

inline constexpr std::size_t kRfc3339Length = 24;

// Appends exactly kRfc3339Length characters.
void append_rfc3339(std::string& out, WallClock::time_point t);
std::string format_rfc3339(WallClock::time_point t);

}  // namespace gardien
