// next_after and matches (common/schedule.h): a schedule on the wall clock of a time zone.
#include <date/date.h>
#include <date/tz.h>

#include <bit>

#include "common/schedule.h"
#include "common/time_zone.h"

namespace gardien {

namespace {

// Local wall-clock minutes (seconds since the local epoch, whole minutes).
using LocalMinutes = date::local_time<std::chrono::minutes>;

bool day_matches(const CronFields& f, date::year_month_day ymd, date::weekday wd) {
  bool dom = f.days >> static_cast<unsigned>(ymd.day()) & 1;
  bool dow = f.weekdays >> wd.c_encoding() & 1;
  return f.either_day ? dom || dow : dom && dow;
}

// The lowest set bit of `bits` at `from` or above, or -1.
int next_bit(std::uint64_t bits, int from) {
  if (from >= 64) return -1;
  std::uint64_t rest = bits >> from << from;
  return rest ? std::countr_zero(rest) : -1;
}

// Beyond a Gregorian cycle (400 years) a schedule that has not matched never will.
constexpr int kSearchYears = 401;

// The first local minute at or after `from` that the fields match, skipping by field: a month
// that does not match costs one step, a day one step, an hour one step.
std::optional<LocalMinutes> next_match(const CronFields& f, LocalMinutes from) {
  auto day = date::floor<date::days>(from);
  auto time = from - day;
  int hour = static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(time).count());
  int minute = static_cast<int>((time - std::chrono::hours(hour)).count());
  date::year last_year = date::year_month_day(day).year() + date::years(kSearchYears);
  while (true) {
    date::year_month_day ymd(day);
    if (ymd.year() > last_year) return std::nullopt;
    if (!(f.months >> static_cast<unsigned>(ymd.month()) & 1)) {
      auto next_month = ymd.year() / ymd.month() / 1 + date::months(1);
      day = date::local_days(next_month);
      hour = minute = 0;
      continue;
    }
    if (!day_matches(f, ymd, date::weekday(day))) {
      day += date::days(1);
      hour = minute = 0;
      continue;
    }
    int h = next_bit(f.hours, hour);
    if (h < 0) {
      day += date::days(1);
      hour = minute = 0;
      continue;
    }
    if (h != hour) minute = 0;
    int m = next_bit(f.minutes, minute);
    if (m < 0) {
      hour = h + 1;
      minute = 0;
      continue;
    }
    return day + std::chrono::hours(h) + std::chrono::minutes(m);
  }
}

// The instant a wall-clock time fires: itself when it exists once; its first occurrence when a
// fall-back repeats it; the instant of the change when a spring-forward skips it. Never
// decreasing in `local`, so the first matching time whose instant is after `t` is the answer.
date::sys_seconds fire_instant(const date::time_zone& zone, date::local_seconds local) {
  date::local_info info = zone.get_info(local);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      return date::sys_seconds{local.time_since_epoch()} - info.first.offset;
    case date::local_info::nonexistent:
      return info.second.begin;
  }
  return date::sys_seconds{local.time_since_epoch()} - info.first.offset;
}

std::optional<Instant> next_cron(const CronFields& f, Instant instant,
                                 const date::time_zone& zone) {
  auto now = date::floor<std::chrono::seconds>(instant);
  auto local = date::floor<std::chrono::minutes>(zone.to_local(now)) + std::chrono::minutes(1);
  while (true) {
    auto match = next_match(f, local);
    if (!match) return std::nullopt;
    Instant fire = fire_instant(zone, date::local_seconds(*match));
    // Only the second pass of a repeated hour maps to instants already gone.
    if (fire > instant) return fire;
    local = *match + std::chrono::minutes(1);
  }
}

}  // namespace

bool matches(const CronFields& f, std::chrono::seconds local) {
  date::local_seconds at(local);
  auto day = date::floor<date::days>(at);
  auto time = at - day;
  int hour = static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(time).count());
  int minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(time).count() % 60);
  date::year_month_day ymd(day);
  return (f.minutes >> minute & 1) && (f.hours >> hour & 1) &&
         (f.months >> static_cast<unsigned>(ymd.month()) & 1) &&
         day_matches(f, ymd, date::weekday(day));
}

std::optional<Instant> next_after(const Schedule& schedule, Instant instant,
                                  const date::time_zone& zone) {
  switch (schedule.kind) {
    case ScheduleKind::every:
      return instant + schedule.every;
    case ScheduleKind::reboot:
      return std::nullopt;
    case ScheduleKind::cron:
      return next_cron(schedule.cron, instant, zone);
  }
  return std::nullopt;
}

}  // namespace gardien
