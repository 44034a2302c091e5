// The Supervisor's changes to what runs: a reload and its plan, scaling, programs added and
// removed. supervisor.h declares them; supervisor.cpp starts, stops and shuts down.
#include <algorithm>

#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/instance_status.h"
#include "supervisord/orchestrate/reload_plan.h"
#include "supervisord/orchestrate/supervisor.h"
#include "supervisord/output/output_hub.h"

namespace gardien {

namespace {

// What subscribers see when an instance's name goes away (removed, or renamed by scaling).
StateChange removal_of(const Program& program) {
  StateChange change;
  change.status = instance_status(program, Clock::now());
  change.previous = change.status.state;
  change.removed = true;
  return change;
}

}  // namespace

ReloadOutcome Supervisor::reload(bool dry_run) {
  ReloadOutcome outcome;
  LoadResult result = load_config(config_path_);
  outcome.diagnostics = std::move(result.diagnostics);
  if (result.ok()) {
    for (const ProgramConfig& p : result.config->programs) {
      if (auto why = unsupported(p)) {
        outcome.diagnostics.push_back(
            {Diagnostic::Severity::error, config_path_.string(), 0, 0, "program." + p.name, *why});
      }
    }
  }
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

  for (const std::string& name : plan.removed) {
    for (Program* p : instances_of(name)) drop(*p);
  }
  std::set<std::string> visiting;
  for (const std::string& name : plan.changed) {
    const ProgramConfig& cfg = *config_.find(name);
    std::vector<std::string> names = cfg.instance_names();
    bool was_wanted = false;
    for (Program* p : instances_of(name)) {
      was_wanted = was_wanted || p->wanted();
      pending_start_.erase(p->name());
      restart_pending_.erase(p->name());
      if (std::find(names.begin(), names.end(), p->name()) == names.end()) {
        drop(*p);  // 1 <-> N: the old instance names go away
        continue;
      }
      p->replace_config(cfg);
      if (!p->wanted()) continue;
      if (has_process(p->state())) {
        restart_pending_.insert(p->name());
        p->stop();
      } else {
        want_started(p->name(), visiting);
      }
    }
    for (const std::string& n : names) {
      if (add_instance(cfg, n) && was_wanted) want_started(n, visiting);
    }
  }
  for (const protocol::ScaleChange& change : plan.scaled)
    scale(*config_.find(change.program), change);
  for (const std::string& name : plan.added) {
    const ProgramConfig& cfg = *config_.find(name);
    for (const std::string& n : cfg.instance_names()) {
      if (add_instance(cfg, n) && cfg.autostart) want_started(n, visiting);
    }
  }
  update_output_names();
  start_ready();
  finish_removals();
}

void Supervisor::scale(const ProgramConfig& cfg, const protocol::ScaleChange& change) {
  std::vector<std::string> names = cfg.instance_names();
  // From or to one instance, `web` and `web.0` are the same process under another name.
  if (change.from == 1 || change.to == 1) {
    std::string from = change.from == 1 ? cfg.name : cfg.name + ".0";
    std::string to = change.to == 1 ? cfg.name : cfg.name + ".0";
    Program* p = instance(from);
    if (p && !dropping_.count(from) && !instance(to)) rename(*p, to);
  }
  bool wanted = false;  // new instances follow the ones there: kept up or stopped on purpose
  for (Program* p : instances_of(change.program)) {
    if (dropping_.count(p->name())) continue;
    wanted = wanted || p->wanted();
    if (std::find(names.begin(), names.end(), p->name()) == names.end()) {
      drop(*p);
    } else {
      p->replace_config(cfg);  // only `instances` differs: no restart
    }
  }
  std::set<std::string> visiting;
  for (const std::string& n : names) {
    if (add_instance(cfg, n) && wanted) want_started(n, visiting);
  }
}

void Supervisor::rename(Program& program, const std::string& to) {
  std::string from = program.name();
  log::info("instance renamed", {{"event", "rename"}, {"program", from}, {"to", to}});
  StateChange gone = removal_of(program);
  for (auto* names : {&pending_start_, &restart_pending_}) {
    if (names->erase(from)) names->insert(to);
  }
  program.rename(to);
  hub_.publish(gone);
  StateChange renamed;
  renamed.status = instance_status(program, Clock::now(), waiting_for(program));
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
  if (auto why = unsupported(program)) return why;
  auto pos = std::lower_bound(
      config_.programs.begin(), config_.programs.end(), program,
      [](const ProgramConfig& a, const ProgramConfig& b) { return a.name < b.name; });
  config_.programs.insert(pos, program);
  std::set<std::string> visiting;
  for (const std::string& name : program.instance_names()) {
    instances_.push_back(make_instance(program, name));
    if (program.autostart && !shutting_down_) want_started(name, visiting);
  }
  update_output_names();
  start_ready();
  return std::nullopt;
}

void Supervisor::stop_on_purpose(Program& program) {
  pending_start_.erase(program.name());
  restart_pending_.erase(program.name());
  program.set_wanted(false);
  program.stop();
}

void Supervisor::drop(Program& program) {
  dropping_.insert(program.name());  // before the stop, whose state change may finish it
  stop_on_purpose(program);
}

bool Supervisor::remove_program(std::string_view name, std::function<void()> done) {
  auto insts = instances_of(name);
  if (insts.empty()) return false;
  removing_[std::string(name)] = std::move(done);
  std::erase_if(config_.programs, [&](const ProgramConfig& p) { return p.name == name; });
  for (Program* p : insts) drop(*p);
  finish_removals();
  return true;
}

void Supervisor::finish_removals() {
  // Deferred: the Programs may be in the middle of their own callbacks.
  loop_.defer([this] {
    for (auto it = dropping_.begin(); it != dropping_.end();) {
      auto pos = std::find_if(instances_.begin(), instances_.end(),
                              [&](const auto& p) { return p->name() == *it; });
      if (pos != instances_.end() && has_process((*pos)->state())) {
        ++it;
        continue;
      }
      if (pos != instances_.end()) {
        StateChange change = removal_of(**pos);
        std::unique_ptr<Program> gone = std::move(*pos);
        instances_.erase(pos);
        if (output_) output_->forget(gone->name());
        log::info("instance removed", {{"event", "remove"}, {"program", gone->name()}});
        hub_.publish(change);
      }
      it = dropping_.erase(it);
    }
    for (auto it = removing_.begin(); it != removing_.end();) {
      if (!instances_of(it->first).empty()) {
        ++it;
        continue;
      }
      auto done = std::move(it->second);
      it = removing_.erase(it);
      if (done) done();
    }
  });
}

}  // namespace gardien
