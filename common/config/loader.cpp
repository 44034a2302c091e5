// The loader's core: diagnostics, unknown keys, the main file's top level, every program and
// task once in name order, then the checks across them.
#include <algorithm>
#include <tuple>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

LoadResult unreadable(const std::string& name, const std::string& reason) {
  LoadResult result;
  Diagnostic d;
  d.file = name;
  d.message = "cannot read the config file: ";
  d.message += reason;
  result.diagnostics.push_back(std::move(d));
  result.unreadable = true;
  return result;
}

}  // namespace

void Loader::expected(const Field& f, std::string_view what) {
  std::string message = "expected ";
  message += what;
  message += ", got ";
  message += describe(*f.node);
  error(f, std::move(message));
}

void Loader::unknown_key(Place at, std::string key_path, std::string message,
                         std::string_view table, const std::vector<std::string_view>& known) {
  error(at, std::move(key_path), std::move(message));
  known_keys_[std::string(table)].assign(known.begin(), known.end());
}

void Loader::add(Diagnostic::Severity severity, Place at, std::string key_path,
                 std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.file = files_.empty() ? std::string() : files_[static_cast<std::size_t>(at.file)]->name;
  d.line = at.line;
  d.column = at.column;
  d.key_path = std::move(key_path);
  d.message = std::move(message);
  if (severity == Diagnostic::Severity::error) ++errors_;
  diagnostics_.push_back({at.file, std::move(d)});
}

void TableReader::finish(std::string_view hint) {
  report_unknown_keys(hint, false);
}

void TableReader::finish_listing_keys() {
  report_unknown_keys({}, true);
}

void TableReader::report_unknown_keys(std::string_view hint, bool list_keys) {
  auto among = [](const std::vector<std::string_view>& keys, std::string_view name) {
    return std::find(keys.begin(), keys.end(), name) != keys.end();
  };
  for (auto&& [key, node] : table_) {
    std::string_view name = key.str();
    if (among(known_, name) || among(set_aside_, name)) continue;
    std::string message = "unknown key";
    std::string_view suggestion = closest(name, known_);
    if (!suggestion.empty()) {
      message += "; did you mean ";
      message += quote(suggestion);
      message += '?';
      if (list_keys) message += cat(" (valid keys: ", quote_list(known_), ")");
    } else if (!list_keys && (!hint.empty() || known_.size() > 16)) {
      message += "; ";
      message +=
          hint.empty() ? std::string_view("see docs/config.md for the keys of this table") : hint;
    } else {
      message += "; expected one of ";
      message += quote_list(known_);
    }
    loader_.unknown_key(loader_.place(file_, key.source()), child(name), std::move(message), path_,
                        known_);
  }
}

LoadResult Loader::load_main(const std::string& name, const fs::path& display_dir,
                             const fs::path& base_dir, const std::optional<std::string>& text) {
  std::string contents;
  if (text) {
    contents = *text;
  } else {
    FileText file = read_whole_file(name);
    if (!file.error.empty()) return unreadable(name, file.error);
    contents = std::move(file.text);
    std::error_code ec;
    loaded_.insert(fs::weakly_canonical(fs::absolute(name), ec));
  }
  Config config = read_main_file(name, display_dir, base_dir, contents);
  read_programs_and_tasks(config);
  if (errors_ == 0 && config.programs.empty() && config.tasks.empty()) {
    warning(Place{0, 0, 0}, "", "no programs defined; add a [program.NAME] table with a command");
  }
  if (errors_ != 0) return result(std::nullopt);
  return result(std::move(config));
}

Config Loader::read_main_file(const std::string& name, const fs::path& display_dir,
                              const fs::path& base_dir, const std::string& contents) {
  Config config;
  if (parse_file(name, display_dir, base_dir, contents)) {
    TableReader r(*this, files_[0]->root, 0, "");
    // The main file's programs and tasks first: a duplicate in an include is the one reported.
    if (auto v = r.get("program")) collect_entries(*v, "program", program_entries_);
    if (auto v = r.get("task")) collect_entries(*v, "task", task_entries_);
    if (auto v = r.get("supervisor")) read_supervisor(*v, config.supervisor);
    r.finish(
        "the main file holds [supervisor] (with include = [...]), [program.NAME] and "
        "[task.NAME] tables");
  }
  return config;
}

// Every program and task once, in name order; a task may not have a program's name, since
// gardienctl and depends-on name both the same way.
void Loader::read_programs_and_tasks(Config& config) {
  std::map<std::string, DependentPlaces> places;
  std::map<std::string_view, const TableEntry*> programs;
  for (const TableEntry* entry : unique_entries(program_entries_, "program")) {
    programs[entry->name] = entry;
    config.programs.push_back(read_program(*entry, places[entry->name]));
  }
  for (const TableEntry* entry : unique_entries(task_entries_, "task")) {
    auto program = programs.find(entry->name);
    if (program == programs.end()) {
      config.tasks.push_back(read_task(*entry, places[entry->name]));
      continue;
    }
    // Reported at the later of the two; the task is still read, for its own errors.
    const TableEntry& task = *entry;
    const TableEntry& other = *program->second;
    bool task_later = std::tie(other.place.file, other.place.line, other.place.column) <
                      std::tie(task.place.file, task.place.line, task.place.column);
    const TableEntry& later = task_later ? task : other;
    std::string message = cat(task_later ? "task " : "program ", quote(later.name),
                              " has the name of the ", task_later ? "program" : "task",
                              " defined at ", describe_place(task_later ? other.place : task.place),
                              "; programs and tasks share one namespace: rename one of them");
    error(later.place, cat(task_later ? "task." : "program.", later.name), std::move(message));
    DependentPlaces unused;
    read_task(task, unused);
  }
  check_dependencies(config, places);
}

std::vector<const TableEntry*> Loader::unique_entries(std::vector<TableEntry>& entries,
                                                      std::string_view table) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const TableEntry& a, const TableEntry& b) { return a.name < b.name; });
  std::vector<const TableEntry*> unique;
  for (const TableEntry& entry : entries) {
    if (unique.empty() || unique.back()->name != entry.name) {
      unique.push_back(&entry);
      continue;
    }
    error(entry.place, cat(table, ".", entry.name),
          cat(table, " ", quote(entry.name), " is already defined at ",
              describe_place(unique.back()->place), "; rename one of them"));
  }
  return unique;
}

std::string Loader::describe_place(Place at) const {
  return cat(files_[static_cast<std::size_t>(at.file)]->name, ":", std::to_string(at.line), ":",
             std::to_string(at.column));
}

// The diagnostics in file order, then by place; the config only when nothing was an error.
LoadResult Loader::result(std::optional<Config> config) {
  LoadResult out;
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Pending& a, const Pending& b) {
                     return std::tie(a.file, a.diagnostic.line, a.diagnostic.column) <
                            std::tie(b.file, b.diagnostic.line, b.diagnostic.column);
                   });
  for (Pending& p : diagnostics_) out.diagnostics.push_back(std::move(p.diagnostic));
  out.config = std::move(config);
  return out;
}

}  // namespace gardien::config_loader

namespace gardien {

TimeZoneCheck any_time_zone() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

LoadResult load_config(const std::filesystem::path& path, const EnvLookup& env,
                       const TimeZoneCheck& zones) {
  config_loader::Loader loader(env, zones);
  std::error_code ec;
  std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
  return loader.load_main(path.string(), path.parent_path(), base, std::nullopt);
}

LoadResult load_config_string(std::string_view text, const std::string& name, const EnvLookup& env,
                              const TimeZoneCheck& zones) {
  config_loader::Loader loader(env, zones);
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  return loader.load_main(name, std::filesystem::path(), cwd, std::string(text));
}

}  // namespace gardien
