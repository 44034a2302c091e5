// The Supervisor's side of the orchestrator: it gathers every instance's facts, asks
// orchestrate() what to do, and applies the decision. A state change a Program reports asks for
// one more evaluation, never from inside that Program's own callback: on the next turn of the
// loop, or, when an instance became ready outside an evaluation, later in the same turn.
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/instance_status.h"
#include "supervisord/orchestrate/supervisor.h"
#include "supervisord/output/output_hub.h"

namespace gardien {

// --- Facts. ---

std::vector<InstanceFacts> Supervisor::snapshot() const {
  std::vector<InstanceFacts> out;
  out.reserve(instances_.size());
  for (const Entry& e : instances_) {
    const Program& p = *e.program;
    InstanceFacts f = facts_of(p.name(), p.config(), p.status());
    f.wanted = p.wanted();
    // Readiness, the one place it is decided: running means start-seconds passed or, for a
    // program with `ready`, its readiness check did (the lifecycle holds it in starting until).
    f.ready = p.state() == State::running;
    f.start_requested = e.start_requested;
    f.restart_requested = e.restart_requested;
    f.dropping = e.dropping;
    out.push_back(std::move(f));
  }
  add_task_facts(out);
  return out;
}

DaemonFacts Supervisor::daemon_facts() const {
  DaemonFacts d;
  d.mode = mode_;
  if (command_) d.command = command_->program;
  d.critical_exit = exit_code_;
  d.start_budget = kSpawnsPerTurn;
  return d;
}

std::string Supervisor::waiting_for(const Program& program) const {
  const Entry* e = entry(program.name());
  if (!e || !e->start_requested || mode_ != DaemonMode::running) return {};
  std::vector<InstanceFacts> facts = snapshot();
  for (const InstanceFacts& f : facts) {
    if (f.name == program.name()) return gardien::waiting_for(facts, config_, f);
  }
  return {};
}

void Supervisor::request_start(const std::vector<std::string>& names) {
  if (names.empty()) return;
  for (const std::string& name : start_closure(snapshot(), config_, names)) {
    Entry* e = entry(name);
    if (!e && config_.find_task(name)) tasks_requested_.insert(name);
    if (!e) continue;
    e->program->set_wanted(true);
    e->start_requested = true;
  }
}

// --- Deciding and applying. ---

void Supervisor::evaluate_soon() {
  if (!exiting_ && !evaluate_soon_.armed()) evaluate_soon_.arm(Duration{0});
}

void Supervisor::evaluate_this_turn() {
  if (exiting_) return;
  if (evaluating_ || evaluate_soon_.armed()) return evaluate_soon();
  evaluate_this_turn_.request();
}

void Supervisor::evaluate() {
  if (exiting_) return;
  evaluate_this_turn_.cancel();  // this one sees every fact it would have seen
  struct Evaluating {
    bool& flag;
    bool outer;
    ~Evaluating() { flag = outer; }
  } evaluating{evaluating_, std::exchange(evaluating_, true)};
  apply(orchestrate(snapshot(), config_, daemon_facts()));
  notify_upward();
}

std::string Supervisor::summary() const {
  std::map<State, int> counts;
  for (const Entry& e : instances_) ++counts[e.program->state()];
  std::string out;
  for (const auto& [state, name] : protocol::kInstanceStates) {
    auto it = counts.find(state);
    if (it == counts.end()) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(it->second) + " " + std::string(name);
  }
  return out.empty() ? "no programs" : out;
}

namespace {

// Its lifecycle will not start it again by itself: fatal, or exited for good without success.
bool ended_for_good(const InstanceFacts& f) {
  return (f.state == State::fatal || f.state == State::exited) && !f.completed;
}

// Programs that ended for good, and those whose start waits on one of them (to any depth).
std::set<std::string> blocked_for_good(const std::vector<InstanceFacts>& facts,
                                       const Config& config) {
  std::set<std::string> blocked;
  for (const InstanceFacts& f : facts) {
    if (ended_for_good(f)) blocked.insert(f.program);
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (const InstanceFacts& f : facts) {
      const ProgramConfig* p = config.find(f.program);
      if (!p || blocked.count(f.program) || f.state != State::stopped || !f.start_requested)
        continue;
      bool waits_on_blocked = std::any_of(p->depends_on.begin(), p->depends_on.end(),
                                          [&](const std::string& d) { return blocked.count(d); });
      if (waits_on_blocked) grew = blocked.insert(f.program).second;
    }
  }
  return blocked;
}

}  // namespace

void Supervisor::notify_upward() {
  if (!upward_) return;
  if (mode_ != DaemonMode::running) return upward_->status(summary());
  // Ready once nothing more comes by itself: every autostart instance kept up is ready, done (a
  // one-shot that succeeded), ended for good, or waits on one that did; else the init above would
  // wait out its start timeout for a program that can only fail.
  std::vector<InstanceFacts> facts = snapshot();
  std::set<std::string> blocked = blocked_for_good(facts, config_);
  bool all_settled = std::all_of(facts.begin(), facts.end(), [&](const InstanceFacts& f) {
    const ProgramConfig* p = config_.find(f.program);
    return !p || !p->autostart || !f.wanted || f.ready || f.completed || blocked.count(f.program);
  });
  if (all_settled) {
    upward_->ready(summary());
  } else {
    upward_->status(summary());
  }
}

void Supervisor::apply(const OrchestratorDecision& d) {
  for (const std::string& name : d.request_start) {
    if (config_.find_task(name)) tasks_requested_.insert(name);
    if (Entry* e = entry(name)) {
      e->restart_requested = false;
      e->start_requested = true;
      e->program->set_wanted(true);
    }
  }
  // Each call below may report state changes: those only ask for another evaluation.
  for (const std::string& name : d.start) {
    if (start_task(name)) continue;
    if (Entry* e = entry(name)) {
      e->start_requested = false;
      e->program->start();
    }
  }
  for (const std::string& name : d.stop) {
    if (stop_task(name, false)) continue;
    if (Program* p = instance(name)) p->stop();
  }
  for (const std::string& name : d.kill) {
    if (stop_task(name, true)) continue;
    if (Program* p = instance(name)) p->kill();
  }
  for (const std::string& name : d.remove) remove_instance(name);
  if (d.more_to_start) evaluate_soon();  // the rest on later turns: the loop keeps its turns
  if (d.end) {
    if (d.end->critical_exit) {
      exit_code_ = d.end->critical_exit;
      const Program* p = instance(d.end->instance);
      log::info("a critical program ended: shutting down",
                {{"event", "critical_exit"},
                 {"program", d.end->instance},
                 {"reason", p ? p->status().reason : std::string()},
                 {"code", *exit_code_}});
    }
    begin_shutdown(d.end->why);
    evaluate_soon();
  }
  if (mode_ != DaemonMode::running && d.programs_down) end_when_children_gone();
}

void Supervisor::remove_instance(const std::string& name) {
  auto pos = std::find_if(instances_.begin(), instances_.end(),
                          [&](const Entry& e) { return e.program->name() == name; });
  if (pos == instances_.end()) return;
  StateChange change = removal_of(*pos->program);
  std::unique_ptr<Program> gone = std::move(pos->program);
  checks_of_.erase(gone.get());
  instances_.erase(pos);
  if (output_) output_->forget(gone->name());
  log::info("instance removed", {{"event", "remove"}, {"program", gone->name()}});
  hub_.publish(change);
  std::string program = gone->config().name;
  auto it = removing_.find(program);
  if (it == removing_.end() || !instances_of(program).empty()) return;
  // Called on the next turn, as it always was: the caller may be in the middle of a verb.
  loop_.defer([done = std::move(it->second)] {
    if (done) done();
  });
  removing_.erase(it);
}

void Supervisor::on_state_change(Program& program, State before) {
  if (run_record_) run_record_->mark_changed();
  StateChange change;
  change.status = status_of(program, Clock::now(), waiting_for(program));
  change.previous = before;
  hub_.publish(change);
  // Ready: its dependants are waiting for exactly this.
  if (program.state() == State::running && before != State::running) return evaluate_this_turn();
  evaluate_soon();
}

void Supervisor::after_reaping() {
  for (const Entry& e : instances_) e.program->recheck_group();
  jobs_->recheck_groups();
  if (mode_ != DaemonMode::running || !removing_.empty()) evaluate_soon();
}

// --- Shutdown. ---

void Supervisor::shutdown(std::string_view why) {
  if (mode_ == DaemonMode::running) {
    begin_shutdown(why);
    evaluate();
  } else if (mode_ == DaemonMode::graceful_shutdown) {
    std::string reason(why);
    reason += " again";
    force_shutdown(reason);
  }
}

void Supervisor::begin_shutdown(std::string_view why) {
  if (mode_ != DaemonMode::running) return;
  mode_ = DaemonMode::graceful_shutdown;
  log::info("shutting down",
            {{"event", "shutdown"}, {"mode", "graceful"}, {"why", std::string(why)}});
  for (Entry& e : instances_) {
    e.start_requested = false;
    e.restart_requested = false;
    e.program->hold_restarts();
    e.program->set_wanted(false);  // stopped on purpose: `status` no longer counts them
  }
  tasks_requested_.clear();
  jobs_->begin_shutdown();
  shutdown_timer_.arm(config_.supervisor.shutdown_timeout);
  if (upward_) upward_->stopping(summary());
}

void Supervisor::force_shutdown(std::string_view why) {
  if (mode_ == DaemonMode::forceful_shutdown || exiting_) return;
  if (mode_ == DaemonMode::running) begin_shutdown(why);
  mode_ = DaemonMode::forceful_shutdown;
  for (Entry& e : instances_) e.program->hold_restarts();
  jobs_->kill_all();
  log::warn("shutdown forced: killing everything",
            {{"event", "shutdown"}, {"mode", "forceful"}, {"why", std::string(why)}});
  evaluate();
}

// Every program is down; orphans are processes, not instances: they are this side's.
void Supervisor::end_when_children_gone() {
  if (Reaper::children_left()) {
    // Orphans that left their program's group: TERM them once, KILL them when forced.
    for (pid_t pid : Reaper::children()) {
      if (mode_ == DaemonMode::forceful_shutdown) {
        ::kill(pid, SIGKILL);
      } else if (orphans_signalled_.insert(pid).second) {
        log::info("stopping an orphan", {{"event", "orphan"}, {"pid", pid}, {"signal", "SIGTERM"}});
        ::kill(pid, SIGTERM);
        ::kill(pid, SIGCONT);
      }
    }
    return;  // SIGCHLD brings us back
  }
  exiting_ = true;
  shutdown_timer_.cancel();
  evaluate_soon_.cancel();
  evaluate_this_turn_.cancel();
  loop_.exit();
}

}  // namespace gardien
