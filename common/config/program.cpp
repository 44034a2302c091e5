// A [program.NAME] table, read by groups of keys in the order the keys are documented.
#include <algorithm>
#include <cctype>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

// `all` names every program in gardienctl, so no program may be called that.
constexpr std::string_view kReservedProgramName = "all";

bool valid_program_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxProgramName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// One program's keys. The reads keep one order: it is the order of `did you mean` candidates.
class ProgramReader {
 public:
  ProgramReader(Loader& loader, TableReader& table, ProgramConfig& program)
      : l_(loader), r_(table), p_(program) {}

  void command(const Place& at, const std::string& path);
  void environment();
  void identity();
  void instances();
  void restart_policy();
  void backoff();
  void checks();
  void stopping();
  void critical();
  void output();
  void rlimits();

 private:
  Loader& l_;
  TableReader& r_;
  ProgramConfig& p_;
};

void ProgramReader::command(const Place& at, const std::string& path) {
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

void ProgramReader::environment() {
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

void ProgramReader::identity() {
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

void ProgramReader::instances() {
  if (auto v = r_.get("instances")) {
    if (auto n = l_.get_int(*v, 1, kMaxInstances)) p_.instances = static_cast<int>(*n);
  }
  if (auto v = r_.get("autostart")) {
    if (auto b = l_.get_bool(*v)) p_.autostart = *b;
  }
}

void ProgramReader::restart_policy() {
  if (auto v = r_.get("restart")) {
    if (auto policy = l_.get_enum<RestartPolicy>(*v, {{"always", RestartPolicy::always},
                                                      {"on-failure", RestartPolicy::on_failure},
                                                      {"never", RestartPolicy::never}}))
      p_.restart = *policy;
  }
  if (auto v = r_.get("success-exit-codes")) {
    if (const toml::array* array = v->node->as_array()) {
      p_.success_exit_codes.clear();
      for (std::size_t i = 0; i < array->size(); ++i) {
        std::string element_path = v->path;
        element_path += '[';
        element_path += std::to_string(i);
        element_path += ']';
        if (auto code = l_.get_int(Field{array->get(i), v->file, element_path}, 0, 255))
          p_.success_exit_codes.push_back(static_cast<int>(*code));
      }
    } else {
      l_.expected(*v, "an array of exit codes like [0, 2]");
    }
  }
  if (auto v = r_.get("start-seconds")) {
    if (auto d = l_.get_duration(*v)) p_.start_seconds = *d;
  }
  if (auto v = r_.get("start-retries")) {
    if (auto n = l_.get_int(*v, 0, 1'000'000)) p_.start_retries = static_cast<int>(*n);
  }
}

void ProgramReader::backoff() {
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

// ready, ready-timeout, health, watchdog and health-restarts (docs/config.md, Checks).
void ProgramReader::checks() {
  auto ready = r_.get("ready");
  if (ready) p_.ready = l_.get_probe(*ready, false);
  if (auto v = r_.get("ready-timeout")) {
    if (auto d = l_.get_duration(*v)) {
      p_.ready_timeout = *d;
      if (!ready)
        l_.warning(*v,
                   "ready-timeout only matters with a ready check; add ready = ... or remove it");
    }
  }
  auto health = r_.get("health");
  if (health) p_.health = l_.get_probe(*health, true);
  auto watchdog = r_.get("watchdog");
  if (watchdog) {
    if (auto d = l_.get_duration(*watchdog)) p_.watchdog = *d;
  }
  if (auto v = r_.get("health-restarts")) {
    if (auto n = l_.get_int(*v, 0, 1'000'000)) {
      p_.health_restarts = static_cast<int>(*n);
      if (!health && !watchdog)
        l_.warning(*v,
                   "health-restarts only matters with a health check or a watchdog; add "
                   "health = ... or watchdog = ..., or remove it");
    }
  }
}

void ProgramReader::stopping() {
  if (auto v = r_.get("stop-signal")) {
    if (auto s = l_.get_signal(*v)) p_.stop_signal = *s;
  }
  if (auto v = r_.get("reload-signal")) {
    if (auto s = l_.get_signal(*v)) p_.reload_signal = *s;
  }
  if (auto v = r_.get("stop-timeout")) {
    if (auto d = l_.get_duration(*v)) p_.stop_timeout = *d;
  }
  if (auto v = r_.get("kill-mode")) {
    if (auto mode = l_.get_enum<KillMode>(*v, {{"group", KillMode::group},
                                               {"process", KillMode::process},
                                               {"cgroup", KillMode::cgroup}}))
      p_.kill_mode = *mode;
  }
}

void ProgramReader::critical() {
  if (auto v = r_.get("critical")) {
    if (auto b = l_.get_bool(*v)) p_.critical = *b;
  }
  if (auto v = r_.get("exit-code")) {
    if (auto code = l_.get_int(*v, 0, 255)) {
      p_.exit_code = static_cast<int>(*code);
      if (!p_.critical)
        l_.warning(
            *v, "exit-code only matters for a critical program; add critical = true or remove it");
    }
  }
}

void ProgramReader::output() {
  if (auto v = r_.get("stdout")) {
    if (auto sink = l_.get_sink(*v, false)) p_.stdout_sink = *sink;
  }
  if (auto v = r_.get("stderr")) {
    if (auto sink = l_.get_sink(*v, true)) p_.stderr_sink = *sink;
  }
  if (auto v = r_.get("timestamps")) {
    if (auto b = l_.get_bool(*v)) p_.timestamps = *b;
  }
  if (auto v = r_.get("log-buffer-size")) {
    if (auto size = l_.get_size(*v)) {
      if (*size > (std::uint64_t{1} << 30)) {
        l_.error(*v, cat("expected a size of at most 1GiB, got ", std::to_string(*size), " bytes"));
      } else {
        p_.log_buffer_size = *size;
      }
    }
  }
}

void ProgramReader::rlimits() {
  if (auto v = r_.get("rlimits")) {
    if (auto limits = l_.get_rlimits(*v)) p_.rlimits = std::move(*limits);
  }
}

}  // namespace

ProgramConfig Loader::read_program(const ProgramEntry& entry, ProgramPlaces& places, bool& ok) {
  int before = errors_;
  ProgramConfig p;
  p.name = entry.name;
  places.place = entry.place;
  std::string path = cat("program.", entry.name);
  if (!valid_program_name(entry.name)) {
    std::string message = "invalid program name ";
    message += quote(entry.name);
    message += ": use letters, digits, '_' and '-' (at most 64 characters)";
    error(entry.place, path, std::move(message));
  } else if (entry.name == kReservedProgramName) {
    error(entry.place, path,
          "the program name \"all\" is reserved (gardienctl's `all` names every program); "
          "pick another name");
  }
  const toml::table* table = entry.node->as_table();
  if (!table) {
    expected(Field{entry.node, entry.place.file, path},
             "a table [program.NAME] with at least a command");
    ok = false;
    return p;
  }
  TableReader r(*this, *table, entry.place.file, path);
  ProgramReader keys(*this, r, p);
  keys.command(entry.place, path);
  keys.environment();
  keys.identity();
  keys.instances();
  keys.restart_policy();
  keys.backoff();
  keys.checks();
  keys.stopping();
  if (auto v = r.get("depends-on")) read_dependencies(*v, p, places);
  keys.critical();
  keys.output();
  keys.rlimits();
  r.finish();
  ok = errors_ == before;
  return p;
}

}  // namespace gardien::config_loader
