#include "common/schedule.h"

#include <array>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "common/duration.h"

namespace gardien {

namespace {

using namespace std::chrono_literals;

struct FieldSpec {
  std::string_view name;  // "minute", as error messages say it
  std::string_view unit;  // "a minute", for "out of range, a minute is 0-59"
  int min, max;
  const std::array<std::string_view, 12>* names;  // names[i] is min + i; null when none
};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                            "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", "a minute", 0, 59, nullptr},
    {"hour", "an hour", 0, 23, nullptr},
    {"day-of-month", "a day of month", 1, 31, nullptr},
    {"month", "a month", 1, 12, &kMonthNames},
    {"day-of-week", "a day of week", 0, 7, &kWeekdayNames},
};
constexpr int kDayOfWeek = 4;

constexpr std::string_view kExpected =
    "expected five fields \"minute hour day-of-month month day-of-week\" (like \"*/15 * * * *\"), "
    "a macro (@hourly, @daily, @weekly, @monthly, @yearly, @reboot) or \"@every 10m\"";

std::string quote(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Reads one field into a bit set; an error message names the field and the fix.
class FieldReader {
 public:
  explicit FieldReader(const FieldSpec& spec) : spec_(spec) {}

  std::optional<std::uint64_t> read(std::string_view field) {
    std::uint64_t bits = 0;
    std::size_t start = 0;
    while (true) {
      std::size_t comma = field.find(',', start);
      std::string_view item = field.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (item.empty()) {
        fail(quote(field) +
             ": an empty list element; separate values with one comma, like 1,15,30");
        return std::nullopt;
      }
      auto item_bits = read_item(item);
      if (!item_bits) return std::nullopt;
      bits |= *item_bits;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return bits;
  }

  const std::string& error() const { return error_; }

 private:
  void fail(std::string message) { error_ = std::string(spec_.name) + " " + message; }

  std::string range_text() const {
    std::string out = std::to_string(spec_.min) + "-" + std::to_string(spec_.max);
    if (spec_.names == &kMonthNames) out += " or jan-dec";
    if (spec_.names == &kWeekdayNames) out += " or sun-sat (0 and 7 are both Sunday)";
    return out;
  }

  // `a-b/n`, `a/n`, `*/n`, `a-b`, `a` or `*`.
  std::optional<std::uint64_t> read_item(std::string_view item) {
    int step = 1;
    std::size_t slash = item.find('/');
    std::string_view base = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      auto n = read_step(item.substr(slash + 1));
      if (!n) return std::nullopt;
      step = *n;
    }
    int low = spec_.min, high = spec_.max;
    if (base == "*") {
      if (spec_.max == 7) high = 6;  // Sunday once
    } else {
      std::size_t dash = base.find('-');
      auto first = read_value(base.substr(0, dash), item);
      if (!first) return std::nullopt;
      low = high = *first;
      if (dash != std::string_view::npos) {
        std::string_view end = base.substr(dash + 1);
        auto second = read_value(end, item);
        if (!second) return std::nullopt;
        high = *second;
        // "fri-sun": Sunday named as the end of a range is 7 ("sun-sun" stays Sunday).
        if (spec_.max == 7 && high == 0 && low > 0 && !read_number(end)) high = 7;
        if (high < low) {
          fail("range " + std::string(base) +
               ": reversed; write the lower end first, or a list for a wrap-around (like "
               "22-23,0-2)");
          return std::nullopt;
        }
      } else if (slash != std::string_view::npos) {
        high = spec_.max;  // a/n: from a to the end
      }
    }
    std::uint64_t bits = 0;
    bool sunday_twice = spec_.max == 7;  // day of week 7 is Sunday, bit 0
    for (int v = low; v <= high; v += step)
      bits |= std::uint64_t{1} << (sunday_twice && v == 7 ? 0 : v);
    return bits;
  }

  std::optional<int> read_step(std::string_view text) {
    auto n = read_number(text);
    if (!n) {
      fail("step " + quote(text) + ": a step is a number, like */15");
      return std::nullopt;
    }
    int count = spec_.max - spec_.min + 1;
    if (*n == 0) {
      fail("step 0: a step is 1 or more");
      return std::nullopt;
    }
    if (*n > count) {
      fail("step " + std::to_string(*n) + ": at most " + std::to_string(count));
      return std::nullopt;
    }
    return static_cast<int>(*n);
  }

  // Digits only, at most 9 of them (so never an overflow).
  static std::optional<long> read_number(std::string_view text) {
    if (text.empty() || text.size() > 9) return std::nullopt;
    long n = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }

  // `item`: the list element `text` is part of, quoted when `text` is empty ("-1").
  std::optional<int> read_value(std::string_view text, std::string_view item) {
    if (auto n = read_number(text)) {
      if (*n < spec_.min || *n > spec_.max) {
        fail(std::string(text) + ": out of range, " + std::string(spec_.unit) + " is " +
             range_text());
        return std::nullopt;
      }
      return static_cast<int>(*n);
    }
    if (spec_.names) {
      std::string name = lower(text);
      for (std::size_t i = 0; i < spec_.names->size(); ++i) {
        if (!name.empty() && (*spec_.names)[i] == name) return spec_.min + static_cast<int>(i);
      }
    }
    std::string message = quote(text.empty() ? item : text) + ": expected " +
                          std::string(spec_.unit) + " " + range_text();
    bool word = !text.empty() && std::isalpha(static_cast<unsigned char>(text[0]));
    if (word && !spec_.names)
      message += "; names are for the month (jan-dec) and day-of-week (sun-sat) fields";
    else if (!word)
      message += ", *, a range like 1-5, a step like */15 or a list like 1,15,30";
    fail(std::move(message));
    return std::nullopt;
  }

  const FieldSpec& spec_;
  std::string error_;
};

constexpr int kMaxMonthDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// Whether some month of `fields` has some day of `fields` (a day of week always occurs).
bool can_fire(const CronFields& fields) {
  if (fields.either_day) return true;  // every month has every day of the week
  for (int month = 1; month <= 12; ++month) {
    if (!(fields.months >> month & 1)) continue;
    // Bits 1..days; unsigned wrap-around makes 31 days all 31 bits.
    std::uint32_t possible = (std::uint32_t{2} << kMaxMonthDays[month]) - 2;
    if (fields.days & possible) return true;
  }
  return false;
}

std::string never_fires_reason(const CronFields& fields) {
  std::string days;
  for (int d = 1; d <= 31; ++d)
    if (fields.days >> d & 1) {
      if (!days.empty()) days += ",";
      days += std::to_string(d);
    }
  return "never fires: no month chosen has day " + days +
         " (February has 29 days at most, April, June, September and November 30)";
}

ScheduleParse parse_every(std::string_view original, std::string_view rest) {
  ScheduleParse out;
  std::string prefix = "schedule " + quote(original) + ": ";
  rest = trim(rest);
  if (rest.empty()) {
    out.error = prefix + "@every needs a duration, like \"@every 10m\"";
    return out;
  }
  DurationParse d = read_duration(rest);
  if (!d.value) {
    out.error = prefix + quote(rest) +
                (d.out_of_range ? " is too long: at most about 35,000 years"
                                : " is not a duration: expected one like \"10m\", \"1h30m\" or "
                                  "\"90s\" (units ms, s, m, h, d)");
    return out;
  }
  if (*d.value < kMinEvery) {
    out.error = prefix + std::string(rest) + " is too short: @every is at least " +
                format_duration(kMinEvery);
    return out;
  }
  out.schedule = Schedule{ScheduleKind::every, {}, *d.value};
  return out;
}

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr Macro kMacros[] = {{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
                             {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
                             {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
                             {"@annually", "0 0 1 1 *"}};

ScheduleParse parse_fields(std::string_view original, std::string_view text) {
  ScheduleParse out;
  std::string prefix = "schedule " + quote(original) + ": ";
  std::vector<std::string_view> fields = split_fields(text);
  if (fields.size() != 5) {
    out.error =
        prefix + std::to_string(fields.size()) + (fields.size() == 1 ? " field, " : " fields, ");
    out.error += std::string(kExpected);
    if (fields.size() == 6) out.error += "; seconds and years are not supported";
    return out;
  }
  std::uint64_t bits[5];
  for (int i = 0; i < 5; ++i) {
    FieldReader reader(kFields[i]);
    auto read = reader.read(fields[i]);
    if (!read) {
      out.error = prefix + reader.error();
      return out;
    }
    bits[i] = *read;
  }
  CronFields cron;
  cron.minutes = bits[0];
  cron.hours = static_cast<std::uint32_t>(bits[1]);
  cron.days = static_cast<std::uint32_t>(bits[2]);
  cron.months = static_cast<std::uint16_t>(bits[3]);
  cron.weekdays = static_cast<std::uint8_t>(bits[kDayOfWeek]);
  cron.either_day = fields[2].front() != '*' && fields[kDayOfWeek].front() != '*';
  if (!can_fire(cron)) {
    out.error = prefix + never_fires_reason(cron);
    return out;
  }
  out.schedule = Schedule{ScheduleKind::cron, cron, {}};
  return out;
}

}  // namespace

ScheduleParse parse_schedule(std::string_view text) {
  ScheduleParse out;
  if (text.size() > kMaxScheduleLength) {
    out.error = "schedule of " + std::to_string(text.size()) + " characters: at most " +
                std::to_string(kMaxScheduleLength);
    return out;
  }
  std::string_view body = trim(text);
  if (body.empty()) {
    out.error = "schedule " + quote(text) + ": empty; " + std::string(kExpected);
    return out;
  }
  if (body.front() != '@') return parse_fields(text, body);
  std::size_t end = 0;
  while (end < body.size() && !is_space(body[end])) ++end;
  std::string word = lower(body.substr(0, end));
  std::string_view rest = trim(body.substr(end));
  if (word == "@every") return parse_every(text, rest);
  if (word == "@reboot" && rest.empty()) {
    out.schedule = Schedule{ScheduleKind::reboot, {}, {}};
    return out;
  }
  for (const Macro& macro : kMacros) {
    if (word == macro.name && rest.empty()) return parse_fields(text, macro.fields);
  }
  bool known = word == "@reboot";
  for (const Macro& macro : kMacros) known = known || word == macro.name;
  out.error = "schedule " + quote(text) + ": ";
  if (!known) out.error += "unknown macro " + quote(body.substr(0, end)) + "; ";
  if (known && !rest.empty()) out.error += "a macro takes no fields; ";
  out.error +=
      "expected @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, "
      "@reboot or \"@every 10m\"";
  return out;
}

}  // namespace gardien
