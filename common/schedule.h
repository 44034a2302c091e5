// Schedules as users write them (docs/schedules.md): five cron fields ("*/15 * * * *"), the
// macros @hourly @daily @midnight @weekly @monthly @yearly @annually, "@every 10m" and @reboot;
// and the next time one fires, on the wall clock of an IANA time zone (next_after and matches are
// in schedule_clock.cpp, with the time-zone library: gardien_time in common/CMakeLists.txt).
//
// Across a daylight-saving change each matching wall-clock time fires once:
// - a time skipped by a spring-forward change (02:30 on the day 02:00 becomes 03:00) fires once,
//   at the instant of the change (03:00 new time); several skipped times fire together, once;
// - a time that happens twice in a fall-back change fires at its first occurrence only.
// @every counts elapsed time from the instant given, never the wall clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace gardien {

enum class ScheduleKind {
  cron,    // five fields or a macro other than @every and @reboot
  every,   // @every DURATION
  reboot,  // @reboot: the task runs when the daemon starts (run = "on-start"), never on a clock
};

// The matching values of each cron field, one bit per value.
struct CronFields {
  std::uint64_t minutes = 0;  // bits 0..59
  std::uint32_t hours = 0;    // bits 0..23
  std::uint32_t days = 0;     // bits 1..31 (day of month)
  std::uint16_t months = 0;   // bits 1..12
  std::uint8_t weekdays = 0;  // bits 0..6, Sunday 0 (7 in the text is folded into 0)
  // Vixie cron: when neither day field starts with '*', a day matches if EITHER matches.
  bool either_day = false;
  bool operator==(const CronFields&) const = default;
};

struct Schedule {
  ScheduleKind kind = ScheduleKind::cron;
  CronFields cron;                     // kind == cron
  std::chrono::milliseconds every{0};  // kind == every
  bool operator==(const Schedule&) const = default;
};

// The shortest @every: a shorter interval is a busy loop, not a schedule.
inline constexpr std::chrono::milliseconds kMinEvery{1000};
// Longer input is refused before it is read (the longest sensible list fits easily).
inline constexpr std::size_t kMaxScheduleLength = 512;

struct ScheduleParse {
  std::optional<Schedule> schedule;
  // When there is no schedule: the whole input, the field and the fix, like
  // `schedule "*/0 * * * *": minute step 0: a step is 1 or more`.
  std::string error;
};

// A schedule that can never fire ("0 0 30 feb *") is an error here, so next_after on a parsed
// cron schedule always finds a time.
ScheduleParse parse_schedule(std::string_view text);

using Instant = std::chrono::system_clock::time_point;

// The first fire strictly after `instant`, in `zone`'s wall clock (cron fires on whole minutes of
// local time). @every: `instant` + the interval. @reboot: nullopt (it never fires on a clock).
std::optional<Instant> next_after(const Schedule& schedule, Instant instant,
                                  const date::time_zone& zone);

// Whether `local` (a wall-clock minute, seconds since the local epoch) matches the cron fields.
bool matches(const CronFields& fields, std::chrono::seconds local);

}  // namespace gardien
