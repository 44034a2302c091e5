#include "common/line_prefix.h"

#include <array>
#include <cstdint>

namespace gardien {

int name_colour(std::string_view name) {
  // No red: it reads as an error. FNV-1a so the choice is stable across runs and machines.
  static constexpr std::array<int, 10> kPalette = {36, 32, 33, 35, 34, 96, 92, 93, 95, 94};
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return kPalette[h % kPalette.size()];
}

void append_line_prefix(std::string& out, const LinePrefixStyle& style, std::string_view name,
                        const WallClock::time_point* time) {
  if (time) {
    append_rfc3339(out, *time);
    out += ' ';
  }
  if (style.colour) {
    out += "\x1b[";
    out += std::to_string(name_colour(name));
    out += 'm';
  }
  out += name;
  if (name.size() < style.name_width) out.append(style.name_width - name.size(), ' ');
  out += " |";
  if (style.colour) out += "\x1b[0m";
  out += ' ';
}

std::string format_prefixed_line(const LinePrefixStyle& style, std::string_view name,
                                 std::string_view text, const WallClock::time_point* time) {
  std::string line;
  append_line_prefix(line, style, name, time);
  line += text;
  line += '\n';
  return line;
}

}  // namespace gardien
