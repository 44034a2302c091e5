// How one program's output line looks on a stream shared by many programs (the `prefix` sink,
// `gardienctl logs`): "[TIME ]NAME<pad> | text", the name coloured when the reader is a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/timestamp.h"

namespace gardien {

struct LinePrefixStyle {
  std::size_t name_width = 0;  // names are padded to this so the `|` column never moves
  bool colour = false;         // ANSI colour on the name and bar (only when writing to a tty)
};

// The ANSI SGR colour code of `name`: the same name always gets the same colour.
int name_colour(std::string_view name);

// Appends "[TIME ]NAME<pad> | "; `time` is null when the program has no timestamps.
void append_line_prefix(std::string& out, const LinePrefixStyle& style, std::string_view name,
                        const WallClock::time_point* time);

// The whole line: prefix, `text` (without its newline) and '\n'.
std::string format_prefixed_line(const LinePrefixStyle& style, std::string_view name,
                                 std::string_view text, const WallClock::time_point* time);

}  // namespace gardien
