// A [task.NAME] table: the keys shared with programs (process_keys.cpp), then a task's own:
// when it runs, its schedule, its limits and its history.
#include "common/config/process_keys.h"
#include "common/schedule.h"

namespace gardien::config_loader {

namespace {

constexpr std::int64_t kMaxRetries = 1000;
constexpr std::int64_t kMaxHistory = 10'000;

// A program's keys that mean nothing for a run, and what a task has instead.
struct ProgramOnlyKey {
  std::string_view key;
  std::string_view instead;
};
constexpr ProgramOnlyKey kProgramOnlyKeys[] = {
    {"instances", "for runs at once, use max-concurrent"},
    {"autostart", "to run it when the daemon starts, use run = \"on-start\""},
    {"restart", "for attempts after a failure, use retries"},
    {"start-seconds", "a run is done when it exits; remove it"},
    {"start-retries", "for attempts after a failure, use retries"},
    {"ready", "a run is done when it exits; remove it"},
    {"ready-timeout", "to limit an attempt, use timeout"},
    {"health", "a run is done when it exits; remove it"},
    {"watchdog", "to limit an attempt, use timeout"},
    {"health-restarts", "for attempts after a failure, use retries"},
    {"critical", "a run's outcome is kept in its history (gardienctl jobs); remove it"},
    {"exit-code", "a run's outcome is kept in its history (gardienctl jobs); remove it"},
    {"reload-signal", "a run is not reloaded; remove it"},
    {"log-buffer-size", "a task's output kept per run is max-output"},
};

// A task's own keys beside the shared ones. The reads keep one order: it is the order of
// `did you mean` candidates.
class TaskReader : public ProcessKeys {
 public:
  TaskReader(Loader& loader, TableReader& table, const toml::table& toml, TaskConfig& task)
      : ProcessKeys(loader, table, task.process), toml_(toml), t_(task) {}

  void program_only_keys(int file);
  void when();  // run, schedule, time-zone, concurrency
  void attempts();
  void deadline();
  void limits();

 private:
  void schedule(const std::optional<Field>& run);
  void time_zone();
  void concurrency();

  const toml::table& toml_;
  TaskConfig& t_;
  bool schedule_written_ = false;
  std::optional<ScheduleKind> schedule_kind_;  // set when a valid schedule was read
};

void TaskReader::program_only_keys(int file) {
  for (const ProgramOnlyKey& only : kProgramOnlyKeys) {
    r_.set_aside(only.key);
    for (auto&& [key, node] : toml_) {
      if (key.str() != only.key) continue;
      l_.error(l_.place(file, key.source()), r_.child(only.key),
               cat(only.key, " applies only to programs; ", only.instead));
    }
  }
}

void TaskReader::when() {
  std::optional<Field> run = r_.get("run");
  if (run) {
    if (auto when = l_.get_enum<TaskRunWhen>(
            *run, {{"on-demand", TaskRunWhen::on_demand}, {"on-start", TaskRunWhen::on_start}}))
      t_.run = *when;
  }
  schedule(run);
  time_zone();
  concurrency();
}

void TaskReader::schedule(const std::optional<Field>& run) {
  auto v = r_.get("schedule");
  if (!v) return;
  schedule_written_ = true;
  auto text = l_.get_string(*v, "a schedule like \"*/15 * * * *\", \"@daily\" or \"@every 10m\"");
  if (!text) return;
  ScheduleParse parsed = parse_schedule(*text);
  if (!parsed.schedule) {
    l_.error(*v, parsed.error + " (docs/schedules.md)");
    return;
  }
  t_.schedule = *text;
  schedule_kind_ = parsed.schedule->kind;
  if (schedule_kind_ != ScheduleKind::reboot) return;
  if (run && t_.run == TaskRunWhen::on_demand) {
    l_.error(*v, "@reboot means run = \"on-start\", but run is \"on-demand\"; remove one of them");
    return;
  }
  t_.run = TaskRunWhen::on_start;
}

void TaskReader::time_zone() {
  auto v = r_.get("time-zone");
  if (!v) return;
  auto name = l_.get_string(*v, "an IANA time zone name like \"Europe/Paris\"");
  if (!name) return;
  if (std::optional<std::string> unknown = l_.unknown_time_zone(*name)) {
    l_.error(*v, *unknown);
    return;
  }
  t_.time_zone = *name;
  if (!schedule_written_) {
    l_.warning(*v, "time-zone only matters with a schedule; add schedule = \"...\" or remove it");
  } else if (schedule_kind_ == ScheduleKind::every) {
    l_.warning(*v, "time-zone does not matter for @every, which counts elapsed time; remove it");
  } else if (schedule_kind_ == ScheduleKind::reboot) {
    l_.warning(*v, "time-zone does not matter for @reboot, which runs at start; remove it");
  }
}

void TaskReader::concurrency() {
  auto v = r_.get("concurrency");
  if (!v) return;
  auto policy = l_.get_enum<ScheduleConcurrency>(*v, {{"forbid", ScheduleConcurrency::forbid},
                                                      {"allow", ScheduleConcurrency::allow},
                                                      {"replace", ScheduleConcurrency::replace},
                                                      {"queue", ScheduleConcurrency::queue}});
  if (!policy) return;
  t_.concurrency = *policy;
  if (!schedule_written_) {
    l_.warning(*v,
               "concurrency only matters with a schedule (gardienctl run always queues); add "
               "schedule = \"...\" or remove it");
  } else if (schedule_kind_ == ScheduleKind::reboot) {
    l_.warning(*v, "concurrency does not matter for @reboot, which runs once at start; remove it");
  }
}

// timeout, retries, success-exit-codes, backoff, backoff-max.
void TaskReader::attempts() {
  if (auto v = r_.get("timeout")) {
    if (auto d = l_.get_duration(*v)) t_.timeout = *d;
  }
  if (auto v = r_.get("retries")) {
    if (auto n = l_.get_int(*v, 0, kMaxRetries)) t_.retries = static_cast<int>(*n);
  }
  success_exit_codes();
  backoff();
}

void TaskReader::deadline() {
  if (auto v = r_.get("deadline")) {
    if (auto d = l_.get_duration(*v)) t_.deadline = *d;
  }
}

// history, max-concurrent, args.
void TaskReader::limits() {
  if (auto v = r_.get("history")) {
    if (auto n = l_.get_int(*v, 0, kMaxHistory)) t_.history = static_cast<int>(*n);
  }
  if (auto v = r_.get("max-concurrent")) {
    if (auto n = l_.get_int(*v, 1, kMaxInstances)) t_.max_concurrent = static_cast<int>(*n);
  }
  if (auto v = r_.get("args")) {
    if (auto b = l_.get_bool(*v)) t_.args = *b;
  }
}

// What a run needs of a program's settings that a task has no key for.
ProgramConfig run_settings(const std::string& name) {
  ProgramConfig p;
  p.name = name;
  p.restart = RestartPolicy::never;
  p.start_seconds = Duration{0};
  p.instances = 1;
  p.autostart = false;
  return p;
}

}  // namespace

TaskConfig Loader::read_task(const TableEntry& entry, DependentPlaces& places) {
  TaskConfig t;
  t.process = run_settings(entry.name);
  places.table = "task";
  places.place = entry.place;
  std::string path = cat("task.", entry.name);
  check_name(entry, "task");
  const toml::table* table = entry.node->as_table();
  if (!table) {
    expected(Field{entry.node, entry.place.file, path},
             "a table [task.NAME] with at least a command");
    return t;
  }
  TableReader r(*this, *table, entry.place.file, path);
  TaskReader keys(*this, r, *table, t);
  keys.command(entry.place, path);
  keys.environment();
  keys.identity();
  keys.when();
  keys.attempts();
  keys.deadline();
  keys.stop_signal();
  keys.stop_timeout();
  keys.kill_mode();
  keys.depends_on(places);
  keys.output();
  keys.buffer_size("max-output");
  keys.limits();
  keys.rlimits();
  keys.program_only_keys(entry.place.file);
  r.finish();
  return t;
}

}  // namespace gardien::config_loader
