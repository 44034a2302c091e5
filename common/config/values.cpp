// The typed value readers: strings with ${VAR} expansion, paths, booleans, integers, durations,
// signals, modes, sizes, string arrays and commands. Each reports its own error.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/config/loader.h"
#include "common/signals.h"

namespace gardien::config_loader {

namespace {

// The variables gardien puts in each program's own environment, which the loader never sees.
bool set_for_programs(std::string_view name) {
  return name == "GARDIEN_PROGRAM" || name == "GARDIEN_INSTANCE" ||
         name == "GARDIEN_INSTANCE_INDEX";
}

// ${NAME} is expanded when the config is loaded; $NAME (or $${NAME}) is left to the program.
std::string unset_variable_message(const std::string& name) {
  std::string message = "${";
  message += name;
  message += "} is not set in gardien's environment when the config is loaded";
  message += set_for_programs(name) ? " (gardien sets it for each program)" : "";
  message += "; set it, give a default (${";
  message += name;
  message += ":-default}), or write $";
  message += name;
  message += " or $${";
  message += name;
  message += "} to leave it to the program's shell";
  return message;
}

// Where a variable's name starting at `start` ends: letters, digits and '_', not a digit first.
std::size_t name_end(const std::string& text, std::size_t start) {
  std::size_t j = start;
  for (; j < text.size(); ++j) {
    auto ch = static_cast<unsigned char>(text[j]);
    if (!(ch == '_' || std::isalpha(ch) || (j > start && std::isdigit(ch)))) break;
  }
  return j;
}

// The default runs to the matching brace, so it may hold ${OTHER} itself; text.size() if none.
std::size_t default_end(const std::string& text, std::size_t start) {
  std::size_t k = start;
  int braces = 1;
  for (; k < text.size(); ++k) {
    if (text[k] == '{') ++braces;
    if (text[k] == '}' && --braces == 0) break;
  }
  return k;
}

}  // namespace

std::optional<std::string> Loader::expand(const std::string& text, const Field& f, int depth) {
  constexpr int kMaxDepth = 8;
  if (depth > kMaxDepth) {
    error(f, "variable defaults nested more than 8 deep; simplify the value");
    return std::nullopt;
  }
  if (text.find('\0') != std::string::npos) {
    error(f, "a NUL character cannot be passed to a program; remove the \\u0000");
    return std::nullopt;
  }
  std::string out;
  std::size_t i = 0;
  auto malformed = [&](std::size_t from) {
    std::string message = "malformed variable reference ";
    message += quote(text.substr(from, 20));
    message += ": write ${NAME} or ${NAME:-default}, and $$ for a literal $";
    error(f, std::move(message));
    return std::nullopt;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += '$';  // a lone $ (as in a shell command's $HOME) stays as written
      ++i;
      continue;
    }
    std::size_t j = name_end(text, i + 2);
    std::string name = text.substr(i + 2, j - i - 2);
    if (name.empty() || j >= text.size()) return malformed(i);
    std::optional<std::string> value = env_(name);
    if (text[j] == '}') {
      if (!value) {
        error(f, unset_variable_message(name));
        return std::nullopt;
      }
      out += *value;
      i = j + 1;
      continue;
    }
    if (text.compare(j, 2, ":-") != 0) return malformed(i);
    std::size_t k = default_end(text, j + 2);
    if (k >= text.size()) return malformed(i);
    if (value && !value->empty()) {
      out += *value;
    } else {
      std::optional<std::string> fallback = expand(text.substr(j + 2, k - j - 2), f, depth + 1);
      if (!fallback) return std::nullopt;
      out += *fallback;
    }
    i = k + 1;
  }
  return out;
}

// As compose does: PORT = 8080 and DEBUG = true are the strings "8080" and "true".
std::optional<std::string> Loader::get_env_value(const Field& f) {
  if (f.node->is_integer()) return std::to_string(f.node->as_integer()->get());
  if (f.node->is_boolean()) return f.node->as_boolean()->get() ? "true" : "false";
  return get_string(f, "a string, an integer or true/false (write other values in quotes)");
}

std::optional<std::string> Loader::get_string(const Field& f, std::string_view what) {
  if (!f.node->is_string()) {
    expected(f, what);
    return std::nullopt;
  }
  return expand(f.node->as_string()->get(), f);
}

std::optional<std::string> Loader::get_path(const Field& f) {
  auto value = get_string(f, "a path");
  if (!value) return std::nullopt;
  if (value->empty()) {
    error(f, "expected a path, got an empty string");
    return std::nullopt;
  }
  return resolve_path(f.file, *value).string();
}

std::optional<bool> Loader::get_bool(const Field& f) {
  if (!f.node->is_boolean()) {
    expected(f, "true or false");
    return std::nullopt;
  }
  return f.node->as_boolean()->get();
}

std::optional<std::int64_t> Loader::get_int(const Field& f, std::int64_t min, std::int64_t max) {
  std::string range = std::to_string(min);
  range += "..";
  range += std::to_string(max);
  if (!f.node->is_integer()) {
    expected(f, cat("an integer ", range));
    return std::nullopt;
  }
  std::int64_t v = f.node->as_integer()->get();
  if (v < min || v > max) {
    std::string message = "expected an integer ";
    message += range;
    message += ", got ";
    message += std::to_string(v);
    error(f, std::move(message));
    return std::nullopt;
  }
  return v;
}

std::optional<Duration> Loader::get_duration(const Field& f) {
  constexpr std::string_view kWhat = "a duration like \"10s\", \"250ms\" or \"1m30s\"";
  if (!f.node->is_string()) {
    std::string what(kWhat);
    if (f.node->is_integer() || f.node->is_floating_point()) what = "a duration like \"10s\"";
    expected(f, what);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  DurationParse d = read_duration(*text);
  if (d.out_of_range) {
    std::string message = "duration out of range: at most about 35,000 years, got ";
    message += quote(*text);
    error(f, std::move(message));
  } else if (!d.value) {
    std::string message = "expected ";
    message += kWhat;
    message += " (units ms, s, m, h, d), got ";
    message += quote(*text);
    error(f, std::move(message));
  }
  return d.value;
}

std::optional<int> Loader::get_signal(const Field& f) {
  constexpr std::string_view kWhat = "a signal like \"TERM\", \"SIGTERM\" or 15";
  std::optional<int> signo;
  if (f.node->is_integer()) {
    signo = signal_from_number(f.node->as_integer()->get());
  } else if (f.node->is_string()) {
    auto text = expand(f.node->as_string()->get(), f);
    if (!text) return std::nullopt;
    signo = parse_signal(*text);
  }
  if (!signo) expected(f, kWhat);
  return signo;
}

std::optional<mode_t> Loader::get_mode(const Field& f) {
  constexpr std::string_view kWhat = "an octal mode like \"0640\" or 0o640";
  unsigned long value = 0;
  if (f.node->is_integer()) {
    const auto* v = f.node->as_integer();
    bool octal = (v->flags() & toml::value_flags::format_as_octal) != toml::value_flags::none;
    if (!octal && v->get() != 0) {
      std::string message = "expected ";
      message += kWhat;
      message += ", got decimal integer ";
      message += std::to_string(v->get());
      message += " (octal needs a 0o prefix or quotes)";
      error(f, std::move(message));
      return std::nullopt;
    }
    if (v->get() < 0 || v->get() > 0777) {
      error(f, cat("expected an octal mode from 0 to 0777, got 0o",
                   format_octal(static_cast<unsigned>(v->get())).substr(1)));
      return std::nullopt;
    }
    return static_cast<mode_t>(v->get());
  }
  if (!f.node->is_string()) {
    expected(f, kWhat);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O'))
    digits.remove_prefix(2);
  bool octal =
      !digits.empty() && digits.size() <= 12 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; });
  if (octal) value = std::strtoul(std::string(digits).c_str(), nullptr, 8);
  if (!octal) {
    expected(f, kWhat);
    return std::nullopt;
  }
  if (value > 0777) {
    std::string message = "expected an octal mode from 0 to 0777, got ";
    message += quote(*text);
    error(f, std::move(message));
    return std::nullopt;
  }
  return static_cast<mode_t>(value);
}

std::optional<std::uint64_t> Loader::get_size(const Field& f) {
  constexpr std::string_view kWhat = "a size like \"50MB\", \"1MiB\" or a number of bytes";
  if (f.node->is_integer()) {
    std::int64_t v = f.node->as_integer()->get();
    if (v < 0) {
      expected(f, kWhat);
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(v);
  }
  if (!f.node->is_string()) {
    expected(f, kWhat);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  auto size = parse_size(*text);
  if (!size) {
    std::string message = "expected ";
    message += kWhat;
    message += " (units B, KB, MB, GB, KiB, MiB, GiB), got ";
    message += quote(*text);
    error(f, std::move(message));
  }
  return size;
}

std::optional<std::vector<std::string>> Loader::get_string_array(const Field& f) {
  const toml::array* array = f.node->as_array();
  if (!array) {
    expected(f, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::string path = f.path;
    path += '[';
    path += std::to_string(i);
    path += ']';
    Field element{array->get(i), f.file, std::move(path)};
    auto s = get_string(element);
    if (s) {
      out.push_back(std::move(*s));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> Loader::get_command(const Field& f) {
  if (f.node->is_string()) {
    auto command = get_string(f);
    if (!command) return std::nullopt;
    if (command->find_first_not_of(" \t\n") == std::string::npos) {
      error(f, "expected a command, got an empty string");
      return std::nullopt;
    }
    return std::vector<std::string>{"/bin/sh", "-c", *command};
  }
  if (!f.node->is_array()) {
    expected(f, "an array like [\"/usr/bin/app\", \"--flag\"] or a shell command string");
    return std::nullopt;
  }
  auto argv = get_string_array(f);
  if (!argv) return std::nullopt;
  if (argv->empty()) {
    error(f, "expected a non-empty array like [\"/usr/bin/app\", \"--flag\"], got an empty array");
    return std::nullopt;
  }
  if ((*argv)[0].empty()) {
    error(f, "the program to run (the first element) is an empty string");
    return std::nullopt;
  }
  return argv;
}

}  // namespace gardien::config_loader
