#include "common/timestamp.h"

#include <cstdio>
#include <ctime>

namespace gardien {

void append_rfc3339(std::string& out, WallClock::time_point t) {
  using namespace std::chrono;
  auto ms_since_epoch = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = ms_since_epoch / 1000;
  auto ms = ms_since_epoch % 1000;
  if (ms < 0) {  // before 1970: floor, not truncate
    ms += 1000;
    secs -= 1;
  }
  // Formatting the date is the slow part and lines come in bursts: cache it per second.
  thread_local long long cached_secs = -1;
  thread_local char cached[32];
  if (secs != cached_secs) {
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  char tail[8];
  std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(ms));
  out.append(cached, 19);
  out.append(tail, 5);
}

std::string format_rfc3339(WallClock::time_point t) {
  std::string s;
  append_rfc3339(s, t);
  return s;
}

}  // namespace gardien
