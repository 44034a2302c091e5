// next_after against a reference: Debian's python3-croniter, over generated cron expressions and
// start instants (a fixed seed), all queries in one python process. In UTC: the DST rules are
// gardien's own (schedule_test.cpp), and croniter's differ from them.
//
// croniter and Vixie cron disagree on when the two day fields combine with OR: Vixie (and
// gardien, and POSIX's wording) when neither field's TEXT starts with '*'; croniter when neither
// field's SET of values is complete. So "0 0 */2 * mon" is odd Mondays for Vixie but odd days or
// Mondays for croniter, and "0 0 1-31 * mon" every day for Vixie but Mondays for croniter. Vixie
// cron is the reference users know (crontab(5) on Debian); croniter is asked the question in its
// own terms (day_or=False for AND, both day fields '*' when one of them covers every day).
// croniter also fails outright on an OR whose day-of-month half never occurs in the months chosen
// ("0 0 31 jun tue": Tuesdays of June for Vixie and gardien); it is asked the other half alone.
#include "common/schedule.h"
#include "common/time_zone.h"

#include <date/tz.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace gardien;

namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, where python3-croniter is

// One query a line, "EXPR<TAB>DAY_OR<TAB>EPOCH"; answers "ok EPOCH" or "error TYPE: MESSAGE".
constexpr const char* kOracle = R"py(
import sys
from croniter import croniter
for line in open(sys.argv[1]):
    expr, day_or, start = line.rstrip("\n").split("\t")
    try:
        nxt = croniter(expr, int(start), day_or=(day_or == "1")).get_next(float)
        print("ok %d" % int(nxt))
    except Exception as e:
        print("error %s: %s" % (type(e).__name__, e))
)py";

class Generator {
 public:
  explicit Generator(unsigned seed) : random_(seed) {}

  std::string expression() {
    std::string out = field(0, 59, nullptr, 3);
    out += ' ' + field(0, 23, nullptr, 3);
    out += ' ' + field(1, 31, nullptr, 2);
    out += ' ' + field(1, 12, kMonths, 2);
    out += ' ' + field(0, 7, kWeekdays, 2);
    return out;
  }

  std::int64_t instant() {
    // 2000-01-01 .. 2040-01-01; a third on a whole minute, where "strictly after" matters.
    std::int64_t t = pick(946'684'800, 2'208'988'800);
    return pick(0, 2) == 0 ? t - t % 60 : t;
  }

 private:
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  static constexpr const char* kWeekdays[] = {"sun", "mon", "tue", "wed",
                                              "thu", "fri", "sat", "sun"};

  std::int64_t pick(std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random_);
  }

  std::string value(int v, int min, const char* const* names) {
    if (names && pick(0, 2) == 0) return names[v - min];
    return std::to_string(v);
  }

  // `star_weight`: how much likelier '*' is than each other form.
  std::string field(int min, int max, const char* const* names, int star_weight) {
    int form = static_cast<int>(pick(0, 5 + star_weight));
    if (form > 5) return "*";
    if (form == 5) {
      std::string list = item(min, max, names, static_cast<int>(pick(0, 3)));
      for (int n = static_cast<int>(pick(1, 2)); n > 0; --n)
        list += ',' + item(min, max, names, static_cast<int>(pick(0, 3)));
      return list;
    }
    if (form == 4) return "*/" + std::to_string(pick(1, (max - min) / 2 + 1));
    return item(min, max, names, form);
  }

  // 0: a; 1: a-b; 2: a-b/n; 3: a/n.
  std::string item(int min, int max, const char* const* names, int form) {
    int a = static_cast<int>(pick(min, max));
    int b = static_cast<int>(pick(a, max));
    std::string step = "/" + std::to_string(pick(1, (max - min) / 3 + 1));
    switch (form) {
      case 0:
        return value(a, min, names);
      case 1:
        return value(a, min, names) + "-" + value(b, min, names);
      case 2:
        return value(a, min, names) + "-" + value(b, min, names) + step;
      default:
        return value(a, min, names) + step;
    }
  }

  std::mt19937_64 random_;
};

std::vector<std::string> split(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

struct Query {
  std::string expression;
  Schedule schedule;
  std::int64_t start;
  std::string oracle_expression;
  bool oracle_day_or;
};

// Whether some chosen month has some chosen day of month.
bool day_of_month_occurs(const CronFields& f) {
  constexpr int kMonthDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int month = 1; month <= 12; ++month)
    if ((f.months >> month & 1) && (f.days & ((std::uint32_t{2} << kMonthDays[month]) - 2)))
      return true;
  return false;
}

// The same question in croniter's terms (see the top of this file).
Query make_query(std::string expression, Schedule schedule, std::int64_t start) {
  std::vector<std::string> fields = split(expression);
  const CronFields& f = schedule.cron;
  bool every_day = f.either_day && (f.days == 0xfffffffe || f.weekdays == 0x7f);
  if (every_day) fields[2] = fields[4] = "*";
  // croniter 1.3.5 fails ("failed to find next date") when the day-of-month half of an OR never
  // occurs ("31 jun tue"), where the other half still fires: ask it that half alone.
  bool only_weekdays = f.either_day && !every_day && !day_of_month_occurs(f);
  if (only_weekdays) fields[2] = "*";
  std::string oracle = fields[0];
  for (int i = 1; i < 5; ++i) oracle += ' ' + fields[i];
  return {std::move(expression), schedule, start, oracle,
          f.either_day && !every_day && !only_weekdays};
}

bool croniter_importable() {
  std::string command = std::string(kPython) + " -c 'import croniter' >/dev/null 2>&1";
  return ::access(kPython, X_OK) == 0 && std::system(command.c_str()) == 0;
}

std::string utc(std::int64_t t) {
  return date::format("%F %T", date::sys_seconds{std::chrono::seconds(t)});
}

}  // namespace

TEST(ScheduleOracle, NextFireAgreesWithCroniterInUtc) {
  if (!croniter_importable())
    GTEST_SKIP() << kPython << " cannot import croniter (Debian's python3-croniter; `make "
                 << "test-deps` installs it)";
  const date::time_zone& zone = *find_time_zone("UTC").zone;
  Generator generate(15);
  std::vector<Query> queries;
  int refused = 0;
  while (queries.size() < 3000) {
    std::string expression = generate.expression();
    ScheduleParse parse = parse_schedule(expression);
    if (!parse.schedule) {
      ++refused;  // only "never fires" is expected: the generator writes valid syntax
      EXPECT_NE(parse.error.find("never fires"), std::string::npos) << parse.error;
      continue;
    }
    for (int i = 0; i < 3; ++i)
      queries.push_back(make_query(expression, *parse.schedule, generate.instant()));
  }
  EXPECT_LT(refused, 100);

  fs::path dir = fs::temp_directory_path() / ("gardien-cron-oracle-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "oracle.py") << kOracle;
  {
    std::ofstream input(dir / "queries");
    for (const Query& q : queries)
      input << q.oracle_expression << '\t' << (q.oracle_day_or ? 1 : 0) << '\t' << q.start << '\n';
  }
  std::string command =
      std::string(kPython) + " " + (dir / "oracle.py").string() + " " + (dir / "queries").string();
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_TRUE(pipe) << command;
  std::vector<std::string> answers;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    answers.emplace_back(line);
    if (!answers.back().empty() && answers.back().back() == '\n') answers.back().pop_back();
  }
  int status = ::pclose(pipe);
  fs::remove_all(dir);
  ASSERT_EQ(status, 0) << command;
  ASSERT_EQ(answers.size(), queries.size());

  int compared = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const Query& q = queries[i];
    auto ours = next_after(q.schedule, Instant(std::chrono::seconds(q.start)), zone);
    ASSERT_TRUE(ours) << q.expression;
    std::int64_t our_seconds = date::floor<std::chrono::seconds>(*ours).time_since_epoch().count();
    std::string expected = "ok " + std::to_string(our_seconds);
    EXPECT_EQ(answers[i], expected)
        << "\"" << q.expression << "\" after " << utc(q.start) << " UTC: gardien says "
        << utc(our_seconds) << "; croniter asked \"" << q.oracle_expression
        << "\" day_or=" << q.oracle_day_or;
    compared += answers[i] == expected;
  }
  std::printf("compared %d next fire times with croniter (%d generated expressions never fire)\n",
              compared, refused);
}

// The disagreement described at the top of this file, on the two examples, in Vixie's terms.
TEST(ScheduleOracle, DayFieldsCombineTheVixieWay) {
  const date::time_zone& zone = *find_time_zone("UTC").zone;
  Instant start = date::sys_days(date::year(2026) / 1 / 1);  // a Thursday
  auto next = [&](const char* text) {
    return date::format("%F", *next_after(*parse_schedule(text).schedule, start, zone));
  };
  EXPECT_EQ(next("0 0 */2 * mon"), "2026-01-05");   // the first odd Monday, not the 3rd
  EXPECT_EQ(next("0 0 1-31 * mon"), "2026-01-02");  // every day, not the first Monday
}
