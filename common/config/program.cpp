// A [program.NAME] table, read by groups of keys in the order the keys are documented.
#include "common/config/process_keys.h"

namespace gardien::config_loader {

namespace {

// A program's own keys beside the shared ones. The reads keep one order: it is the order of
// `did you mean` candidates.
class ProgramReader : public ProcessKeys {
 public:
  using ProcessKeys::ProcessKeys;

  void instances();
  void restart_policy();
  void checks();
  void stopping();
  void critical();

 private:
  void start_seconds_and_retries();
};

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
  success_exit_codes();
  start_seconds_and_retries();
}

void ProgramReader::start_seconds_and_retries() {
  if (auto v = r_.get("start-seconds")) {
    if (auto d = l_.get_duration(*v)) p_.start_seconds = *d;
  }
  if (auto v = r_.get("start-retries")) {
    if (auto n = l_.get_int(*v, 0, 1'000'000)) p_.start_retries = static_cast<int>(*n);
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
  stop_signal();
  if (auto v = r_.get("reload-signal")) {
    if (auto s = l_.get_signal(*v)) p_.reload_signal = *s;
  }
  stop_timeout();
  kill_mode();
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

}  // namespace

ProgramConfig Loader::read_program(const TableEntry& entry, DependentPlaces& places) {
  ProgramConfig p;
  p.name = entry.name;
  places.table = "program";
  places.place = entry.place;
  std::string path = cat("program.", entry.name);
  check_name(entry, "program");
  const toml::table* table = entry.node->as_table();
  if (!table) {
    expected(Field{entry.node, entry.place.file, path},
             "a table [program.NAME] with at least a command");
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
  keys.depends_on(places);
  keys.critical();
  keys.output();
  keys.buffer_size("log-buffer-size");
  keys.rlimits();
  r.finish();
  return p;
}

}  // namespace gardien::config_loader
