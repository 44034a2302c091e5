#include "common/time_zone.h"

#include <date/tz.h>

#include <cstdlib>
#include <exception>

#include "common/config.h"

namespace gardien {

namespace {

std::string strip_zoneinfo(std::string_view name) {
  if (!name.empty() && name.front() == ':') name.remove_prefix(1);
  for (std::string_view dir : {"/usr/share/zoneinfo/", "/usr/share/zoneinfo/posix/"})
    if (name.substr(0, dir.size()) == dir) name.remove_prefix(dir.size());
  return std::string(name);
}

}  // namespace

std::string format_wall_time(Instant instant, const date::time_zone& zone) {
  date::zoned_seconds local(&zone, std::chrono::floor<std::chrono::seconds>(instant));
  return date::format("%F %T %Ez", local) + " (" + std::string(zone.name()) + ")";
}

TimeZoneLookup find_time_zone(std::string_view name) {
  TimeZoneLookup out;
  try {
    out.zone = date::locate_zone(name);
  } catch (const std::exception&) {
    out.error = "unknown time zone \"" + std::string(name) + "\"" +
                ": expected an IANA name from the system's tzdata (/usr/share/zoneinfo), like "
                "\"Europe/Paris\", \"America/New_York\" or \"UTC\"";
  }
  return out;
}

LocalTimeZone local_time_zone() {
  if (const char* tz = std::getenv("TZ"); tz && *tz) {
    std::string name = strip_zoneinfo(tz);
    if (TimeZoneLookup found = find_time_zone(name); found.zone)
      return {found.zone, "TZ=" + std::string(tz)};
  }
  try {
    const date::time_zone* zone = date::current_zone();
    return {zone, "/etc/localtime (" + std::string(zone->name()) + ")"};
  } catch (const std::exception&) {
  }
  TimeZoneLookup utc = find_time_zone("UTC");
  return {utc.zone, "UTC (no TZ naming a zone, no /etc/localtime)"};
}

TimeZoneCheck system_time_zones() {
  return [](std::string_view name) -> std::optional<std::string> {
    TimeZoneLookup found = find_time_zone(name);
    if (found.zone) return std::nullopt;
    return found.error;
  };
}

}  // namespace gardien
