#include "supervisord/orchestrate/orchestrator.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "supervisord/orchestrate/container_init.h"

namespace gardien {

std::string_view to_string(DaemonMode mode) {
  switch (mode) {
    case DaemonMode::running:
      return "running";
    case DaemonMode::graceful_shutdown:
      return "graceful shutdown";
    case DaemonMode::forceful_shutdown:
      return "forceful shutdown";
  }
  return "running";
}

InstanceFacts facts_of(std::string name, const ProgramConfig& config,
                       const LifecycleStatus& status) {
  InstanceFacts f;
  f.name = std::move(name);
  f.program = config.name;
  f.state = status.state;
  f.killed = status.killed;
  f.started =
      status.state == State::running || (status.state == State::starting && status.main_alive);
  f.last_exit = status.last_exit;
  f.reason = status.reason;
  // Exited now, and that run ended well: a one-shot restarted since is not complete.
  f.completed = status.state == State::exited && completed_successfully(status, config);
  f.ended = !status.reason.empty() ? status.reason
            : status.last_exit     ? status.last_exit->to_string()
                                   : std::string();
  return f;
}

namespace {

// As a shell reports it: the last exit, 128+N, or 127/126 when it could not be executed.
int exit_code(const InstanceFacts& f) {
  LifecycleStatus status;
  status.state = f.state;
  status.reason = f.reason;
  status.last_exit = f.last_exit;
  return exit_code_of(status);
}

// What a name's dependencies are read from: a program's settings, or a task's shared ones.
const ProgramConfig* settings_of(const Config& config, std::string_view name) {
  if (const ProgramConfig* program = config.find(name)) return program;
  const TaskConfig* task = config.find_task(name);
  return task ? &task->process : nullptr;
}

bool ended(State s) {
  return s == State::exited || s == State::fatal;
}
bool on_its_way(State s) {
  return s == State::starting || s == State::running;
}

// Whether one instance meets what a dependent asks of it.
bool meets(const InstanceFacts& f, DependencyCondition condition) {
  switch (condition) {
    case DependencyCondition::started:
      return f.started;
    case DependencyCondition::ready:
      return f.ready;
    case DependencyCondition::completed:
      return f.completed;
  }
  return false;
}

// The instances of each program, for the per-program questions dependencies ask.
class ByProgram {
 public:
  explicit ByProgram(const std::vector<InstanceFacts>& instances) {
    for (const InstanceFacts& f : instances) programs_[f.program].push_back(&f);
  }
  const std::vector<const InstanceFacts*>& of(const std::string& program) const {
    static const std::vector<const InstanceFacts*> none;
    auto it = programs_.find(program);
    return it == programs_.end() ? none : it->second;
  }
  // Every instance of `program` meets `condition` (a program without instances never does).
  bool met(const std::string& program, DependencyCondition condition) const {
    const auto& insts = of(program);
    return !insts.empty() && std::all_of(insts.begin(), insts.end(), [&](const InstanceFacts* f) {
      return meets(*f, condition);
    });
  }
  bool any_process(const std::string& program) const {
    const auto& insts = of(program);
    return std::any_of(insts.begin(), insts.end(),
                       [](const InstanceFacts* f) { return has_process(f->state); });
  }

 private:
  std::map<std::string, std::vector<const InstanceFacts*>> programs_;
};

bool dependencies_met(const ByProgram& index, const ProgramConfig& config) {
  return std::all_of(
      config.depends_on.begin(), config.depends_on.end(),
      [&](const std::string& dep) { return index.met(dep, config.condition_on(dep)); });
}

// "db", or "migrate, which failed: exit code 3" or "db (fatal): ..." when nothing will run it
// again on its own.
std::string waiting_item(const ByProgram& index, const std::string& dep,
                         DependencyCondition condition) {
  const auto& insts = index.of(dep);
  if (insts.empty()) return dep + ", which does not exist";
  for (const InstanceFacts* f : insts) {
    if (meets(*f, condition) || !ended(f->state) || f->start_requested) continue;
    if (f->state == State::fatal)
      return dep + " (fatal)" + (f->ended.empty() ? "" : ": " + f->ended);
    std::string item = dep + (f->completed ? ", which exited" : ", which failed");
    if (!f->ended.empty()) item += ": " + f->ended;
    return item;
  }
  return dep;
}

std::string waiting_text(const ByProgram& index, const ProgramConfig& config) {
  std::vector<std::string> items;
  bool annotated = false;
  for (const std::string& dep : config.depends_on) {
    DependencyCondition condition = config.condition_on(dep);
    if (index.met(dep, condition)) continue;
    items.push_back(waiting_item(index, dep, condition));
    annotated = annotated || items.back() != dep;
  }
  // Plain names read "db cache", as they always have; an annotated one needs a firmer separator.
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += annotated ? "; " : " ";
    text += item;
  }
  return text;
}

std::vector<std::string> closure(const std::vector<InstanceFacts>& instances,
                                 const ByProgram& index, const Config& config,
                                 const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  std::set<std::string> visiting;
  std::map<std::string, const InstanceFacts*> by_name;
  for (const InstanceFacts& f : instances) by_name.emplace(f.name, &f);
  std::function<void(const std::string&)> want = [&](const std::string& name) {
    auto it = by_name.find(name);
    if (it == by_name.end() || !visiting.insert(name).second) return;  // a cycle or done
    out.push_back(name);
    const ProgramConfig* program = settings_of(config, it->second->program);
    if (!program) return;
    for (const std::string& dep : program->depends_on) {
      DependencyCondition condition = program->condition_on(dep);
      if (index.met(dep, condition)) continue;
      for (const InstanceFacts* d : index.of(dep)) {
        if (!meets(*d, condition) && !on_its_way(d->state)) want(d->name);
      }
    }
  };
  for (const std::string& root : roots) want(root);
  return out;
}

// Graceful shutdown, reverse dependency order: an instance stops once nothing that depends on
// its program has a process left (whatever the condition); one waiting to restart stops at once.
bool may_stop(const InstanceFacts& f, const ByProgram& index, const Config& config) {
  if (f.state == State::backoff) return true;
  auto needs_it = [&](const ProgramConfig& q) {
    const auto& deps = q.depends_on;
    return std::find(deps.begin(), deps.end(), f.program) != deps.end() &&
           index.any_process(q.name);
  };
  return std::none_of(config.programs.begin(), config.programs.end(), needs_it) &&
         std::none_of(config.tasks.begin(), config.tasks.end(),
                      [&](const TaskConfig& t) { return needs_it(t.process); });
}

void decide_starts(const std::vector<InstanceFacts>& instances, const Config& config,
                   const DaemonFacts& daemon, OrchestratorDecision& d) {
  ByProgram index(instances);
  std::size_t budget = daemon.start_budget;
  for (const InstanceFacts& f : instances) {
    if (!f.start_requested) continue;
    const ProgramConfig* program = settings_of(config, f.program);
    if (program && !dependencies_met(index, *program)) {
      d.waiting.push_back({f.name, waiting_text(index, *program)});
      continue;
    }
    if (budget == 0) {
      d.more_to_start = true;
      continue;
    }
    --budget;
    d.start.push_back(f.name);
  }
}

// The daemon must end: a critical program ended for good, or the command ended.
std::optional<Ending> ending(const std::vector<InstanceFacts>& instances, const Config& config,
                             const DaemonFacts& daemon) {
  for (const InstanceFacts& f : instances) {
    if (f.dropping || f.start_requested || f.restart_requested) continue;
    const ProgramConfig* program = config.find(f.program);
    if (ended(f.state) && program && program->critical && !daemon.critical_exit)
      return Ending{f.name, "a critical program ended", program->exit_code.value_or(exit_code(f))};
    if (daemon.command && f.name == *daemon.command && !has_process(f.state) &&
        f.state != State::backoff)
      return Ending{f.name, "the command ended", std::nullopt};
  }
  return std::nullopt;
}

void decide_running(const std::vector<InstanceFacts>& instances, const ByProgram& index,
                    const Config& config, const DaemonFacts& daemon, OrchestratorDecision& d) {
  // A reload's restart, once the old process is gone: after its dependencies, like any start.
  std::vector<std::string> restarts;
  for (const InstanceFacts& f : instances) {
    if (f.restart_requested && !has_process(f.state) && !f.dropping) restarts.push_back(f.name);
  }
  d.request_start = closure(instances, index, config, restarts);
  if (d.request_start.empty()) {
    decide_starts(instances, config, daemon, d);
    d.end = ending(instances, config, daemon);
    return;
  }
  // Decided as if the requests were already marked, as they will be.
  std::set<std::string> requested(d.request_start.begin(), d.request_start.end());
  std::vector<InstanceFacts> marked = instances;
  for (InstanceFacts& f : marked) {
    if (!requested.count(f.name)) continue;
    f.start_requested = true;
    f.restart_requested = false;
  }
  decide_starts(marked, config, daemon, d);
  d.end = ending(marked, config, daemon);
}

void decide_shutdown(const std::vector<InstanceFacts>& instances, const ByProgram& index,
                     const Config& config, const DaemonFacts& daemon, OrchestratorDecision& d) {
  bool forceful = daemon.mode == DaemonMode::forceful_shutdown;
  for (const InstanceFacts& f : instances) {
    if (forceful && (has_process(f.state) || f.state == State::backoff) && !f.killed) {
      d.kill.push_back(f.name);
    } else if (!forceful && (on_its_way(f.state) || f.state == State::backoff) &&
               may_stop(f, index, config)) {
      d.stop.push_back(f.name);
    }
  }
  d.programs_down = std::none_of(instances.begin(), instances.end(),
                                 [](const InstanceFacts& f) { return has_process(f.state); });
}

}  // namespace

OrchestratorDecision orchestrate(const std::vector<InstanceFacts>& instances, const Config& config,
                                 const DaemonFacts& daemon) {
  OrchestratorDecision d;
  ByProgram index(instances);
  if (daemon.mode == DaemonMode::running) {
    decide_running(instances, index, config, daemon, d);
  } else {
    decide_shutdown(instances, index, config, daemon, d);
  }
  for (const InstanceFacts& f : instances) {
    if (f.dropping && !has_process(f.state)) d.remove.push_back(f.name);
  }
  // The command's own exit code wins; then a critical program's; else whether it was forced.
  d.exit_code = daemon.mode == DaemonMode::forceful_shutdown ? 1 : 0;
  const InstanceFacts* command = nullptr;
  for (const InstanceFacts& f : instances) {
    if (daemon.command && f.name == *daemon.command) command = &f;
  }
  if (command) {
    d.exit_code = exit_code(*command);
  } else if (daemon.critical_exit) {
    d.exit_code = *daemon.critical_exit;
  }
  return d;
}

std::vector<std::string> start_closure(const std::vector<InstanceFacts>& instances,
                                       const Config& config,
                                       const std::vector<std::string>& roots) {
  return closure(instances, ByProgram(instances), config, roots);
}

std::string waiting_for(const std::vector<InstanceFacts>& instances, const Config& config,
                        const InstanceFacts& instance) {
  const ProgramConfig* program = settings_of(config, instance.program);
  if (!program) return {};
  ByProgram index(instances);
  if (dependencies_met(index, *program)) return {};
  return waiting_text(index, *program);
}

}  // namespace gardien
