// Durations as users write them: "250ms", "10s", "1m30s", "2h", "1d", "1.5s", "10 s", "1h 30m",
// "0".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gardien {

using Duration = std::chrono::milliseconds;

struct DurationParse {
  std::optional<Duration> value;
  bool out_of_range = false;  // a duration, but longer than parse_duration accepts
};

// What read_duration accepts at most: about 35,000 years.
inline constexpr Duration kMaxDuration{std::int64_t{1} << 50};

DurationParse read_duration(std::string_view text);

// nullopt when `text` is not a duration (negative, unknown unit, garbage, out of range).
std::optional<Duration> parse_duration(std::string_view text);

// The shortest string parse_duration reads back as `d`: "0s", "250ms", "1m30s", "2h".
std::string format_duration(Duration d);

}  // namespace gardien
