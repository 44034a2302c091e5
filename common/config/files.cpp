// Files and includes: reading a file, parsing it, globbing include patterns, included files'
// top level.
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

// glob(3)'s error callback has no context pointer: it records the first real failure here.
struct GlobFailure {
  std::string path;
  int error = 0;
};
thread_local GlobFailure glob_failure;

int record_glob_failure(const char* path, int error) {
  // A directory that does not exist simply matches nothing.
  if (error != ENOENT && error != ENOTDIR && glob_failure.path.empty())
    glob_failure = {path, error};
  return 0;
}

}  // namespace

FileText read_whole_file(const std::string& path) {
  FileText out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
  if (fd < 0) {
    out.error = std::strerror(errno);
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out.error = S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file";
    ::close(fd);
    return out;
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = std::strerror(errno);
      break;
    }
    if (n == 0) break;
    out.text.append(buffer, static_cast<std::size_t>(n));
    if (out.text.size() > kMaxConfigBytes) {
      out.error = "larger than 16 MiB";
      break;
    }
  }
  ::close(fd);
  return out;
}

fs::path Loader::resolve_path(int file, const std::string& value) const {
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal();
  return (files_[static_cast<std::size_t>(file)]->base_dir / p).lexically_normal();
}

std::optional<int> Loader::parse_file(std::string name, fs::path display_dir, fs::path base_dir,
                                      const std::string& text) {
  auto file = std::make_unique<SourceFile>();
  file->name = std::move(name);
  file->display_dir = std::move(display_dir);
  file->base_dir = std::move(base_dir);
  int index = static_cast<int>(files_.size());
  files_.push_back(std::move(file));
  try {
    files_.back()->root = toml::parse(text, files_.back()->name);
  } catch (const toml::parse_error& e) {
    std::string message = "invalid TOML: ";
    message += e.description();
    // toml++ sees the newline inside an unterminated string, not the missing quote.
    if (e.description().find("control characters") != std::string_view::npos)
      message += " (is a closing quote missing?)";
    error(place(index, e.source()), "", std::move(message));
    return std::nullopt;
  }
  return index;
}

void Loader::read_includes(const Field& f) {
  auto patterns = get_string_array(f);
  if (!patterns) return;
  const toml::array& array = *f.node->as_array();
  for (std::size_t i = 0; i < patterns->size(); ++i) {
    Field element{array.get(i), f.file, f.path};
    const std::string& pattern_text = (*patterns)[i];
    if (pattern_text.empty()) {
      error(element, "expected a file or glob pattern, got an empty string");
      continue;
    }
    const SourceFile& from = *files_[static_cast<std::size_t>(f.file)];
    fs::path pattern = fs::path(pattern_text).is_absolute() ? fs::path(pattern_text)
                                                            : from.display_dir / pattern_text;
    if (auto paths = glob_pattern(element, pattern)) {
      for (const std::string& path : *paths) include_file(element, path);
    }
  }
}

// The files matching `pattern`, or nullopt after reporting why there are none.
std::optional<std::vector<std::string>> Loader::glob_pattern(const Field& element,
                                                             const fs::path& pattern) {
  glob_t matches{};
  glob_failure = {};
  int rc = ::glob(pattern.c_str(), 0, record_glob_failure, &matches);
  std::vector<std::string> paths;
  for (std::size_t m = 0; rc == 0 && m < matches.gl_pathc; ++m)
    paths.emplace_back(matches.gl_pathv[m]);
  ::globfree(&matches);
  if (!glob_failure.path.empty()) {
    std::string message = "cannot read ";
    message += quote(glob_failure.path);
    message += " while matching ";
    message += quote(pattern.string());
    message += ": ";
    message += std::strerror(glob_failure.error);
    error(element, std::move(message));
    return std::nullopt;
  }
  if (rc == GLOB_NOMATCH) {
    std::string message = "include pattern ";
    message += quote(pattern.string());
    message += " matches no file";
    warning(element, std::move(message));
    return std::nullopt;
  }
  if (rc != 0) {
    std::string message = "cannot read the files matching ";
    message += quote(pattern.string());
    message += ": out of memory";
    error(element, std::move(message));
    return std::nullopt;
  }
  return paths;
}

void Loader::include_file(const Field& element, const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) canonical = fs::absolute(path).lexically_normal();
  if (loaded_.count(canonical)) {
    std::string message = quote(path);
    message +=
        " is already loaded: a file may be included only once (an include cycle, or two "
        "patterns "
        "matching it)";
    error(element, std::move(message));
    return;
  }
  loaded_.insert(canonical);
  FileText contents = read_whole_file(path);
  if (!contents.error.empty()) {
    std::string message = "cannot read ";
    message += quote(path);
    message += ": ";
    message += contents.error;
    error(element, std::move(message));
    return;
  }
  fs::path display_dir = fs::path(path).parent_path();
  fs::path base_dir = fs::absolute(path).parent_path();
  auto index = parse_file(path, display_dir, base_dir, contents.text);
  if (index) read_included_root(*index);
}

void Loader::read_included_root(int file) {
  const SourceFile& source = *files_[static_cast<std::size_t>(file)];
  TableReader r(*this, source.root, file, "");
  if (auto programs = r.get("program")) collect_entries(*programs, "program", program_entries_);
  if (auto tasks = r.get("task")) collect_entries(*tasks, "task", task_entries_);
  if (auto include = r.get("include")) read_includes(*include);
  if (const toml::node* supervisor = source.root.get("supervisor")) {
    r.get("supervisor");  // reported here, not as an unknown key
    std::string message = "[supervisor] is only allowed in the main config file ";
    message += quote(files_[0]->name);
    message += "; an included file may define [program.*] and [task.*] tables and include only";
    error(place(file, supervisor->source()), "supervisor", std::move(message));
  }
  r.finish("an included file may define [program.*] and [task.*] tables and include only");
}

void Loader::collect_entries(const Field& f, std::string_view table,
                             std::vector<TableEntry>& entries) {
  const toml::table* tables = f.node->as_table();
  if (!tables) {
    expected(f, cat("tables like [", table, ".NAME]"));
    return;
  }
  for (auto&& [key, node] : *tables) {
    entries.push_back({std::string(key.str()), &node, place(f.file, key.source())});
  }
}

}  // namespace gardien::config_loader
