#include "common/duration.h"

#include <cctype>
#include <cstdint>

namespace gardien {

namespace {

// Milliseconds per unit; longest suffix first so "ms" wins over "m".
struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
constexpr Unit kUnits[] = {
    {"ms", 1}, {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}};
constexpr std::int64_t kMaxMs = kMaxDuration.count();

}  // namespace

DurationParse read_duration(std::string_view text) {
  if (text == "0") return {Duration{0}, false};
  if (text.empty()) return {};
  constexpr DurationParse kTooLarge{std::nullopt, true};
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    // A number: digits, optionally a fraction.
    std::int64_t whole = 0;
    std::size_t start = i;
    bool too_large = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (!too_large) whole = whole * 10 + (text[i] - '0');
      too_large = too_large || whole > kMaxMs;
      ++i;
    }
    std::int64_t frac_num = 0, frac_den = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      std::size_t frac_start = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (frac_den < 1'000'000'000) {
          frac_num = frac_num * 10 + (text[i] - '0');
          frac_den *= 10;
        }
        ++i;
      }
      if (i == frac_start) return {};
    }
    if (i == start) return {};
    while (i < text.size() && text[i] == ' ') ++i;  // "10 s", as sizes take "50 MB"
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (!unit) return {};
    i += unit->suffix.size();
    // One space between parts ("1h 30m"), never at the end.
    if (i + 1 < text.size() && text[i] == ' ' &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])))
      ++i;
    if (too_large || whole > kMaxMs / unit->ms) return kTooLarge;  // before the product overflows
    total += whole * unit->ms + frac_num * unit->ms / frac_den;
    if (total > kMaxMs) return kTooLarge;
  }
  return {Duration{total}, false};
}

std::optional<Duration> parse_duration(std::string_view text) {
  return read_duration(text).value;
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0 && ms >= 1000 && ms < 60'000) {
    // 1.5s reads better than 1s500ms.
    std::string frac = std::to_string(ms % 1000);
    frac.insert(0, 3 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    return out + std::to_string(ms / 1000) + "." + frac + "s";
  }
  for (const Unit& u : {kUnits[2], kUnits[3], kUnits[4], kUnits[0]}) {  // hours at most
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + std::string(u.suffix);
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace gardien
