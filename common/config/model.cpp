// The config model's own functions: lookups, instance names, enum spellings, diagnostics as text.
#include <cstdlib>

#include "common/config.h"

namespace gardien {

const ProgramConfig* Config::find(std::string_view name) const {
  for (const ProgramConfig& p : programs) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const TaskConfig* Config::find_task(std::string_view name) const {
  for (const TaskConfig& t : tasks) {
    if (t.name() == name) return &t;
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

DependencyCondition ProgramConfig::condition_on(std::string_view dependency) const {
  auto it = dependency_conditions.find(std::string(dependency));
  return it == dependency_conditions.end() ? DependencyCondition::ready : it->second;
}

int ProgramConfig::instance_index(std::string_view instance) const {
  if (instance.size() <= name.size() + 1) return 0;
  int index = 0;
  for (char c : instance.substr(name.size() + 1)) {
    if (c < '0' || c > '9') return 0;
    index = index * 10 + (c - '0');
  }
  return index;
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

std::string_view to_string(DependencyCondition condition) {
  switch (condition) {
    case DependencyCondition::started:
      return "started";
    case DependencyCondition::ready:
      return "ready";
    case DependencyCondition::completed:
      return "completed";
  }
  return "?";
}

std::string_view to_string(ProbeConfig::Kind kind) {
  switch (kind) {
    case ProbeConfig::Kind::notify:
      return "notify";
    case ProbeConfig::Kind::fd:
      return "fd";
    case ProbeConfig::Kind::tcp:
      return "tcp";
    case ProbeConfig::Kind::http:
      return "http";
    case ProbeConfig::Kind::exec:
      return "exec";
    case ProbeConfig::Kind::file:
      return "file";
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

std::string_view to_string(TaskRunWhen when) {
  switch (when) {
    case TaskRunWhen::on_demand:
      return "on-demand";
    case TaskRunWhen::on_start:
      return "on-start";
  }
  return "?";
}

std::string_view to_string(ScheduleConcurrency concurrency) {
  switch (concurrency) {
    case ScheduleConcurrency::forbid:
      return "forbid";
    case ScheduleConcurrency::allow:
      return "allow";
    case ScheduleConcurrency::replace:
      return "replace";
    case ScheduleConcurrency::queue:
      return "queue";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel level : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (to_string(level) == text) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  for (LogFormat format : {LogFormat::text, LogFormat::json}) {
    if (to_string(format) == text) return format;
  }
  return std::nullopt;
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

}  // namespace gardien
