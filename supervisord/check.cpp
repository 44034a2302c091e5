#include "supervisord/check.h"

#include <chrono>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/duration.h"
#include "common/schedule.h"
#include "common/time_zone.h"

namespace gardien {

namespace {

// Fire times `--verbose` prints for each scheduled task.
constexpr int kFireTimesShown = 3;

Diagnostic depends_on_warning(const std::string& file, const ProgramConfig& p) {
  Diagnostic d;
  d.severity = Diagnostic::Severity::warning;
  d.file = file;
  d.key_path = "program.";
  d.key_path += p.name;
  d.key_path += ".depends-on";
  return d;
}

// A dependant that waits for `ready` on a program without a ready check waits only for its
// start-seconds: right for a program that is up at once, a race for one that loads first.
std::vector<Diagnostic> readiness_warnings(const Config& config, const std::string& file) {
  std::vector<Diagnostic> warnings;
  for (const ProgramConfig& p : config.programs) {
    for (const std::string& name : p.depends_on) {
      const ProgramConfig* dependency = config.find(name);
      if (!dependency || dependency->ready || p.condition_on(name) != DependencyCondition::ready)
        continue;
      Diagnostic d = depends_on_warning(file, p);
      d.message = p.name;
      d.message += " depends on ";
      d.message += name;
      d.message += ", which has no `ready` check: it counts as ready after start-seconds (";
      d.message += format_duration(dependency->start_seconds);
      d.message += "); add `ready = ...` to ";
      d.message += name;
      d.message += " (docs/readiness.md)";
      warnings.push_back(std::move(d));
    }
  }
  return warnings;
}

// One-shot work is a task's: a program waited for until it exits is what a task does better
// (a timeout, retries, a run's outcome). Still accepted, so existing configs keep working.
std::vector<Diagnostic> completed_program_warnings(const Config& config, const std::string& file) {
  std::vector<Diagnostic> warnings;
  for (const ProgramConfig& p : config.programs) {
    for (const std::string& name : p.depends_on) {
      if (!config.find(name) || p.condition_on(name) != DependencyCondition::completed) continue;
      Diagnostic d = depends_on_warning(file, p);
      d.message = p.name;
      d.message += " waits for the program ";
      d.message += name;
      d.message += " to complete: one-shot work is a task's; make it [task.";
      d.message += name;
      d.message += "] (docs/config.md, Tasks)";
      warnings.push_back(std::move(d));
    }
  }
  return warnings;
}

void print_counts(const Config& config, std::ostream& out) {
  std::size_t programs = config.programs.size();
  out << "ok: " << programs << (programs == 1 ? " program" : " programs");
  int instances = config.instance_count();
  if (instances != static_cast<int>(programs)) {
    out << " (" << instances << (instances == 1 ? " instance)" : " instances)");
  }
  std::size_t tasks = config.tasks.size();
  if (tasks != 0) out << ", " << tasks << (tasks == 1 ? " task" : " tasks");
  out << '\n';
}

// The task's schedule, its zone and its next fire times, from now.
void print_schedule(const TaskConfig& task, const LocalTimeZone& local, std::ostream& out) {
  ScheduleParse parsed = parse_schedule(task.schedule);
  if (!parsed.schedule) return;  // the loader refused it already
  out << "task " << task.name() << ": schedule \"" << task.schedule << '"';
  if (parsed.schedule->kind == ScheduleKind::reboot) {
    out << ": runs once when the daemon starts, never on the clock\n";
    return;
  }
  const date::time_zone* zone = local.zone;
  if (!task.time_zone.empty()) zone = find_time_zone(task.time_zone).zone;
  if (parsed.schedule->kind == ScheduleKind::every) {
    out << ", elapsed time from when the daemon starts; if it started now:\n";
  } else if (task.time_zone.empty()) {
    out << " in the local zone, " << local.source << ":\n";
  } else {
    out << " in " << task.time_zone << ":\n";
  }
  Instant at = std::chrono::system_clock::now();
  for (int i = 0; i < kFireTimesShown; ++i) {
    std::optional<Instant> next = next_after(*parsed.schedule, at, *zone);
    if (!next) break;
    out << "  " << format_wall_time(*next, *zone) << '\n';
    at = *next;
  }
}

}  // namespace

int run_check(const std::filesystem::path& config_path, std::ostream& out, std::ostream& err,
              bool verbose) {
  LoadResult result = load_config(config_path);
  for (const Diagnostic& d : result.diagnostics) err << d.to_string() << '\n';
  if (!result.ok()) return kCheckInvalid;
  const Config& config = *result.config;
  for (const Diagnostic& d : readiness_warnings(config, config_path.string()))
    err << d.to_string() << '\n';
  for (const Diagnostic& d : completed_program_warnings(config, config_path.string()))
    err << d.to_string() << '\n';
  print_counts(config, out);
  if (verbose) {
    LocalTimeZone local = local_time_zone();
    for (const TaskConfig& task : config.tasks) {
      if (!task.schedule.empty()) print_schedule(task, local, out);
    }
  }
  return kCheckOk;
}

}  // namespace gardien
