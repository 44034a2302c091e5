#include "common/config.h"

#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "common/signals.h"

namespace gardien {

const ProgramConfig* Config::find(std::string_view name) const {
  for (const ProgramConfig& p : programs) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int Config::instance_count() const {
  int n = 0;
  for (const ProgramConfig& p : programs) n += p.instances;
  return n;
}

std::vector<std::string> ProgramConfig::instance_names() const {
  if (instances == 1) return {name};
  std::vector<std::string> names;
  for (int i = 0; i < instances; ++i) {
    std::string n = name;
    n += '.';
    n += std::to_string(i);
    names.push_back(std::move(n));
  }
  return names;
}

std::string_view to_string(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::always:
      return "always";
    case RestartPolicy::on_failure:
      return "on-failure";
    case RestartPolicy::never:
      return "never";
  }
  return "?";
}

std::string_view to_string(KillMode mode) {
  switch (mode) {
    case KillMode::group:
      return "group";
    case KillMode::process:
      return "process";
    case KillMode::cgroup:
      return "cgroup";
  }
  return "?";
}

std::string_view to_string(LogFormat format) {
  switch (format) {
    case LogFormat::text:
      return "text";
    case LogFormat::json:
      return "json";
  }
  return "?";
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "?";
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    out += ':';
    out += std::to_string(column);
  }
  out += ": ";
  if (severity == Severity::warning) out += "warning: ";
  if (!key_path.empty()) {
    out += key_path;
    out += ": ";
  }
  out += message;
  return out;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

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

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest candidate within edit distance 2, or empty.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

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

struct FileText {
  std::string text;
  std::string error;  // strerror-like reason when reading failed
};

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

// getpw*_r / getgr*_r want a caller buffer that may need to grow; `call` copies what it needs.
template <typename Entry, typename Call>
void lookup_entry(Call call) {
  std::vector<char> buffer(4096);
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    int rc = call(&entry, buffer.data(), buffer.size(), &result);
    if (rc != ERANGE || buffer.size() >= (1u << 22)) return;
    buffer.resize(buffer.size() * 4);
  }
}

// A numeric uid/gid; nullopt beyond 32 bits or for -1 (which would wrap to another id).
std::optional<std::uint32_t> parse_id(std::string_view digits) {
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc{} || end != digits.data() + digits.size() || id == 0xffffffffu)
    return std::nullopt;
  return id;
}

std::optional<RunAs> find_user(const std::string& name_or_id) {
  std::optional<RunAs> out;
  auto fill = [&](passwd* pw, char* buf, std::size_t len, passwd** result) {
    int rc;
    if (all_digits(name_or_id)) {
      auto uid = parse_id(name_or_id);
      if (!uid) return 0;  // no such uid
      rc = ::getpwuid_r(*uid, pw, buf, len, result);
    } else {
      rc = ::getpwnam_r(name_or_id.c_str(), pw, buf, len, result);
    }
    if (rc == 0 && *result)
      out = RunAs{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir, pw->pw_shell, {}};
    return rc;
  };
  lookup_entry<passwd>(fill);
  return out;
}

std::optional<gid_t> find_group(const std::string& name_or_id) {
  std::optional<gid_t> out;
  auto fill = [&](group* gr, char* buf, std::size_t len, group** result) {
    int rc;
    if (all_digits(name_or_id)) {
      auto gid = parse_id(name_or_id);
      if (!gid) return 0;  // no such gid
      rc = ::getgrgid_r(*gid, gr, buf, len, result);
    } else {
      rc = ::getgrnam_r(name_or_id.c_str(), gr, buf, len, result);
    }
    if (rc == 0 && *result) out = gr->gr_gid;
    return rc;
  };
  lookup_entry<group>(fill);
  return out;
}

std::vector<gid_t> supplementary_groups(const std::string& user, gid_t primary) {
  int count = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  for (int attempt = 0; attempt < 8; ++attempt) {
    int n = count;
    if (::getgrouplist(user.c_str(), primary, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      return groups;
    }
    count = std::max(n, count * 2);
    groups.resize(static_cast<std::size_t>(count));
  }
  return {primary};
}

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

struct RlimitName {
  std::string_view name;
  int resource;
  bool bytes;  // accepts sizes like "64MiB"
};
constexpr RlimitName kRlimits[] = {
    {"as", RLIMIT_AS, true},           {"core", RLIMIT_CORE, true},
    {"cpu", RLIMIT_CPU, false},        {"data", RLIMIT_DATA, true},
    {"fsize", RLIMIT_FSIZE, true},     {"locks", RLIMIT_LOCKS, false},
    {"memlock", RLIMIT_MEMLOCK, true}, {"msgqueue", RLIMIT_MSGQUEUE, true},
    {"nice", RLIMIT_NICE, false},      {"nofile", RLIMIT_NOFILE, false},
    {"nproc", RLIMIT_NPROC, false},    {"rss", RLIMIT_RSS, true},
    {"rtprio", RLIMIT_RTPRIO, false},  {"sigpending", RLIMIT_SIGPENDING, false},
    {"stack", RLIMIT_STACK, true},
};

// ---------------------------------------------------------------------------------------------
// The loader: parses the main file and its includes, reads every table, collects diagnostics.

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

struct ProgramEntry {
  std::string name;
  const toml::node* node;
  Place place;  // the key naming the program
};

// Where each program's depends-on elements are, for the cross-program checks.
struct ProgramPlaces {
  Place place;
  std::vector<Place> depends_on;
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
  // Reports the keys that were never asked for.
  void finish(std::string_view hint = {});

 private:
  Loader& loader_;
  const toml::table& table_;
  int file_;
  std::string path_;
  std::vector<std::string_view> known_;
};

class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  LoadResult load_main(const std::string& name, const fs::path& display_dir,
                       const fs::path& base_dir, const std::optional<std::string>& text);

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
  void expected(const Field& f, std::string_view what) {
    std::string message = "expected ";
    message += what;
    message += ", got ";
    message += describe(*f.node);
    error(f, std::move(message));
  }

 private:
  struct Pending {
    int file;
    Diagnostic diagnostic;
  };
  void add(Diagnostic::Severity severity, Place at, std::string key_path, std::string message) {
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

  // Files.
  std::optional<int> parse_file(std::string name, fs::path display_dir, fs::path base_dir,
                                const std::string& text);
  void read_includes(const Field& f);
  void read_included_root(int file);
  void collect_programs(const Field& f);
  fs::path resolve_path(int file, const std::string& value) const;

  // Values.
  std::optional<std::string> expand(const std::string& text, const Field& f, int depth = 0);
  std::optional<std::string> get_string(const Field& f, std::string_view what = "a string");
  std::optional<std::string> get_path(const Field& f);
  std::optional<bool> get_bool(const Field& f);
  std::optional<std::int64_t> get_int(const Field& f, std::int64_t min, std::int64_t max);
  std::optional<Duration> get_duration(const Field& f);
  std::optional<int> get_signal(const Field& f);
  std::optional<mode_t> get_mode(const Field& f);
  std::optional<std::uint64_t> get_size(const Field& f);
  std::optional<std::string> get_id_text(const Field& f, std::string_view what);
  std::optional<gid_t> get_group(const Field& f);
  std::optional<RunAs> get_user(const Field& f);
  template <typename T>
  std::optional<T> get_enum(const Field& f,
                            std::initializer_list<std::pair<std::string_view, T>> options);
  std::optional<std::vector<std::string>> get_string_array(const Field& f);
  std::optional<OutputSink> get_sink(const Field& f, bool is_stderr);
  std::optional<std::vector<ResourceLimit>> get_rlimits(const Field& f);
  std::optional<std::uint64_t> get_rlimit_value(const Field& f, bool bytes);

  // Tables.
  void read_supervisor(const Field& f, SupervisorConfig& out);
  // The program as far as it could be read; `ok` is false when it had an error.
  ProgramConfig read_program(const ProgramEntry& entry, ProgramPlaces& places, bool& ok);
  void check_dependencies(const std::vector<ProgramConfig>& programs,
                          const std::map<std::string, ProgramPlaces>& places);

  const EnvLookup& env_;
  std::vector<std::unique_ptr<SourceFile>> files_;
  std::set<fs::path> loaded_;  // canonical paths of loaded files: include cycles and duplicates
  std::vector<ProgramEntry> program_entries_;
  std::vector<Pending> diagnostics_;
  int errors_ = 0;

  friend class TableReader;
};

void TableReader::finish(std::string_view hint) {
  for (auto&& [key, node] : table_) {
    std::string_view name = key.str();
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
    std::string message = "unknown key";
    std::string_view suggestion = closest(name, known_);
    if (!suggestion.empty()) {
      message += "; did you mean ";
      message += quote(suggestion);
      message += '?';
    } else if (!hint.empty() || known_.size() > 16) {
      message += "; ";
      message +=
          hint.empty() ? std::string_view("see docs/config.md for the keys of this table") : hint;
    } else {
      message += "; expected one of ";
      message += quote_list(known_);
    }
    loader_.error(loader_.place(file_, key.source()), child(name), std::move(message));
  }
}

// ---------------------------------------------------------------------------------------------
// Values

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
    std::size_t j = i + 2;
    auto name_char = [&](std::size_t k) {
      char ch = text[k];
      return ch == '_' || std::isalpha(static_cast<unsigned char>(ch)) ||
             (k > i + 2 && std::isdigit(static_cast<unsigned char>(ch)));
    };
    while (j < text.size() && name_char(j)) ++j;
    std::string name = text.substr(i + 2, j - i - 2);
    if (name.empty() || j >= text.size()) return malformed(i);
    std::optional<std::string> value = env_(name);
    if (text[j] == '}') {
      if (!value) {
        std::string message = "${";
        message += name;
        message += "} is not set in the environment; set it, or give a default: ${";
        message += name;
        message += ":-default}";
        error(f, std::move(message));
        return std::nullopt;
      }
      out += *value;
      i = j + 1;
      continue;
    }
    if (text.compare(j, 2, ":-") != 0) return malformed(i);
    // The default runs to the matching brace, so it may hold ${OTHER} itself.
    std::size_t k = j + 2;
    int braces = 1;
    for (; k < text.size(); ++k) {
      if (text[k] == '{') ++braces;
      if (text[k] == '}' && --braces == 0) break;
    }
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

std::optional<std::string> Loader::get_string(const Field& f, std::string_view what) {
  if (!f.node->is_string()) {
    expected(f, what);
    return std::nullopt;
  }
  return expand(f.node->as_string()->get(), f);
}

fs::path Loader::resolve_path(int file, const std::string& value) const {
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal();
  return (files_[static_cast<std::size_t>(file)]->base_dir / p).lexically_normal();
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
  auto d = parse_duration(*text);
  if (!d) {
    std::string message = "expected ";
    message += kWhat;
    message += " (units ms, s, m, h), got ";
    message += quote(*text);
    error(f, std::move(message));
  }
  return d;
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

// A user or group as written: a name, or a numeric id as an integer or a string of digits.
std::optional<std::string> Loader::get_id_text(const Field& f, std::string_view what) {
  if (f.node->is_integer()) {
    std::int64_t v = f.node->as_integer()->get();
    if (v >= 0 && v < 0xffffffffLL) return std::to_string(v);
  } else if (f.node->is_string()) {
    auto text = expand(f.node->as_string()->get(), f);
    if (!text) return std::nullopt;
    if (!text->empty()) return text;
  }
  std::string message = "a ";
  message += what;
  message += " name or numeric id";
  expected(f, message);
  return std::nullopt;
}

std::optional<gid_t> Loader::get_group(const Field& f) {
  auto text = get_id_text(f, "group");
  if (!text) return std::nullopt;
  auto gid = find_group(*text);
  if (!gid) {
    std::string message = "unknown group ";
    message += quote(*text);
    message += " (not in the group database: create it or use another group)";
    error(f, std::move(message));
  }
  return gid;
}

std::optional<RunAs> Loader::get_user(const Field& f) {
  auto text = get_id_text(f, "user");
  if (!text) return std::nullopt;
  auto user = find_user(*text);
  if (!user) {
    std::string message = "unknown user ";
    message += quote(*text);
    message += " (not in the password database: create it or use another user)";
    error(f, std::move(message));
    return std::nullopt;
  }
  user->groups = supplementary_groups(user->user, user->gid);
  return user;
}

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

std::optional<OutputSink> Loader::get_sink(const Field& f, bool is_stderr) {
  std::vector<std::string_view> names = {"prefix", "inherit", "null"};
  if (is_stderr) names.push_back("stdout");
  std::string what = quote_list(names);
  what += ", or a table like { file = \"PATH\" }";
  std::string expected_what = cat("one of ", what);
  if (const toml::table* table = f.node->as_table()) {
    OutputSink sink;
    sink.kind = OutputSink::Kind::file;
    TableReader r(*this, *table, f.file, f.path);
    bool ok = true;
    if (auto v = r.get("file")) {
      auto path = get_path(*v);
      if (path) sink.path = *path;
      ok = ok && path;
    } else {
      error(place(f), f.path,
            "missing key \"file\": the log file's path, e.g. { file = \"/var/log/app.log\" }");
      ok = false;
    }
    if (auto v = r.get("max-size")) {
      auto size = get_size(*v);
      if (size) sink.max_size = *size;
      ok = ok && size;
    }
    if (auto v = r.get("keep")) {
      auto keep = get_int(*v, 0, 1000);
      if (keep) sink.keep = static_cast<int>(*keep);
      ok = ok && keep;
    }
    r.finish();
    if (!ok) return std::nullopt;
    return sink;
  }
  if (!f.node->is_string()) {
    expected(f, expected_what);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  OutputSink sink;
  if (*text == "prefix") {
    sink.kind = OutputSink::Kind::prefix;
  } else if (*text == "inherit") {
    sink.kind = OutputSink::Kind::inherit;
  } else if (*text == "null") {
    sink.kind = OutputSink::Kind::null;
  } else if (*text == "stdout" && is_stderr) {
    sink.kind = OutputSink::Kind::merge;
  } else {
    std::string message = cat("expected ", expected_what);
    message += ", got ";
    message += quote(*text);
    if (*text == "stdout") {
      message += "; \"stdout\" is only valid for stderr (merging it into stdout)";
    } else if (text->find('/') != std::string::npos) {
      message += "; for a file write { file = ";
      message += quote(*text);
      message += " }";
    } else if (auto suggestion = closest(*text, names); !suggestion.empty()) {
      message += "; did you mean ";
      message += quote(suggestion);
      message += '?';
    }
    error(f, std::move(message));
    return std::nullopt;
  }
  return sink;
}

std::optional<std::uint64_t> Loader::get_rlimit_value(const Field& f, bool bytes) {
  std::string what =
      bytes ? "an integer, a size like \"64MiB\" or \"unlimited\"" : "an integer or \"unlimited\"";
  if (f.node->is_integer()) {
    std::int64_t v = f.node->as_integer()->get();
    if (v >= 0) return static_cast<std::uint64_t>(v);
  } else if (f.node->is_string()) {
    auto text = expand(f.node->as_string()->get(), f);
    if (!text) return std::nullopt;
    if (*text == "unlimited" || *text == "infinity") return RLIM_INFINITY;
    if (bytes) {
      if (auto size = parse_size(*text)) return *size;
    }
  }
  expected(f, what);
  return std::nullopt;
}

std::optional<std::vector<ResourceLimit>> Loader::get_rlimits(const Field& f) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "a table like { nofile = 4096 }");
    return std::nullopt;
  }
  TableReader r(*this, *table, f.file, f.path);
  std::vector<ResourceLimit> out;
  bool ok = true;
  for (const RlimitName& limit : kRlimits) {
    auto v = r.get(limit.name);
    if (!v) continue;
    ResourceLimit rl;
    rl.resource = limit.resource;
    if (const toml::table* pair = v->node->as_table()) {
      TableReader pr(*this, *pair, v->file, v->path);
      auto soft = pr.get("soft");
      auto hard = pr.get("hard");
      pr.finish();
      if (!soft || !hard) {
        error(place(*v), v->path, "expected both soft and hard, like { soft = 1024, hard = 4096 }");
        ok = false;
        continue;
      }
      auto s = get_rlimit_value(*soft, limit.bytes);
      auto h = get_rlimit_value(*hard, limit.bytes);
      if (!s || !h) {
        ok = false;
        continue;
      }
      if (*s > *h) {
        error(*soft, "the soft limit is above the hard limit; make soft <= hard");
        ok = false;
        continue;
      }
      rl.soft = *s;
      rl.hard = *h;
    } else {
      auto value = get_rlimit_value(*v, limit.bytes);
      if (!value) {
        ok = false;
        continue;
      }
      rl.soft = rl.hard = *value;
    }
    out.push_back(rl);
  }
  r.finish();
  if (!ok) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Files and includes

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
      continue;
    }
    if (rc == GLOB_NOMATCH) {
      std::string message = "include pattern ";
      message += quote(pattern.string());
      message += " matches no file";
      warning(element, std::move(message));
      continue;
    }
    if (rc != 0) {
      std::string message = "cannot read the files matching ";
      message += quote(pattern.string());
      message += ": out of memory";
      error(element, std::move(message));
      continue;
    }
    for (const std::string& path : paths) {
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
        continue;
      }
      loaded_.insert(canonical);
      FileText contents = read_whole_file(path);
      if (!contents.error.empty()) {
        std::string message = "cannot read ";
        message += quote(path);
        message += ": ";
        message += contents.error;
        error(element, std::move(message));
        continue;
      }
      fs::path display_dir = fs::path(path).parent_path();
      fs::path base_dir = fs::absolute(path).parent_path();
      auto index = parse_file(path, display_dir, base_dir, contents.text);
      if (index) read_included_root(*index);
    }
  }
}

void Loader::read_included_root(int file) {
  const SourceFile& source = *files_[static_cast<std::size_t>(file)];
  TableReader r(*this, source.root, file, "");
  if (auto programs = r.get("program")) collect_programs(*programs);
  if (auto include = r.get("include")) read_includes(*include);
  if (const toml::node* supervisor = source.root.get("supervisor")) {
    r.get("supervisor");  // reported here, not as an unknown key
    std::string message = "[supervisor] is only allowed in the main config file ";
    message += quote(files_[0]->name);
    message += "; an included file may define [program.*] tables and include only";
    error(place(file, supervisor->source()), "supervisor", std::move(message));
  }
  r.finish("an included file may define [program.*] tables and include only");
}

void Loader::collect_programs(const Field& f) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "tables like [program.NAME]");
    return;
  }
  for (auto&& [key, node] : *table) {
    program_entries_.push_back({std::string(key.str()), &node, place(f.file, key.source())});
  }
}

// ---------------------------------------------------------------------------------------------
// Tables

void Loader::read_supervisor(const Field& f, SupervisorConfig& out) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "a table [supervisor]");
    return;
  }
  TableReader r(*this, *table, f.file, "supervisor");
  if (auto v = r.get("socket")) {
    if (auto path = get_path(*v)) {
      if (path->size() >= sizeof(sockaddr_un::sun_path)) {
        std::string message = "the socket path is ";
        message += std::to_string(path->size());
        message += " bytes long; Unix socket paths must be shorter than ";
        message += std::to_string(sizeof(sockaddr_un::sun_path));
        message += " bytes: use a shorter path";
        error(*v, std::move(message));
      } else {
        out.socket = *path;
      }
    }
  }
  if (auto v = r.get("socket-mode")) {
    if (auto mode = get_mode(*v)) out.socket_mode = *mode;
  }
  if (auto v = r.get("socket-group")) out.socket_group = get_group(*v);
  if (auto v = r.get("socket-readers")) out.socket_readers = get_group(*v);
  if (auto v = r.get("log-level")) {
    if (auto level = get_enum<LogLevel>(*v, {{"debug", LogLevel::debug},
                                             {"info", LogLevel::info},
                                             {"warn", LogLevel::warn},
                                             {"error", LogLevel::error}}))
      out.log_level = *level;
  }
  if (auto v = r.get("log-format")) {
    if (auto format =
            get_enum<LogFormat>(*v, {{"text", LogFormat::text}, {"json", LogFormat::json}}))
      out.log_format = *format;
  }
  if (auto v = r.get("shutdown-timeout")) {
    if (auto d = get_duration(*v)) out.shutdown_timeout = *d;
  }
  if (auto v = r.get("include")) read_includes(*v);
  r.finish();
}

bool valid_program_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxProgramName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

ProgramConfig Loader::read_program(const ProgramEntry& entry, ProgramPlaces& places, bool& ok) {
  int before = errors_;
  ProgramConfig p;
  p.name = entry.name;
  places.place = entry.place;
  std::string path = "program.";
  path += entry.name;
  if (!valid_program_name(entry.name)) {
    std::string message = "invalid program name ";
    message += quote(entry.name);
    message += ": use letters, digits, '_' and '-' (at most 64 characters)";
    error(entry.place, path, std::move(message));
  }
  const toml::table* table = entry.node->as_table();
  if (!table) {
    expected(Field{entry.node, entry.place.file, path},
             "a table [program.NAME] with at least a command");
    ok = false;
    return p;
  }
  TableReader r(*this, *table, entry.place.file, path);

  if (auto v = r.get("command")) {
    if (v->node->is_string()) {
      if (auto command = get_string(*v)) {
        if (command->find_first_not_of(" \t\n") == std::string::npos) {
          error(*v, "expected a command, got an empty string");
        } else {
          p.command = {"/bin/sh", "-c", *command};
        }
      }
    } else if (v->node->is_array()) {
      if (auto argv = get_string_array(*v)) {
        if (argv->empty()) {
          error(
              *v,
              "expected a non-empty array like [\"/usr/bin/app\", \"--flag\"], got an empty array");
        } else if ((*argv)[0].empty()) {
          error(*v, "the program to run (the first element) is an empty string");
        } else {
          p.command = std::move(*argv);
        }
      }
    } else {
      expected(*v, "an array like [\"/usr/bin/app\", \"--flag\"] or a shell command string");
    }
  } else {
    error(entry.place, path,
          "missing key \"command\": the program to run, e.g. command = [\"/usr/bin/app\", "
          "\"--flag\"]");
  }
  if (auto v = r.get("directory")) {
    if (auto dir = get_path(*v)) p.directory = *dir;
  }
  if (auto v = r.get("environment")) {
    if (const toml::table* env = v->node->as_table()) {
      for (auto&& [key, node] : *env) {
        std::string name(key.str());
        Field value{&node, v->file, cat(v->path, ".", name)};
        if (name.empty() || name.find('=') != std::string::npos ||
            name.find('\0') != std::string::npos) {
          error(place(v->file, key.source()), value.path,
                "an environment variable name must be non-empty and must not contain '='");
          continue;
        }
        if (auto s = get_string(value)) p.environment[name] = *s;
      }
    } else {
      expected(*v, "a table like { NAME = \"value\" }");
    }
  }
  std::optional<Field> group_field = r.get("group");
  if (auto v = r.get("user")) p.run_as = get_user(*v);
  if (group_field) {
    auto gid = get_group(*group_field);
    if (gid && p.run_as) {
      p.run_as->gid = *gid;
    } else if (gid) {
      p.group = *gid;
    }
  }
  if (auto v = r.get("umask")) p.umask = get_mode(*v);
  if (auto v = r.get("instances")) {
    if (auto n = get_int(*v, 1, kMaxInstances)) p.instances = static_cast<int>(*n);
  }
  if (auto v = r.get("autostart")) {
    if (auto b = get_bool(*v)) p.autostart = *b;
  }
  if (auto v = r.get("restart")) {
    if (auto policy = get_enum<RestartPolicy>(*v, {{"always", RestartPolicy::always},
                                                   {"on-failure", RestartPolicy::on_failure},
                                                   {"never", RestartPolicy::never}}))
      p.restart = *policy;
  }
  if (auto v = r.get("success-exit-codes")) {
    if (const toml::array* array = v->node->as_array()) {
      p.success_exit_codes.clear();
      for (std::size_t i = 0; i < array->size(); ++i) {
        std::string element_path = v->path;
        element_path += '[';
        element_path += std::to_string(i);
        element_path += ']';
        if (auto code = get_int(Field{array->get(i), v->file, element_path}, 0, 255))
          p.success_exit_codes.push_back(static_cast<int>(*code));
      }
    } else {
      expected(*v, "an array of exit codes like [0, 2]");
    }
  }
  if (auto v = r.get("start-seconds")) {
    if (auto d = get_duration(*v)) p.start_seconds = *d;
  }
  if (auto v = r.get("start-retries")) {
    if (auto n = get_int(*v, 0, 1'000'000)) p.start_retries = static_cast<int>(*n);
  }
  auto backoff_field = r.get("backoff");
  auto backoff_max_field = r.get("backoff-max");
  bool backoff_ok = true;
  if (backoff_field) {
    auto d = get_duration(*backoff_field);
    if (d) p.backoff = *d;
    backoff_ok = backoff_ok && d;
  }
  if (backoff_max_field) {
    auto d = get_duration(*backoff_max_field);
    if (d) p.backoff_max = *d;
    backoff_ok = backoff_ok && d;
  }
  if (backoff_ok && p.backoff_max < p.backoff) {
    std::string message = "backoff-max (";
    message += format_duration(p.backoff_max);
    message += ") is shorter than backoff (";
    message += format_duration(p.backoff);
    message += "); make backoff-max >= backoff";
    const Field& at = backoff_max_field ? *backoff_max_field : *backoff_field;
    error(at, std::move(message));
  }
  if (auto v = r.get("stop-signal")) {
    if (auto s = get_signal(*v)) p.stop_signal = *s;
  }
  if (auto v = r.get("stop-timeout")) {
    if (auto d = get_duration(*v)) p.stop_timeout = *d;
  }
  if (auto v = r.get("kill-mode")) {
    if (auto mode = get_enum<KillMode>(*v, {{"group", KillMode::group},
                                            {"process", KillMode::process},
                                            {"cgroup", KillMode::cgroup}}))
      p.kill_mode = *mode;
  }
  if (auto v = r.get("depends-on")) {
    if (auto names = get_string_array(*v)) {
      const toml::array& array = *v->node->as_array();
      for (std::size_t i = 0; i < names->size(); ++i) {
        const std::string& name = (*names)[i];
        if (std::find(p.depends_on.begin(), p.depends_on.end(), name) != p.depends_on.end()) {
          std::string message = quote(name);
          message += " is listed twice";
          warning(Field{array.get(i), v->file, v->path}, std::move(message));
          continue;
        }
        p.depends_on.push_back(name);
        places.depends_on.push_back(place(Field{array.get(i), v->file, v->path}));
      }
    }
  }
  std::optional<Field> critical_field = r.get("critical");
  if (critical_field) {
    if (auto b = get_bool(*critical_field)) p.critical = *b;
  }
  if (auto v = r.get("exit-code")) {
    if (auto code = get_int(*v, 0, 255)) {
      p.exit_code = static_cast<int>(*code);
      if (!p.critical)
        warning(*v,
                "exit-code only matters for a critical program; add critical = true or remove it");
    }
  }
  if (auto v = r.get("stdout")) {
    if (auto sink = get_sink(*v, false)) p.stdout_sink = *sink;
  }
  if (auto v = r.get("stderr")) {
    if (auto sink = get_sink(*v, true)) p.stderr_sink = *sink;
  }
  if (auto v = r.get("timestamps")) {
    if (auto b = get_bool(*v)) p.timestamps = *b;
  }
  if (auto v = r.get("log-buffer-size")) {
    if (auto size = get_size(*v)) {
      if (*size > (std::uint64_t{1} << 30)) {
        error(*v, cat("expected a size of at most 1GiB, got ", std::to_string(*size), " bytes"));
      } else {
        p.log_buffer_size = *size;
      }
    }
  }
  if (auto v = r.get("rlimits")) {
    if (auto limits = get_rlimits(*v)) p.rlimits = std::move(*limits);
  }
  r.finish();
  ok = errors_ == before;
  return p;
}

void Loader::check_dependencies(const std::vector<ProgramConfig>& programs,
                                const std::map<std::string, ProgramPlaces>& places) {
  std::map<std::string, const ProgramConfig*> by_name;
  for (const ProgramConfig& p : programs) by_name[p.name] = &p;
  for (const ProgramConfig& p : programs) {
    const ProgramPlaces& where = places.at(p.name);
    for (std::size_t i = 0; i < p.depends_on.size(); ++i) {
      const std::string& dep = p.depends_on[i];
      if (by_name.count(dep)) continue;
      std::string path = "program.";
      path += p.name;
      path += ".depends-on";
      std::string message = "no program named ";
      message += quote(dep);
      std::size_t dot = dep.rfind('.');
      if (dot != std::string::npos && by_name.count(dep.substr(0, dot))) {
        message += "; depends-on names programs, not instances: write ";
        message += quote(dep.substr(0, dot));
      } else {
        std::vector<std::string_view> names;
        for (const auto& [name, _] : by_name) {
          if (name != p.name) names.push_back(name);
        }
        if (auto suggestion = closest(dep, names); !suggestion.empty()) {
          message += "; did you mean ";
          message += quote(suggestion);
          message += '?';
        }
      }
      error(where.depends_on[i], path, std::move(message));
    }
  }
  // Depth-first search; a back edge closes a cycle, reported once from its smallest name.
  enum class Mark { none, active, done };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;
  std::set<std::vector<std::string>> reported;
  std::function<void(const ProgramConfig&)> visit = [&](const ProgramConfig& p) {
    marks[p.name] = Mark::active;
    stack.push_back(p.name);
    for (const std::string& dep : p.depends_on) {
      auto it = by_name.find(dep);
      if (it == by_name.end()) continue;
      Mark mark = marks[dep];
      if (mark == Mark::active) {
        std::vector<std::string> cycle(std::find(stack.begin(), stack.end(), dep), stack.end());
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        if (!reported.insert(cycle).second) continue;
        std::string message = "dependency cycle: ";
        for (const std::string& name : cycle) {
          message += name;
          message += " -> ";
        }
        message += cycle.front();
        const ProgramConfig& first = *by_name.at(cycle.front());
        const std::string& next = cycle.size() > 1 ? cycle[1] : cycle[0];
        std::size_t index = static_cast<std::size_t>(
            std::find(first.depends_on.begin(), first.depends_on.end(), next) -
            first.depends_on.begin());
        std::string path = "program.";
        path += first.name;
        path += ".depends-on";
        error(places.at(first.name).depends_on[index], path, std::move(message));
      } else if (mark == Mark::none) {
        visit(*it->second);
      }
    }
    stack.pop_back();
    marks[p.name] = Mark::done;
  };
  for (const ProgramConfig& p : programs) {
    if (marks[p.name] == Mark::none) visit(p);
  }
}

LoadResult Loader::load_main(const std::string& name, const fs::path& display_dir,
                             const fs::path& base_dir, const std::optional<std::string>& text) {
  std::string contents;
  if (text) {
    contents = *text;
  } else {
    FileText file = read_whole_file(name);
    if (!file.error.empty()) {
      LoadResult result;
      Diagnostic d;
      d.file = name;
      d.message = "cannot read the config file: ";
      d.message += file.error;
      result.diagnostics.push_back(std::move(d));
      return result;
    }
    contents = std::move(file.text);
    std::error_code ec;
    loaded_.insert(fs::weakly_canonical(fs::absolute(name), ec));
  }
  Config config;
  if (auto index = parse_file(name, display_dir, base_dir, contents)) {
    TableReader r(*this, files_[0]->root, 0, "");
    // The main file's programs first: a duplicate in an include is the one reported.
    if (auto v = r.get("program")) collect_programs(*v);
    if (auto v = r.get("supervisor")) read_supervisor(*v, config.supervisor);
    r.finish("the main file holds [supervisor] (with include = [...]) and [program.NAME] tables");
  }

  // Every program once, in name order; a second definition names the first one's place.
  std::stable_sort(program_entries_.begin(), program_entries_.end(),
                   [](const ProgramEntry& a, const ProgramEntry& b) { return a.name < b.name; });
  std::map<std::string, ProgramPlaces> places;
  std::vector<ProgramConfig> all;  // with the invalid ones, so depends-on may name them
  std::size_t first_index = 0;
  for (std::size_t i = 0; i < program_entries_.size(); ++i) {
    const ProgramEntry& entry = program_entries_[i];
    if (i == 0 || program_entries_[first_index].name != entry.name) first_index = i;
    if (first_index != i) {
      const ProgramEntry& first = program_entries_[first_index];
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
      continue;
    }
    bool ok = false;
    all.push_back(read_program(entry, places[entry.name], ok));
    if (ok) config.programs.push_back(all.back());
  }
  check_dependencies(all, places);
  if (errors_ == 0 && config.programs.empty()) {
    warning(Place{0, 0, 0}, "", "no programs defined; add a [program.NAME] table with a command");
  }

  LoadResult result;
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Pending& a, const Pending& b) {
                     return std::tie(a.file, a.diagnostic.line, a.diagnostic.column) <
                            std::tie(b.file, b.diagnostic.line, b.diagnostic.column);
                   });
  for (Pending& p : diagnostics_) result.diagnostics.push_back(std::move(p.diagnostic));
  if (errors_ == 0) result.config = std::move(config);
  return result;
}

}  // namespace

LoadResult load_config(const std::filesystem::path& path, const EnvLookup& env) {
  Loader loader(env);
  std::error_code ec;
  fs::path base = fs::absolute(path, ec).parent_path();
  return loader.load_main(path.string(), path.parent_path(), base, std::nullopt);
}

LoadResult load_config_string(std::string_view text, const std::string& name,
                              const EnvLookup& env) {
  Loader loader(env);
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  return loader.load_main(name, fs::path(), cwd, std::string(text));
}

}  // namespace gardien
