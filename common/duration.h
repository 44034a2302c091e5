// Durations as users write them: "250ms", "10s", "1m30s", "2h", "1.5s", "0".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gardien {

using Duration = std::chrono::milliseconds;

// nullopt when `text` is not a duration (negative, unknown unit, garbage, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// The shortest string parse_duration reads back as `d`: "0s", "250ms", "1m30s", "2h".
std::string format_duration(Duration d);

}  // namespace gardien
