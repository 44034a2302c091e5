// The Supervisor's changes to what runs: a reload and its plan, scaling, programs added and
// removed. supervisor.h declares them; supervisor.cpp starts, stops and shuts down.
#include <algorithm>

#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/instance_status.h"
#include "supervisord/orchestrate/reload_plan.h"
#include "supervisord/orchestrate/supervisor.h"
#include "supervisord/output/output_hub.h"

namespace gardien {

ReloadOutcome Supervisor::reload(bool dry_run) {
  ReloadOutcome outcome;
  LoadResult result = load_config(config_path_);
  outcome.diagnostics = std::move(result.diagnostics);
  for (const Diagnostic& d : outcome.diagnostics) {
    log::write(d.severity == Diagnostic::Severity::error ? LogLevel::error : LogLevel::warn,
               d.to_string(), {{"event", "config_diagnostic"}});
  }
  bool broken = !result.ok() || std::any_of(outcome.diagnostics.begin(), outcome.diagnostics.end(),
                                            [](const Diagnostic& d) {
                                              return d.severity == Diagnostic::Severity::error;
                                            });
  if (broken) {
    log::error("config reload failed: the running config is unchanged",
               {{"event", "reload"}, {"ok", false}, {"config", config_path_.string()}});
    return outcome;
  }
  protocol::ReloadPlan plan = plan_reload(config_, *result.config);
  log::info(dry_run ? "reload planned (dry run)" : "reloading",
            {{"event", "reload"},
             {"ok", true},
             {"dry_run", dry_run},
             {"config", config_path_.string()},
             {"plan", protocol::to_json(plan)}});
  if (!dry_run) apply(*result.config, plan);
  outcome.plan = std::move(plan);
  return outcome;
}

void Supervisor::apply(const Config& next, const protocol::ReloadPlan& plan) {
  Config old = std::move(config_);
  config_ = next;
  // What takes effect at once; the socket's settings wait for a restart (the plan says so).
  config_.supervisor.socket = old.supervisor.socket;
  config_.supervisor.socket_mode = old.supervisor.socket_mode;
  config_.supervisor.socket_group = old.supervisor.socket_group;
  config_.supervisor.socket_readers = old.supervisor.socket_readers;
  log::configure(log_level_override_.value_or(config_.supervisor.log_level),
                 log_format_override_.value_or(config_.supervisor.log_format));
  jobs_->set_config(config_);
  open_task_history();

  for (const std::string& name : plan.removed) {
    for (Program* p : instances_of(name)) drop(*entry(p->name()));
  }
  std::vector<std::string> to_start;  // with what they need, once the plan is applied
  for (const std::string& name : plan.changed) {
    const ProgramConfig& cfg = *config_.find(name);
    std::vector<std::string> names = cfg.instance_names();
    bool was_wanted = false;
    for (Program* p : instances_of(name)) {
      Entry& e = *entry(p->name());
      was_wanted = was_wanted || p->wanted();
      e.start_requested = false;
      e.restart_requested = false;
      if (std::find(names.begin(), names.end(), p->name()) == names.end()) {
        drop(e);  // 1 <-> N: the old instance names go away
        continue;
      }
      p->replace_config(cfg);
      if (!p->wanted()) continue;
      if (has_process(p->state())) {
        e.restart_requested = true;
        p->stop();
      } else {
        to_start.push_back(p->name());
      }
    }
    for (const std::string& n : names) {
      if (add_instance(cfg, n) && was_wanted) to_start.push_back(n);
    }
  }
  for (const protocol::ScaleChange& change : plan.scaled)
    scale(*config_.find(change.program), change, to_start);
  for (const std::string& name : plan.added) {
    const ProgramConfig& cfg = *config_.find(name);
    for (const std::string& n : cfg.instance_names()) {
      if (add_instance(cfg, n) && cfg.autostart) to_start.push_back(n);
    }
  }
  update_output_names();
  request_start(to_start);
  evaluate();
}

void Supervisor::scale(const ProgramConfig& cfg, const protocol::ScaleChange& change,
                       std::vector<std::string>& to_start) {
  std::vector<std::string> names = cfg.instance_names();
  // From or to one instance, `web` and `web.0` are the same process under another name.
  if (change.from == 1 || change.to == 1) {
    std::string from = change.from == 1 ? cfg.name : cfg.name + ".0";
    std::string to = change.to == 1 ? cfg.name : cfg.name + ".0";
    Entry* e = entry(from);
    if (e && !e->dropping && !instance(to)) rename(*e->program, to);
  }
  bool wanted = false;  // new instances follow the ones there: kept up or stopped on purpose
  for (Program* p : instances_of(change.program)) {
    Entry& e = *entry(p->name());
    if (e.dropping) continue;
    wanted = wanted || p->wanted();
    if (std::find(names.begin(), names.end(), p->name()) == names.end()) {
      drop(e);
    } else {
      p->replace_config(cfg);  // only `instances` differs: no restart
    }
  }
  for (const std::string& n : names) {
    if (add_instance(cfg, n) && wanted) to_start.push_back(n);
  }
}

void Supervisor::rename(Program& program, const std::string& to) {
  std::string from = program.name();
  log::info("instance renamed", {{"event", "rename"}, {"program", from}, {"to", to}});
  StateChange gone = removal_of(program);
  program.rename(to);  // its entry's intents go with it
  hub_.publish(gone);
  StateChange renamed;
  renamed.status = status_of(program, Clock::now(), waiting_for(program));
  renamed.previous = renamed.status.state;
  hub_.publish(renamed);
}

// --- Adding and removing programs (the reload diff builds on these). ---

std::optional<std::string> Supervisor::add_program(const ProgramConfig& program) {
  if (config_.find(program.name)) {
    std::string why = "a program named '";
    why += program.name;
    why += "' already exists";
    return why;
  }
  auto pos = std::lower_bound(
      config_.programs.begin(), config_.programs.end(), program,
      [](const ProgramConfig& a, const ProgramConfig& b) { return a.name < b.name; });
  config_.programs.insert(pos, program);
  std::vector<std::string> names = program.instance_names();
  for (const std::string& name : names) instances_.push_back(make_entry(program, name));
  if (program.autostart && !shutting_down()) request_start(names);
  update_output_names();
  evaluate();
  return std::nullopt;
}

void Supervisor::stop_on_purpose(Entry& entry) {
  entry.start_requested = false;
  entry.restart_requested = false;
  entry.program->set_wanted(false);
  entry.program->stop();
}

void Supervisor::drop(Entry& entry) {
  entry.dropping = true;  // removed once it has no process (orchestrate() says when)
  stop_on_purpose(entry);
}

bool Supervisor::remove_program(std::string_view name, std::function<void()> done) {
  auto insts = instances_of(name);
  if (insts.empty()) return false;
  removing_[std::string(name)] = std::move(done);
  std::erase_if(config_.programs, [&](const ProgramConfig& p) { return p.name == name; });
  for (Program* p : insts) drop(*entry(p->name()));
  evaluate_soon();  // removed on a later turn: the caller may still hold the instances
  return true;
}

}  // namespace gardien
