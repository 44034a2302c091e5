#include "common/schedule.h"
#include "common/time_zone.h"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace gardien;
using namespace std::chrono_literals;

namespace {

Schedule parsed(std::string_view text) {
  ScheduleParse p = parse_schedule(text);
  EXPECT_TRUE(p.schedule) << text << ": " << p.error;
  return p.schedule.value_or(Schedule{});
}

std::string error_of(std::string_view text) {
  ScheduleParse p = parse_schedule(text);
  EXPECT_FALSE(p.schedule) << text << " parsed";
  return p.error;
}

const date::time_zone& zone(std::string_view name) {
  TimeZoneLookup found = find_time_zone(name);
  if (!found.zone) throw std::runtime_error(found.error);
  return *found.zone;
}

// "2026-03-29 01:30" in `tz` (the first occurrence when a fall-back repeats it).
Instant local(const date::time_zone& tz, std::string_view text) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0;
  // date::parse trips GCC 12's -Wmaybe-uninitialized inside date.h; the form is fixed anyway.
  EXPECT_EQ(std::sscanf(std::string(text).c_str(), "%d-%u-%u %u:%u", &y, &mo, &d, &h, &mi), 5)
      << text;
  date::local_seconds t = date::local_days(date::year(y) / date::month(mo) / date::day(d)) +
                          std::chrono::hours(h) + std::chrono::minutes(mi);
  return tz.to_sys(t, date::choose::earliest);
}

// The wall clock of `at` in `tz`, with its abbreviation: "2026-03-29 03:00 CEST".
std::string show(const date::time_zone& tz, std::optional<Instant> at) {
  if (!at) return "never";
  return date::format("%F %R %Z", date::zoned_time(&tz, date::floor<std::chrono::seconds>(*at)));
}

std::string next_local(std::string_view schedule, std::string_view tz, std::string_view from) {
  const date::time_zone& z = zone(tz);
  return show(z, next_after(parsed(schedule), local(z, from), z));
}

// The first `n` fires after `from`, each after the one before.
std::vector<std::string> fires(std::string_view schedule, std::string_view tz,
                               std::string_view from, int n) {
  const date::time_zone& z = zone(tz);
  Schedule s = parsed(schedule);
  std::vector<std::string> out;
  Instant at = local(z, from);
  for (int i = 0; i < n; ++i) {
    auto next = next_after(s, at, z);
    if (!next) break;
    EXPECT_GT(*next, at);
    out.push_back(show(z, next));
    at = *next;
  }
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST(Schedule, ParsesFieldsIntoBits) {
  CronFields f = parsed("*/15 9-17 1,15 */3 1-5").cron;
  EXPECT_EQ(f.minutes, (1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45));
  EXPECT_EQ(f.hours, ((1u << 18) - 1) & ~((1u << 9) - 1));
  EXPECT_EQ(f.days, (1u << 1) | (1u << 15));
  EXPECT_EQ(f.months, (1u << 1) | (1u << 4) | (1u << 7) | (1u << 10));
  EXPECT_EQ(f.weekdays, 0b0111110);
  EXPECT_TRUE(f.either_day);
  EXPECT_FALSE(parsed("0 0 * * 1").cron.either_day);
  EXPECT_FALSE(parsed("0 0 */2 * 1").cron.either_day);  // starts with '*': Vixie's rule
  EXPECT_EQ(parsed("10/20 * * * *").cron.minutes, (1ull << 10) | (1ull << 30) | (1ull << 50));
  EXPECT_EQ(parsed("10-40/15 * * * *").cron.minutes, (1ull << 10) | (1ull << 25) | (1ull << 40));
  EXPECT_EQ(parsed("  0\t0 *  * *  ").cron, parsed("0 0 * * *").cron);
  EXPECT_EQ(parsed("* * * * *").cron.minutes, (1ull << 60) - 1);
  EXPECT_EQ(parsed("00 007 * * *").cron, parsed("0 7 * * *").cron);
}

TEST(Schedule, NamesAreCaseInsensitiveAndSundayIsZeroOrSeven) {
  EXPECT_EQ(parsed("0 0 * jan-mar mon-fri").cron, parsed("0 0 * 1-3 1-5").cron);
  EXPECT_EQ(parsed("0 0 * JAN,Dec Sat").cron, parsed("0 0 * 1,12 6").cron);
  EXPECT_EQ(parsed("0 0 * * sun").cron, parsed("0 0 * * 0").cron);
  EXPECT_EQ(parsed("0 0 * * 7").cron, parsed("0 0 * * 0").cron);
  EXPECT_EQ(parsed("0 0 * * fri-sun").cron, parsed("0 0 * * 5,6,0").cron);
  EXPECT_EQ(parsed("0 0 * * 5-7").cron, parsed("0 0 * * 0,5,6").cron);
  EXPECT_EQ(parsed("0 0 * * sun-sun").cron, parsed("0 0 * * 0").cron);
  EXPECT_EQ(parsed("0 0 * * sun-tue").cron, parsed("0 0 * * 0-2").cron);
  EXPECT_EQ(parsed("0 0 * * 0-7").cron.weekdays, 0b1111111);
  EXPECT_EQ(parsed("0 0 * * *").cron.weekdays, 0b1111111);
}

TEST(Schedule, MacrosAreTheirFields) {
  EXPECT_EQ(parsed("@hourly"), parsed("0 * * * *"));
  EXPECT_EQ(parsed("@daily"), parsed("0 0 * * *"));
  EXPECT_EQ(parsed("@midnight"), parsed("0 0 * * *"));
  EXPECT_EQ(parsed("@weekly"), parsed("0 0 * * 0"));
  EXPECT_EQ(parsed("@monthly"), parsed("0 0 1 * *"));
  EXPECT_EQ(parsed("@yearly"), parsed("0 0 1 1 *"));
  EXPECT_EQ(parsed("@annually"), parsed("0 0 1 1 *"));
  EXPECT_EQ(parsed("@DAILY"), parsed("0 0 * * *"));
  EXPECT_EQ(parsed("@reboot").kind, ScheduleKind::reboot);
  Schedule every = parsed("@every 1h30m");
  EXPECT_EQ(every.kind, ScheduleKind::every);
  EXPECT_EQ(every.every, 90min);
  EXPECT_EQ(parsed("@every 1s").every, 1s);
  EXPECT_EQ(parsed("@every  1.5s ").every, 1500ms);
}

TEST(Schedule, ErrorsNameTheFieldAndTheFix) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"*/0 * * * *", "schedule \"*/0 * * * *\": minute step 0: a step is 1 or more"},
           {"* 24 * * *", "schedule \"* 24 * * *\": hour 24: out of range, an hour is 0-23"},
           {"* * 0 * *", "day-of-month 0: out of range, a day of month is 1-31"},
           {"* * 32 * *", "day-of-month 32: out of range"},
           {"* * * 13 *", "month 13: out of range, a month is 1-12 or jan-dec"},
           {"* * * * 8",
            "day-of-week 8: out of range, a day of week is 0-7 or sun-sat (0 and 7 are both "
            "Sunday)"},
           {"60 * * * *", "minute 60: out of range, a minute is 0-59"},
           {"* * 20-10 * *", "day-of-month range 20-10: reversed; write the lower end first"},
           {"* * * * 5-0", "day-of-week range 5-0: reversed"},
           {"*/61 * * * *", "minute step 61: at most 60"},
           {"*/x * * * *", "minute step \"x\": a step is a number, like */15"},
           {"1,,2 * * * *", "minute \"1,,2\": an empty list element"},
           {"1, * * * *", "minute \"1,\": an empty list element"},
           {"mon * * * *",
            "minute \"mon\": expected a minute 0-59; names are for the month (jan-dec) and "
            "day-of-week (sun-sat) fields"},
           {"* * * janu *", "month \"janu\": expected a month 1-12 or jan-dec"},
           {"* * * * monday", "day-of-week \"monday\": expected a day of week 0-7 or sun-sat"},
           {"1x * * * *", "minute \"1x\": expected a minute 0-59"},
           {"-1 * * * *",
            "minute \"-1\": expected a minute 0-59, *, a range like 1-5, a step like */15 or a "
            "list like 1,15,30"},
           {"** * * * *", "minute \"**\": expected a minute 0-59"},
           {"9999999999 * * * *", "minute \"9999999999\": expected a minute 0-59"},
           {"* * * *",
            "schedule \"* * * *\": 4 fields, expected five fields \"minute hour day-of-month month "
            "day-of-week\""},
           {"0 * * * * *", "6 fields, expected five fields"},
           {"0 * * * * *", "; seconds and years are not supported"},
           {"", "schedule \"\": empty; expected five fields"},
           {"   ", "empty; expected five fields"},
           {"@hourlyy",
            "schedule \"@hourlyy\": unknown macro \"@hourlyy\"; expected @hourly, @daily"},
           {"@daily 5", "@daily 5\": a macro takes no fields; expected @hourly"},
           {"@reboot now", "a macro takes no fields"},
           {"@every", "@every needs a duration, like \"@every 10m\""},
           {"@every 10", "\"10\" is not a duration: expected one like \"10m\""},
           {"@every 500ms", "schedule \"@every 500ms\": 500ms is too short: @every is at least 1s"},
           {"@every 0", "at least 1s"},
           {"@every 99999999999h", "is too long"},
           {"0 0 30 feb *",
            "schedule \"0 0 30 feb *\": never fires: no month chosen has day 30 (February has 29 "
            "days at most"},
           {"0 0 31 apr,jun,sep,nov *", "never fires: no month chosen has day 31"},
           {"0 0 30,31 2 *", "day 30,31"},
       }) {
    std::string error = error_of(c.text);
    EXPECT_NE(error.find(c.error), std::string::npos) << c.text << "\n  got: " << error;
  }
}

TEST(Schedule, HugeInputIsRefusedWithoutQuotingIt) {
  std::string huge(100'000, '1');
  std::string error = error_of(huge);
  EXPECT_EQ(error, "schedule of 100000 characters: at most 512");
  std::string long_list = "0";
  for (int i = 1; i < 60; ++i) {
    long_list += ',';
    long_list += std::to_string(i);
  }
  EXPECT_EQ(parsed(long_list + " * * * *").cron.minutes, (1ull << 60) - 1);
}

TEST(Schedule, ImpossibleLookingButRealDatesParse) {
  parsed("0 0 29 feb *");
  parsed("0 0 31 1-12 *");
  parsed("0 0 30 feb mon");  // either day: every Monday of February
  EXPECT_EQ(next_local("0 0 29 feb *", "UTC", "2026-03-01 00:00"), "2028-02-29 00:00 UTC");
}

TEST(Schedule, NextIsStrictlyAfterAndOnWholeMinutes) {
  EXPECT_EQ(next_local("* * * * *", "UTC", "2026-05-01 10:00"), "2026-05-01 10:01 UTC");
  EXPECT_EQ(next_local("*/15 * * * *", "UTC", "2026-05-01 10:00"), "2026-05-01 10:15 UTC");
  EXPECT_EQ(next_local("0 0 1 1 *", "UTC", "2026-12-31 23:59"), "2027-01-01 00:00 UTC");
  EXPECT_EQ(next_local("@monthly", "UTC", "2026-01-31 12:00"), "2026-02-01 00:00 UTC");
  EXPECT_EQ(next_local("0 12 * * mon", "UTC", "2026-05-01 10:00"), "2026-05-04 12:00 UTC");
  const date::time_zone& utc = zone("UTC");
  Instant mid = local(utc, "2026-05-01 10:00") + 30s + 250ms;
  EXPECT_EQ(show(utc, next_after(parsed("* * * * *"), mid, utc)), "2026-05-01 10:01 UTC");
}

TEST(Schedule, VixieRuleEitherDayWhenBothAreRestricted) {
  // 2026-01-01 is a Thursday; day 1 or any Monday.
  EXPECT_EQ(fires("0 0 1 * mon", "UTC", "2026-01-01 00:00", 4),
            (Strings{"2026-01-05 00:00 UTC", "2026-01-12 00:00 UTC", "2026-01-19 00:00 UTC",
                     "2026-01-26 00:00 UTC"}));
  EXPECT_EQ(next_local("0 0 1 * mon", "UTC", "2026-01-31 00:00"), "2026-02-01 00:00 UTC");
  // `*/2` starts with '*': both must match (odd Mondays).
  EXPECT_EQ(fires("0 0 */2 * mon", "UTC", "2026-01-01 00:00", 3),
            (Strings{"2026-01-05 00:00 UTC", "2026-01-19 00:00 UTC", "2026-02-09 00:00 UTC"}));
  // `1-31` does not start with '*': either matches, so every day.
  EXPECT_EQ(fires("0 0 1-31 * mon", "UTC", "2026-01-01 00:00", 2),
            (Strings{"2026-01-02 00:00 UTC", "2026-01-03 00:00 UTC"}));
  // One day field restricted: that one alone.
  EXPECT_EQ(next_local("0 0 13 * *", "UTC", "2026-01-01 00:00"), "2026-01-13 00:00 UTC");
  EXPECT_EQ(next_local("0 0 * * fri", "UTC", "2026-01-01 00:00"), "2026-01-02 00:00 UTC");
}

TEST(Schedule, RareDatesAreFoundQuickly) {
  // February 29th falling on a Sunday (`*/7` is Sunday, and starts with '*': both must match):
  // 2032, found by skipping months and days, never minute by minute.
  EXPECT_EQ(next_local("0 0 29 feb */7", "UTC", "2026-01-01 00:00"), "2032-02-29 00:00 UTC");
  auto start = std::chrono::steady_clock::now();
  const date::time_zone& utc = zone("UTC");
  Schedule s = parsed("0 0 29 feb */7");
  for (int i = 0; i < 100; ++i) next_after(s, local(utc, "2026-01-01 00:00"), utc);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(Schedule, EveryIsElapsedTimeAndRebootNeverFiresOnAClock) {
  const date::time_zone& paris = zone("Europe/Paris");
  Instant before = local(paris, "2026-03-29 01:59");
  EXPECT_EQ(next_after(parsed("@every 10m"), before, paris), before + 10min);
  EXPECT_EQ(next_after(parsed("@every 1.5s"), before, paris), before + 1500ms);
  EXPECT_EQ(next_after(parsed("@reboot"), before, paris), std::nullopt);
}

// Europe/Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST.
TEST(ScheduleDst, ParisSpringForwardFiresASkippedTimeOnceAtTheChange) {
  EXPECT_EQ(fires("30 2 * * *", "Europe/Paris", "2026-03-28 12:00", 2),
            (Strings{"2026-03-29 03:00 CEST", "2026-03-30 02:30 CEST"}));
  EXPECT_EQ(fires("*/15 2 * * *", "Europe/Paris", "2026-03-29 00:00", 2),
            (Strings{"2026-03-29 03:00 CEST", "2026-03-30 02:00 CEST"}));
  EXPECT_EQ(fires("30 * * * *", "Europe/Paris", "2026-03-29 01:00", 3),
            (Strings{"2026-03-29 01:30 CET", "2026-03-29 03:00 CEST", "2026-03-29 03:30 CEST"}));
  EXPECT_EQ(fires("0 * * * *", "Europe/Paris", "2026-03-29 01:30", 2),
            (Strings{"2026-03-29 03:00 CEST", "2026-03-29 04:00 CEST"}));
}

// Europe/Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00-02:59 happens twice.
TEST(ScheduleDst, ParisFallBackFiresARepeatedTimeOnceAtItsFirstOccurrence) {
  EXPECT_EQ(fires("30 2 * * *", "Europe/Paris", "2026-10-24 12:00", 2),
            (Strings{"2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"}));
  EXPECT_EQ(fires("*/30 * * * *", "Europe/Paris", "2026-10-25 01:45", 4),
            (Strings{"2026-10-25 02:00 CEST", "2026-10-25 02:30 CEST", "2026-10-25 03:00 CET",
                     "2026-10-25 03:30 CET"}));
  // From inside the second 02:00-02:59 (CET): nothing more fires in that hour.
  const date::time_zone& paris = zone("Europe/Paris");
  Instant second_pass = local(paris, "2026-10-25 02:10") + 1h;
  EXPECT_EQ(show(paris, second_pass), "2026-10-25 02:10 CET");
  EXPECT_EQ(show(paris, next_after(parsed("*/30 * * * *"), second_pass, paris)),
            "2026-10-25 03:00 CET");
}

// America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT; 2026-11-01: 02:00 EDT becomes
// 01:00 EST (01:00-01:59 twice).
TEST(ScheduleDst, NewYorkBothDirections) {
  EXPECT_EQ(fires("30 2 * * *", "America/New_York", "2026-03-07 12:00", 2),
            (Strings{"2026-03-08 03:00 EDT", "2026-03-09 02:30 EDT"}));
  EXPECT_EQ(fires("30 1 * * *", "America/New_York", "2026-10-31 12:00", 2),
            (Strings{"2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"}));
  EXPECT_EQ(fires("0 * * * *", "America/New_York", "2026-11-01 00:30", 3),
            (Strings{"2026-11-01 01:00 EDT", "2026-11-01 02:00 EST", "2026-11-01 03:00 EST"}));
  // In UTC: the spring-forward fire is the change itself, 07:00Z.
  const date::time_zone& ny = zone("America/New_York");
  auto fire = next_after(parsed("30 2 * * *"), local(ny, "2026-03-07 12:00"), ny);
  EXPECT_EQ(show(zone("UTC"), fire), "2026-03-08 07:00 UTC");
}

TEST(Schedule, MatchesAgreesWithNextAfter) {
  const date::time_zone& utc = zone("UTC");
  for (const char* text : {"*/7 */5 1,15 * mon-fri", "0 0 */2 * mon", "5 4 * jan,jul sun"}) {
    Schedule s = parsed(text);
    Instant at = local(utc, "2026-01-01 00:00");
    for (int i = 0; i < 50; ++i) {
      at = *next_after(s, at, utc);
      EXPECT_TRUE(matches(s.cron, date::floor<std::chrono::seconds>(at).time_since_epoch()))
          << text << " at " << show(utc, at);
    }
  }
}

TEST(TimeZone, UnknownNamesSayWhatIsExpected) {
  EXPECT_TRUE(find_time_zone("Europe/Paris").zone);
  EXPECT_EQ(find_time_zone("Europe/Pari").error,
            "unknown time zone \"Europe/Pari\": expected an IANA name from the system's tzdata "
            "(/usr/share/zoneinfo), like \"Europe/Paris\", \"America/New_York\" or \"UTC\"");
  EXPECT_FALSE(find_time_zone("").zone);
  EXPECT_FALSE(find_time_zone("../../etc/passwd").zone);
}

TEST(TimeZone, LocalZoneComesFromTzThenEtcLocaltime) {
  const char* saved = std::getenv("TZ");
  std::string restore = saved ? saved : "";
  auto with_tz = [](const char* value) {
    ::setenv("TZ", value, 1);
    return local_time_zone();
  };
  LocalTimeZone z = with_tz("America/New_York");
  ASSERT_TRUE(z.zone);
  EXPECT_EQ(z.zone->name(), "America/New_York");
  EXPECT_EQ(z.source, "TZ=America/New_York");
  EXPECT_EQ(with_tz(":Europe/Paris").zone->name(), "Europe/Paris");
  EXPECT_EQ(with_tz("/usr/share/zoneinfo/Asia/Tokyo").zone->name(), "Asia/Tokyo");
  z = with_tz("not a zone");
  ASSERT_TRUE(z.zone);
  EXPECT_EQ(z.source.find("TZ="), std::string::npos) << z.source;
  if (saved)
    ::setenv("TZ", restore.c_str(), 1);
  else
    ::unsetenv("TZ");
}

// Found by fuzz/schedule_fuzz in its first second: the "never fires" check shifted a 32-bit 1 by
// 32 for the 31-day months (undefined behaviour, seen by UBSan in `make test-asan`).
TEST(ScheduleFuzzRegression, ThirtyOneDayMonthsAreCheckedWithoutAnOverflowingShift) {
  EXPECT_EQ(parsed("@Yearly"), parsed("0 0 1 1 *"));
  parsed("0 0 31 jan,mar *");
  EXPECT_NE(error_of("0 0 31 feb *").find("never fires"), std::string::npos);
}

// The DST rules again, by brute force: walk UTC minute by minute and fire where the rule says
// (a wall-clock minute that matches, at its first occurrence; or a change that skipped a
// matching minute), around each 2026 change in Paris and New York.
TEST(ScheduleDst, AgreesWithAMinuteByMinuteWalkAroundEachChange) {
  auto brute_force = [](const CronFields& f, Instant after, const date::time_zone& tz) {
    auto u = date::floor<std::chrono::minutes>(after) + 1min;
    for (int i = 0; i < 9 * 24 * 60; ++i, u += 1min) {
      date::sys_seconds at = u;
      date::sys_info info = tz.get_info(at);
      auto local = tz.to_local(at);
      bool first = tz.to_sys(local, date::choose::earliest) == at;
      if (first && matches(f, local.time_since_epoch())) return std::optional<Instant>(at);
      if (info.begin == at) {
        // A spring-forward change: the local minutes from before it up to its new wall time.
        date::sys_info before = tz.get_info(at - 1s);
        for (auto skipped = date::local_seconds{at.time_since_epoch() + before.offset};
             skipped < local; skipped += 1min)
          if (matches(f, skipped.time_since_epoch())) return std::optional<Instant>(at);
      }
    }
    return std::optional<Instant>();
  };
  const char* expressions[] = {"30 2 * * *",    "*/15 2 * * *",   "0 * * * *",  "*/30 * * * *",
                               "30 1 * * *",    "0,45 1-3 * * *", "59 1 * * *", "0 3 * * *",
                               "*/7 0-4 * * *", "0 2 * * sun"};
  struct Change {
    const char* zone;
    const char* day_before;
  };
  for (const Change& change :
       {Change{"Europe/Paris", "2026-03-28 22:00"}, Change{"Europe/Paris", "2026-10-24 22:00"},
        Change{"America/New_York", "2026-03-07 22:00"},
        Change{"America/New_York", "2026-10-31 22:00"}}) {
    const date::time_zone& tz = zone(change.zone);
    for (const char* text : expressions) {
      Schedule s = parsed(text);
      Instant at = local(tz, change.day_before);
      for (Instant end = at + 48h; at < end;) {
        auto expected = brute_force(s.cron, at, tz);
        ASSERT_TRUE(expected);
        auto got = next_after(s, at, tz);
        ASSERT_EQ(show(tz, got), show(tz, expected)) << text << " after " << show(tz, at);
        at = *got;
      }
    }
  }
}
