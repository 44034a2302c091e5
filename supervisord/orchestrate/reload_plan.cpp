#include "supervisord/orchestrate/reload_plan.h"

#include "common/duration.h"

namespace gardien {

namespace {

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

std::string group_text(const std::optional<gid_t>& gid) {
  return gid ? std::to_string(*gid) : std::string("(none)");
}

void note(std::vector<std::string>& out, const char* key, const std::string& from,
          const std::string& to, bool needs_restart) {
  if (from == to) return;
  std::string line = key;
  line += ": ";
  line += from.empty() ? "(default)" : from;
  line += " -> ";
  line += to.empty() ? "(default)" : to;
  if (needs_restart) line += " (takes effect when gardien restarts)";
  out.push_back(std::move(line));
}

}  // namespace

bool differs_only_in_instances(const ProgramConfig& a, const ProgramConfig& b) {
  ProgramConfig same = b;
  same.instances = a.instances;
  return a == same && a.instances != b.instances;
}

namespace {
// Tasks have no process to restart: a change applies to their next run.
void plan_tasks(const Config& running, const Config& next, std::vector<std::string>& lines) {
  for (const TaskConfig& t : running.tasks) {
    if (!next.find_task(t.name()))
      lines.push_back("remove task " + t.name() +
                      " (its queued runs are cancelled, running ones finish)");
  }
  for (const TaskConfig& t : next.tasks) {
    const TaskConfig* old = running.find_task(t.name());
    if (!old) {
      lines.push_back("add task " + t.name());
    } else if (!(*old == t)) {
      lines.push_back("change task " + t.name() + " (from its next run)");
    }
  }
}
}  // namespace

protocol::ReloadPlan plan_reload(const Config& running, const Config& next) {
  protocol::ReloadPlan plan;
  plan_tasks(running, next, plan.tasks);
  for (const ProgramConfig& p : running.programs) {
    if (!next.find(p.name)) plan.removed.push_back(p.name);
  }
  for (const ProgramConfig& p : next.programs) {
    const ProgramConfig* old = running.find(p.name);
    if (!old) {
      plan.added.push_back(p.name);
    } else if (*old == p) {
      plan.unchanged.push_back(p.name);
    } else if (differs_only_in_instances(*old, p)) {
      plan.scaled.push_back({p.name, old->instances, p.instances});
    } else {
      plan.changed.push_back(p.name);
    }
  }
  const SupervisorConfig& a = running.supervisor;
  const SupervisorConfig& b = next.supervisor;
  std::vector<std::string>& s = plan.supervisor;
  note(s, "socket", a.socket, b.socket, true);
  note(s, "socket-mode", octal(a.socket_mode), octal(b.socket_mode), true);
  note(s, "socket-group", group_text(a.socket_group), group_text(b.socket_group), true);
  note(s, "socket-readers", group_text(a.socket_readers), group_text(b.socket_readers), true);
  note(s, "log-level", std::string(to_string(a.log_level)), std::string(to_string(b.log_level)),
       false);
  note(s, "log-format", std::string(to_string(a.log_format)), std::string(to_string(b.log_format)),
       false);
  note(s, "shutdown-timeout", format_duration(a.shutdown_timeout),
       format_duration(b.shutdown_timeout), false);
  return plan;
}

}  // namespace gardien
