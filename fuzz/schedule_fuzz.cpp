// libFuzzer target for the schedule parser and next-fire function (docs/fuzzing.md): a refused
// schedule must say why, shortly; an accepted one must fire strictly after each instant tried, on
// a wall-clock minute its fields match (or at a daylight-saving change that skipped one), in
// three zones.
#include <date/tz.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/schedule.h"
#include "common/time_zone.h"

namespace {

using namespace std::chrono_literals;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "schedule_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

const date::time_zone* zone(const char* name) {
  const date::time_zone* found = gardien::find_time_zone(name).zone;
  check(found != nullptr, "the fuzz zones are in the system's tzdata");
  return found;
}

// Instants around the DST changes of 2026 in Paris and New York, and ordinary ones.
constexpr std::int64_t kInstants[] = {
    1'774'746'000 - 90,  // 2026-03-29 00:58:30 UTC, before Paris springs forward
    1'792'888'200,       // 2026-10-25 00:30:00 UTC, Paris' first 02:30
    1'792'891'800 + 59,  // 2026-10-25 01:30:59 UTC, Paris' second 02:30
    1'772'953'140,       // 2026-03-08 06:59:00 UTC, New York a minute before springing forward
    1'793'509'200,       // 2026-11-01 05:00:00 UTC, New York's first 01:00
    946'684'799,         // 1999-12-31 23:59:59 UTC
    4'102'444'800,       // 2100-01-01 (not a leap year)
};

void check_fires(const gardien::Schedule& schedule, const date::time_zone& tz) {
  for (std::int64_t seconds : kInstants) {
    gardien::Instant at{std::chrono::seconds(seconds)};
    for (int i = 0; i < 3; ++i) {
      auto next = gardien::next_after(schedule, at, tz);
      check(next.has_value(), "a parsed cron schedule always fires");
      check(*next > at, "the next fire is strictly after the instant");
      auto fire = date::floor<std::chrono::seconds>(*next);
      auto local = tz.to_local(fire);
      bool on_a_change = tz.get_info(fire).begin == fire;
      check(on_a_change || local.time_since_epoch() % 60s == 0s, "a fire is on a whole minute");
      check(on_a_change || gardien::matches(schedule.cron, local.time_since_epoch()),
            "a fire matches the fields, unless it stands for a time the clock skipped");
      at = *next;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const date::time_zone* const kZones[] = {zone("UTC"), zone("Europe/Paris"),
                                                  zone("America/New_York")};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gardien::ScheduleParse parse = gardien::parse_schedule(text);
  if (!parse.schedule) {
    check(!parse.error.empty(), "a refused schedule says why");
    check(parse.error.size() < 2 * gardien::kMaxScheduleLength + 400, "an error is short");
    return 0;
  }
  check(parse.error.empty(), "an accepted schedule has no error");
  switch (parse.schedule->kind) {
    case gardien::ScheduleKind::reboot:
      check(!gardien::next_after(*parse.schedule, gardien::Instant{}, *kZones[0]),
            "@reboot never fires on a clock");
      break;
    case gardien::ScheduleKind::every:
      check(parse.schedule->every >= gardien::kMinEvery, "@every is at least the minimum");
      break;
    case gardien::ScheduleKind::cron:
      for (const date::time_zone* tz : kZones) check_fires(*parse.schedule, *tz);
      break;
  }
  return 0;
}
