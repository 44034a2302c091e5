// libFuzzer target for the config loader (docs/fuzzing.md). Each input is loaded as text
// (load_config_string: the main-file rules) and, when it is valid TOML, as a file included by a
// main file (load_config: the read, include and included-file rules). Runs inside a scratch
// directory holding a few files, so `include` patterns have something to match.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "common/config.h"

namespace {

namespace fs = std::filesystem;

fs::path scratch;
fs::path home;  // the fuzzer's own directory: libFuzzer reads and writes paths relative to it

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "config_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch, ec);
}

// Fixed values, none with a '/': an expanded include pattern stays in the scratch directory.
std::optional<std::string> fuzz_env(const std::string& name) {
  static const std::map<std::string, std::string> kEnv = {
      {"APP", "web"}, {"N", "3"}, {"EMPTY", ""}, {"DIR", "d"}, {"PATTERN", "*.toml"}};
  auto it = kEnv.find(name);
  if (it == kEnv.end()) return std::nullopt;
  return it->second;
}

bool contains(std::string_view text, std::string_view what, bool any_case = false) {
  if (!any_case) return text.find(what) != std::string_view::npos;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto it = std::search(text.begin(), text.end(), what.begin(), what.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != text.end();
}

// An include pattern that is absolute or climbs out ("/etc/*", "../*", ".*/*") could glob the
// whole machine: slow, and not the loader's bug. When the input may hold an include key (spelled
// `include` or with \u escapes), every '/' must follow a letter, digit or '_' ("conf.d/*.toml"),
// which no such pattern has; a '/' written as an escape is refused too.
bool may_include_outside_scratch(std::string_view text) {
  bool key = contains(text, "include") || contains(text, "\\u") || contains(text, "\\U");
  if (!key) return false;
  if (contains(text, "u002f", true) || contains(text, "u0000002f", true)) return true;
  for (std::size_t i = text.find('/'); i != std::string_view::npos; i = text.find('/', i + 1)) {
    char before = i > 0 ? text[i - 1] : '\0';
    if (!std::isalnum(static_cast<unsigned char>(before)) && before != '_') return true;
  }
  return false;
}

void check_result(const gardien::LoadResult& result) {
  bool has_error = false;
  for (const gardien::Diagnostic& d : result.diagnostics) {
    check(!d.to_string().empty(), "a diagnostic renders as text");
    check(!d.message.empty(), "a diagnostic has a message");
    has_error = has_error || d.severity == gardien::Diagnostic::Severity::error;
  }
  check(result.ok() != has_error, "a config is returned exactly when there is no error");
  if (!result.ok()) return;
  const gardien::Config& config = *result.config;
  for (std::size_t i = 0; i < config.programs.size(); ++i) {
    const gardien::ProgramConfig& p = config.programs[i];
    check(i == 0 || config.programs[i - 1].name < p.name, "programs sorted by unique name");
    check(!p.command.empty() && !p.command[0].empty(), "every program has a command");
    check(p.instances >= 1 && p.instances <= 1000, "instances in 1..1000");
    check(p.instance_names().size() == static_cast<std::size_t>(p.instances), "instance names");
    check(p.backoff <= p.backoff_max, "backoff <= backoff-max");
    check(config.find(p.name) == &p, "find() finds each program");
  }
  check(config.instance_count() >= static_cast<int>(config.programs.size()), "instance count");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/gardien-config-fuzz-XXXXXX";
  if (!::mkdtemp(dir)) {
    std::perror("config_fuzz: mkdtemp");
    std::exit(1);
  }
  scratch = dir;
  std::atexit(remove_scratch);
  write_file(scratch / "a.toml", "[program.from-a]\ncommand = \"true\"\n");
  write_file(scratch / "b.toml", "include = [\"a.toml\"]\n[program.from-b]\ncommand = [\"x\"]\n");
  write_file(scratch / "bad.toml", "[program.x\n");
  write_file(scratch / "main.toml", "[supervisor]\ninclude = [\"input.toml\"]\n");
  fs::create_directory(scratch / "d");
  write_file(scratch / "d" / "c.toml", "[program.from-c]\ncommand = \"true\"\n");
  fs::create_directory(scratch / "include.d");  // as in the corpus' check-include.toml
  write_file(scratch / "include.d" / "a.toml", "[program.from-include-d]\ncommand = \"x\"\n");
  home = fs::current_path();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (may_include_outside_scratch(text)) return -1;  // not added to the corpus
  fs::current_path(scratch);
  gardien::LoadResult as_text = gardien::load_config_string(text, "input.toml", fuzz_env);
  check_result(as_text);
  bool valid_toml = std::none_of(
      as_text.diagnostics.begin(), as_text.diagnostics.end(),
      [](const gardien::Diagnostic& d) { return d.message.starts_with("invalid TOML"); });
  if (valid_toml) {
    write_file("input.toml", text);
    check_result(gardien::load_config("main.toml", fuzz_env));
  }
  fs::current_path(home);
  return 0;
}
