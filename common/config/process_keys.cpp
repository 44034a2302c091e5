// The keys programs and tasks share: what to run, as whom, with which environment, how to stop
// it and where its output goes.
#include "common/config/process_keys.h"

#include <algorithm>
#include <cctype>

namespace gardien::config_loader {

namespace {

// `all` names every program in gardienctl, so no program or task may be called that.
constexpr std::string_view kReservedName = "all";

// Task run ids are NAME#N and instances NAME.N: neither character may be in a name.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxProgramName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// A ring larger than this is a mistake, not a log buffer.
constexpr std::uint64_t kMaxBufferSize = std::uint64_t{1} << 30;

}  // namespace

void Loader::check_name(const TableEntry& entry, std::string_view table) {
  std::string path = cat(table, ".", entry.name);
  if (!valid_name(entry.name)) {
    error(entry.place, path,
          cat("invalid ", table, " name ", quote(entry.name),
              ": use letters, digits, '_' and '-' (at most 64 characters)"));
  } else if (entry.name == kReservedName) {
    error(entry.place, path,
          cat("the ", table,
              " name \"all\" is reserved (gardienctl's `all` names every program); "
              "pick another name"));
  }
}

void ProcessKeys::command(const Place& at, const std::string& path) {
  if (auto v = r_.get("command")) {
    if (auto argv = l_.get_command(*v)) p_.command = std::move(*argv);
  } else {
    l_.error(at, path,
             "missing key \"command\": the program to run, e.g. command = [\"/usr/bin/app\", "
             "\"--flag\"]");
  }
  if (auto v = r_.get("directory")) {
    if (auto dir = l_.get_path(*v)) p_.directory = *dir;
  }
}

void ProcessKeys::environment() {
  auto v = r_.get("environment");
  if (!v) return;
  const toml::table* env = v->node->as_table();
  if (!env) {
    l_.expected(*v, "a table like { NAME = \"value\" }");
    return;
  }
  for (auto&& [key, node] : *env) {
    std::string name(key.str());
    Field value{&node, v->file, cat(v->path, ".", name)};
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      l_.error(l_.place(v->file, key.source()), value.path,
               "an environment variable name must be non-empty and must not contain '='");
      continue;
    }
    if (auto s = l_.get_env_value(value)) p_.environment[name] = *s;
  }
}

void ProcessKeys::identity() {
  std::optional<Field> group_field = r_.get("group");
  if (auto v = r_.get("user")) p_.run_as = l_.get_user(*v);
  if (group_field) {
    auto gid = l_.get_group(*group_field);
    if (gid && p_.run_as) {
      p_.run_as->gid = *gid;
    } else if (gid) {
      p_.group = *gid;
    }
  }
  if (auto v = r_.get("umask")) p_.umask = l_.get_mode(*v);
}

void ProcessKeys::success_exit_codes() {
  auto v = r_.get("success-exit-codes");
  if (!v) return;
  const toml::array* array = v->node->as_array();
  if (!array) {
    l_.expected(*v, "an array of exit codes like [0, 2]");
    return;
  }
  p_.success_exit_codes.clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::string element_path = cat(v->path, "[", std::to_string(i), "]");
    if (auto code = l_.get_int(Field{array->get(i), v->file, element_path}, 0, 255))
      p_.success_exit_codes.push_back(static_cast<int>(*code));
  }
}

void ProcessKeys::backoff() {
  auto backoff_field = r_.get("backoff");
  auto backoff_max_field = r_.get("backoff-max");
  bool backoff_ok = true;
  if (backoff_field) {
    auto d = l_.get_duration(*backoff_field);
    if (d) p_.backoff = *d;
    backoff_ok = backoff_ok && d;
  }
  if (backoff_max_field) {
    auto d = l_.get_duration(*backoff_max_field);
    if (d) p_.backoff_max = *d;
    backoff_ok = backoff_ok && d;
  }
  if (backoff_ok && p_.backoff_max < p_.backoff) {
    std::string message = "backoff-max (";
    message += format_duration(p_.backoff_max);
    message += ") is shorter than backoff (";
    message += format_duration(p_.backoff);
    message += "); make backoff-max >= backoff";
    const Field& at = backoff_max_field ? *backoff_max_field : *backoff_field;
    l_.error(at, std::move(message));
  }
}

void ProcessKeys::stop_signal() {
  if (auto v = r_.get("stop-signal")) {
    if (auto s = l_.get_signal(*v)) p_.stop_signal = *s;
  }
}

void ProcessKeys::stop_timeout() {
  if (auto v = r_.get("stop-timeout")) {
    if (auto d = l_.get_duration(*v)) p_.stop_timeout = *d;
  }
}

void ProcessKeys::kill_mode() {
  if (auto v = r_.get("kill-mode")) {
    if (auto mode = l_.get_enum<KillMode>(*v, {{"group", KillMode::group},
                                               {"process", KillMode::process},
                                               {"cgroup", KillMode::cgroup}}))
      p_.kill_mode = *mode;
  }
}

void ProcessKeys::depends_on(DependentPlaces& places) {
  if (auto v = r_.get("depends-on")) l_.read_dependencies(*v, p_, places);
}

void ProcessKeys::output() {
  if (auto v = r_.get("stdout")) {
    if (auto sink = l_.get_sink(*v, false)) p_.stdout_sink = *sink;
  }
  if (auto v = r_.get("stderr")) {
    if (auto sink = l_.get_sink(*v, true)) p_.stderr_sink = *sink;
  }
  if (auto v = r_.get("timestamps")) {
    if (auto b = l_.get_bool(*v)) p_.timestamps = *b;
  }
}

void ProcessKeys::buffer_size(std::string_view key) {
  auto v = r_.get(key);
  if (!v) return;
  auto size = l_.get_size(*v);
  if (!size) return;
  if (*size > kMaxBufferSize) {
    l_.error(*v, cat("expected a size of at most 1GiB, got ", std::to_string(*size), " bytes"));
    return;
  }
  p_.log_buffer_size = *size;
}

void ProcessKeys::rlimits() {
  if (auto v = r_.get("rlimits")) {
    if (auto limits = l_.get_rlimits(*v)) p_.rlimits = std::move(*limits);
  }
}

}  // namespace gardien::config_loader
