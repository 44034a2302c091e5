#include "supervisord/check.h"

#include <string>
#include <vector>

#include "common/config.h"
#include "common/duration.h"

namespace gardien {

namespace {

// A dependant that waits for `ready` on a program without a ready check waits only for its
// start-seconds: right for a program that is up at once, a race for one that loads first.
std::vector<Diagnostic> readiness_warnings(const Config& config, const std::string& file) {
  std::vector<Diagnostic> warnings;
  for (const ProgramConfig& p : config.programs) {
    for (const std::string& name : p.depends_on) {
      const ProgramConfig* dependency = config.find(name);
      if (!dependency || dependency->ready || p.condition_on(name) != DependencyCondition::ready)
        continue;
      Diagnostic d;
      d.severity = Diagnostic::Severity::warning;
      d.file = file;
      d.key_path = "program.";
      d.key_path += p.name;
      d.key_path += ".depends-on";
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

}  // namespace

int run_check(const std::filesystem::path& config_path, std::ostream& out, std::ostream& err) {
  LoadResult result = load_config(config_path);
  for (const Diagnostic& d : result.diagnostics) err << d.to_string() << '\n';
  if (!result.ok()) return kCheckInvalid;
  const Config& config = *result.config;
  for (const Diagnostic& d : readiness_warnings(config, config_path.string()))
    err << d.to_string() << '\n';
  std::size_t programs = config.programs.size();
  out << "ok: " << programs << (programs == 1 ? " program" : " programs");
  int instances = config.instance_count();
  if (instances != static_cast<int>(programs)) {
    out << " (" << instances << (instances == 1 ? " instance)" : " instances)");
  }
  out << '\n';
  return kCheckOk;
}

}  // namespace gardien
