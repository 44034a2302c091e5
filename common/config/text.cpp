// Small pure helpers of the loader: quoting, describing a value, sizes, octal.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/config/loader.h"

namespace gardien::config_loader {

std::string quote(std::string_view s) {
  std::string out = "\"";
  constexpr std::size_t kMax = 60;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "?";
    } else {
      out += c;
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

std::string quote_list(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += quote(words[i]);
  }
  return out;
}

// "integer 10", "string \"abc\"", "an array": what the user actually wrote.
std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return cat("string ", quote(node.as_string()->get()));
    case toml::node_type::integer:
      return cat("integer ", std::to_string(node.as_integer()->get()));
    case toml::node_type::floating_point: {
      std::ostringstream s;
      s << "float " << node.as_floating_point()->get();
      return s.str();
    }
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "boolean true" : "boolean false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      return "nothing";
  }
  return "something else";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "1024", "64KB", "50MiB", "1 GB": bytes; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t number = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (number > (std::uint64_t{1} << 60) / 10) return std::nullopt;
    number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit;
  for (; i < text.size(); ++i)
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"b", 1},
      {"kb", 1000},
      {"mb", 1000'000},
      {"gb", 1000'000'000},
      {"tb", 1000'000'000'000},
      {"kib", 1ull << 10},
      {"mib", 1ull << 20},
      {"gib", 1ull << 30},
      {"tib", 1ull << 40},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (number > (std::uint64_t{1} << 62) / u.factor) return std::nullopt;
      return number * u.factor;
    }
  }
  return std::nullopt;
}

std::string format_octal(unsigned value) {
  std::ostringstream s;
  s << '0' << std::oct << value;
  return s.str();
}
}  // namespace gardien::config_loader
