// The loader's core: diagnostics, unknown keys, the main file's top level, every program once in
// name order, then the checks across programs.
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
    loader_.unknown_key(loader_.place(file_, key.source()), child(name), std::move(message),
                        path_, known_);
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
  read_programs(config);
  if (errors_ == 0 && config.programs.empty()) {
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
    // The main file's programs first: a duplicate in an include is the one reported.
    if (auto v = r.get("program")) collect_programs(*v);
    if (auto v = r.get("supervisor")) read_supervisor(*v, config.supervisor);
    r.finish("the main file holds [supervisor] (with include = [...]) and [program.NAME] tables");
  }
  return config;
}

// Every program once, in name order; a second definition names the first one's place.
void Loader::read_programs(Config& config) {
  std::stable_sort(program_entries_.begin(), program_entries_.end(),
                   [](const ProgramEntry& a, const ProgramEntry& b) { return a.name < b.name; });
  std::map<std::string, ProgramPlaces> places;
  std::vector<ProgramConfig> all;  // with the invalid ones, so depends-on may name them
  std::size_t first_index = 0;
  for (std::size_t i = 0; i < program_entries_.size(); ++i) {
    const ProgramEntry& entry = program_entries_[i];
    if (i == 0 || program_entries_[first_index].name != entry.name) first_index = i;
    if (first_index != i) {
      report_duplicate(entry, program_entries_[first_index]);
      continue;
    }
    bool ok = false;
    all.push_back(read_program(entry, places[entry.name], ok));
    if (ok) config.programs.push_back(all.back());
  }
  check_dependencies(all, places);
}

void Loader::report_duplicate(const ProgramEntry& entry, const ProgramEntry& first) {
  std::string message = "program ";
  message += quote(entry.name);
  message += " is already defined at ";
  message += files_[static_cast<std::size_t>(first.place.file)]->name;
  message += ':';
  message += std::to_string(first.place.line);
  message += ':';
  message += std::to_string(first.place.column);
  message += "; rename one of them";
  error(entry.place, cat("program.", entry.name), std::move(message));
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

LoadResult load_config(const std::filesystem::path& path, const EnvLookup& env) {
  config_loader::Loader loader(env);
  std::error_code ec;
  std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
  return loader.load_main(path.string(), path.parent_path(), base, std::nullopt);
}

LoadResult load_config_string(std::string_view text, const std::string& name,
                              const EnvLookup& env) {
  config_loader::Loader loader(env);
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  return loader.load_main(name, std::filesystem::path(), cwd, std::string(text));
}

}  // namespace gardien
