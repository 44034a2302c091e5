// Which of a program's two output streams a line came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gardien {

enum class Stream : std::uint8_t { out, err };

constexpr std::string_view stream_name(Stream s) {
  return s == Stream::out ? "stdout" : "stderr";
}

constexpr std::optional<Stream> parse_stream(std::string_view name) {
  if (name == "stdout") return Stream::out;
  if (name == "stderr") return Stream::err;
  return std::nullopt;
}

}  // namespace gardien
