// The loader's shared machinery: where a value is, diagnostics with file:line:col, the typed
// value readers, and the readers of each table. Each section's .cpp defines its part of Loader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/config/toml.h"
#include "common/suggest.h"

namespace gardien::config_loader {

namespace fs = std::filesystem;

// Concatenates string pieces with += (GCC 12 warns falsely on `"literal" + std::string`).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

constexpr std::size_t kMaxConfigBytes = 16 << 20;  // a config file larger than this is a mistake
constexpr std::size_t kMaxProgramName = 64;
constexpr int kMaxInstances = 1000;

// Small pure helpers (text.cpp).
std::string quote(std::string_view s);
std::string quote_list(const std::vector<std::string_view>& words);
// "integer 10", "string \"abc\"", "an array": what the user actually wrote.
std::string describe(const toml::node& node);
bool all_digits(std::string_view s);
// "1024", "64KB", "50MiB", "1 GB": bytes; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::string format_octal(unsigned value);

// A whole file, refused past kMaxConfigBytes (files.cpp).
struct FileText {
  std::string text;
  std::string error;  // strerror-like reason when reading failed
};
FileText read_whole_file(const std::string& path);

struct Place {
  int file = 0;
  int line = 0;
  int column = 0;
};

// A value in the document and the key path that names it in messages.
struct Field {
  const toml::node* node;
  int file;
  std::string path;
};

struct SourceFile {
  std::string name;      // as shown in diagnostics
  fs::path display_dir;  // where the includes of this file are looked up (relative to cwd)
  fs::path base_dir;     // absolute: relative paths in values are relative to it
  toml::table root;
};

// A [program.NAME] or [task.NAME] table as found in a file, read once every file is parsed.
struct TableEntry {
  std::string name;
  const toml::node* node;
  Place place;  // the key naming the program or task
};

// One depends-on element: where it is, and the condition written for it.
struct DependencyPlace {
  Place place;
  bool plain = true;                             // a name in the array form: no condition written
  std::optional<DependencyCondition> condition;  // the table form's, when it is valid
};

// Where a program's or a task's name and depends-on elements are, for the checks across tables.
struct DependentPlaces {
  std::string_view table = "program";  // "program" or "task": the first part of key paths
  Place place;
  std::vector<DependencyPlace> depends_on;
};

class Loader;

// Reads the keys of one table; keys never asked for are reported as unknown.
class TableReader {
 public:
  TableReader(Loader& loader, const toml::table& table, int file, std::string path)
      : loader_(loader), table_(table), file_(file), path_(std::move(path)) {}
  std::optional<Field> get(std::string_view key) {
    known_.push_back(key);
    const toml::node* node = table_.get(key);
    if (!node) return std::nullopt;
    return Field{node, file_, child(key)};
  }
  std::string child(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    std::string out = path_;
    out += '.';
    out += key;
    return out;
  }
  // A key read without get() (it gets its own error), so it is neither unknown nor suggested.
  void set_aside(std::string_view key) { set_aside_.push_back(key); }
  // Reports the keys that were never asked for.
  void finish(std::string_view hint = {});
  // The same, each message naming the table's keys after the closest one (small tables).
  void finish_listing_keys();

 private:
  void report_unknown_keys(std::string_view hint, bool list_keys);

  Loader& loader_;
  const toml::table& table_;
  int file_;
  std::string path_;
  std::vector<std::string_view> known_;
  std::vector<std::string_view> set_aside_;
};

class Loader {
 public:
  Loader(const EnvLookup& env, const TimeZoneCheck& zones) : env_(env), zones_(zones) {}

  LoadResult load_main(const std::string& name, const fs::path& display_dir,
                       const fs::path& base_dir, const std::optional<std::string>& text);

  // Diagnostics (loader.cpp).
  Place place(int file, const toml::source_region& region) const {
    return Place{file, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
  }
  Place place(const Field& f) const { return place(f.file, f.node->source()); }
  void error(Place at, std::string key_path, std::string message) {
    add(Diagnostic::Severity::error, at, std::move(key_path), std::move(message));
  }
  void warning(Place at, std::string key_path, std::string message) {
    add(Diagnostic::Severity::warning, at, std::move(key_path), std::move(message));
  }
  void error(const Field& f, std::string message) { error(place(f), f.path, std::move(message)); }
  void warning(const Field& f, std::string message) {
    warning(place(f), f.path, std::move(message));
  }
  void expected(const Field& f, std::string_view what);
  // An error for a key the table does not have; the keys it does have are kept (known_keys).
  void unknown_key(Place at, std::string key_path, std::string message, std::string_view table,
                   const std::vector<std::string_view>& known);
  // Table path ("program.web.ready") -> its keys, for each table that had an unknown key.
  const std::map<std::string, std::vector<std::string>>& known_keys() const { return known_keys_; }

  // Values (values.cpp); each reports its own error and returns nullopt on one.
  std::optional<std::string> expand(const std::string& text, const Field& f, int depth = 0);
  std::optional<std::string> get_string(const Field& f, std::string_view what = "a string");
  std::optional<std::string> get_env_value(const Field& f);
  // Why a task's time-zone name is not a zone; nullopt when it is.
  std::optional<std::string> unknown_time_zone(std::string_view name) const { return zones_(name); }
  std::optional<std::string> get_path(const Field& f);
  std::optional<bool> get_bool(const Field& f);
  std::optional<std::int64_t> get_int(const Field& f, std::int64_t min, std::int64_t max);
  std::optional<Duration> get_duration(const Field& f);
  std::optional<int> get_signal(const Field& f);
  std::optional<mode_t> get_mode(const Field& f);
  std::optional<std::uint64_t> get_size(const Field& f);
  template <typename T>
  std::optional<T> get_enum(const Field& f,
                            std::initializer_list<std::pair<std::string_view, T>> options);
  std::optional<std::vector<std::string>> get_string_array(const Field& f);
  // An argv: an array, or a string run by /bin/sh -c (`command`, exec checks).
  std::optional<std::vector<std::string>> get_command(const Field& f);
  // A `ready` or `health` check (probes.cpp).
  std::optional<ProbeConfig> get_probe(const Field& f, bool health);
  // Users and groups (identity.cpp), resource limits (rlimits.cpp), output sinks (sinks.cpp).
  std::optional<std::string> get_id_text(const Field& f, std::string_view what);
  std::optional<gid_t> get_group(const Field& f);
  std::optional<RunAs> get_user(const Field& f);
  std::optional<std::vector<ResourceLimit>> get_rlimits(const Field& f);
  std::optional<ResourceLimit> get_rlimit(const Field& f, int resource, bool bytes);
  std::optional<std::uint64_t> get_rlimit_value(const Field& f, bool bytes);
  std::optional<OutputSink> get_sink(const Field& f, bool is_stderr);
  std::optional<OutputSink> get_file_sink(const Field& f, const toml::table& table);

  // Tables: [supervisor] (supervisor.cpp), [program.NAME] (program.cpp), [task.NAME]
  // (task.cpp), the keys both share (process_keys.cpp), depends-on and the checks across
  // programs and tasks (dependencies.cpp). A program or task is returned as far as it could be
  // read; its errors are reported.
  void read_supervisor(const Field& f, SupervisorConfig& out);
  void read_job_queue(TableReader& r, SupervisorConfig& out);
  ProgramConfig read_program(const TableEntry& entry, DependentPlaces& places);
  TaskConfig read_task(const TableEntry& entry, DependentPlaces& places);
  // A program's or task's name: its characters, and not a reserved word.
  void check_name(const TableEntry& entry, std::string_view table);
  void read_dependencies(const Field& f, ProgramConfig& p, DependentPlaces& places);
  void read_dependency_table(const Field& f, const toml::table& table, ProgramConfig& p,
                             DependentPlaces& places);
  // Names that exist, conditions a task can meet, no cycles; a plain name of an on-start task
  // becomes `completed` in its dependant's dependency_conditions.
  void check_dependencies(Config& config, const std::map<std::string, DependentPlaces>& places);

 private:
  struct Pending {
    int file;
    Diagnostic diagnostic;
  };
  void add(Diagnostic::Severity severity, Place at, std::string key_path, std::string message);

  // Files and includes (files.cpp).
  std::optional<int> parse_file(std::string name, fs::path display_dir, fs::path base_dir,
                                const std::string& text);
  void read_includes(const Field& f);
  std::optional<std::vector<std::string>> glob_pattern(const Field& element,
                                                       const fs::path& pattern);
  void include_file(const Field& element, const std::string& path);
  void read_included_root(int file);
  // [program.NAME] or [task.NAME] tables (`table` is "program" or "task") into `entries`.
  void collect_entries(const Field& f, std::string_view table, std::vector<TableEntry>& entries);
  fs::path resolve_path(int file, const std::string& value) const;

  // The main file, every program and task (loader.cpp).
  Config read_main_file(const std::string& name, const fs::path& display_dir,
                        const fs::path& base_dir, const std::string& contents);
  void read_programs_and_tasks(Config& config);
  // Each name once, in name order; a second definition is reported at its place.
  std::vector<const TableEntry*> unique_entries(std::vector<TableEntry>& entries,
                                                std::string_view table);
  // "FILE:LINE:COL", to name another place in a message.
  std::string describe_place(Place at) const;
  LoadResult result(std::optional<Config> config);

  const EnvLookup& env_;
  const TimeZoneCheck& zones_;
  std::vector<std::unique_ptr<SourceFile>> files_;
  std::set<fs::path> loaded_;  // canonical paths of loaded files: include cycles and duplicates
  std::vector<TableEntry> program_entries_;
  std::vector<TableEntry> task_entries_;
  std::vector<Pending> diagnostics_;
  std::map<std::string, std::vector<std::string>> known_keys_;
  int errors_ = 0;
};

template <typename T>
std::optional<T> Loader::get_enum(const Field& f,
                                  std::initializer_list<std::pair<std::string_view, T>> options) {
  std::vector<std::string_view> names;
  for (const auto& option : options) names.push_back(option.first);
  std::string what = "one of ";
  what += quote_list(names);
  if (!f.node->is_string()) {
    expected(f, what);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  for (const auto& option : options) {
    if (option.first == *text) return option.second;
  }
  std::string message = "expected ";
  message += what;
  message += ", got ";
  message += quote(*text);
  std::string_view suggestion = closest(*text, names);
  if (!suggestion.empty()) {
    message += "; did you mean ";
    message += quote(suggestion);
    message += '?';
  }
  error(f, std::move(message));
  return std::nullopt;
}

}  // namespace gardien::config_loader
