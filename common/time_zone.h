// IANA time zones from the system's tzdata, through the tz library (libdate-tz): only the daemon
// and `gardien check` link it (gardien_time in common/CMakeLists.txt), so gardienctl starts
// without loading it and libstdc++.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace gardien {

using Instant = std::chrono::system_clock::time_point;

// "2026-12-03 12:15:00 +01:00 (Europe/Paris)": an instant on `zone`'s wall clock, to the second.
std::string format_wall_time(Instant instant, const date::time_zone& zone);

struct TimeZoneLookup {
  const date::time_zone* zone = nullptr;
  std::string error;  // when zone is null
};

// An IANA name from the system's tzdata (/usr/share/zoneinfo): "Europe/Paris", "UTC".
TimeZoneLookup find_time_zone(std::string_view name);

// The daemon's local zone: $TZ when it names a zone ("Europe/Paris", ":Europe/Paris" or a path
// under /usr/share/zoneinfo), else the zone /etc/localtime links to (or /etc/timezone names),
// else UTC. `source` says which, for logs and `gardien check --verbose`.
struct LocalTimeZone {
  const date::time_zone* zone = nullptr;
  std::string source;
};
LocalTimeZone local_time_zone();

}  // namespace gardien
