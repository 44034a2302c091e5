#include "supervisord/supervisor.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

#include "common/signals.h"
#include "supervisord/container_init.h"
#include "supervisord/log.h"
#include "supervisord/process_tree.h"

namespace gardien {

Subscription::Subscription(Subscription&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(std::exchange(other.id_, 0)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

Subscription::~Subscription() {
  reset();
}

void Subscription::reset() {
  if (owner_) owner_->unsubscribe(id_);
  owner_ = nullptr;
}

Supervisor::Supervisor(EventLoop& loop, Config config, std::filesystem::path config_path)
    : loop_(loop),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      reaper_(loop),
      shutdown_timer_(loop, [this] { force_shutdown("shutdown-timeout"); }) {
  // A vanished reader must not kill the daemon; children get SIGPIPE back (spawn resets it).
  ::signal(SIGPIPE, SIG_IGN);
  // Every catchable signal: as PID 1 one without a handler would be dropped by the kernel.
  for (int signo : daemon_signals()) {
    signals_.push_back(
        std::make_unique<SignalEvent>(loop_, signo, [this](int s) { on_signal(s); }));
  }
  reaper_.after_reaping([this] { after_reaping(); });
  for (const ProgramConfig& p : config_.programs) {
    for (const std::string& name : p.instance_names()) {
      instances_.push_back(std::make_unique<Program>(
          loop_, reaper_, p, name,
          [this](Program& prog, const StateChange& c) { on_state_change(prog, c); }));
      instances_.back()->use_cgroups(cgroups_for(p));
    }
  }
}

CgroupTree* Supervisor::cgroups_for(const ProgramConfig& program) {
  if (program.kill_mode != KillMode::cgroup) return nullptr;
  if (!cgroups_tried_) {
    cgroups_tried_ = true;  // said once: every such program falls back the same way
    std::string why;
    cgroup_tree_ = CgroupTree::create(why);
    if (!cgroup_tree_)
      log::warn("kill-mode \"cgroup\" is not available here: programs use \"group\" instead",
                {{"event", "cgroup"}, {"error", why}});
  }
  return cgroup_tree_.get();
}

void Supervisor::forward_signals_to(std::string_view program, bool to_group) {
  command_ = CommandMode{std::string(program), to_group, ::isatty(STDIN_FILENO) == 1};
  Program* inst = command_instance();
  if (!inst) return;
  inst->attach_stdin(command_->terminal);
  if (command_->terminal) {
    // The command's group owns the terminal: gardien, in the background, must not be stopped
    // for writing its log or taking the terminal back.
    ::signal(SIGTTIN, SIG_IGN);
    ::signal(SIGTTOU, SIG_IGN);
    reaper_.on_stopped([this](pid_t pid, int signo) { on_child_stopped(pid, signo); });
  }
}

Program* Supervisor::command_instance() const {
  if (!command_) return nullptr;
  for (const auto& inst : instances_) {
    if (inst->name() == command_->program) return inst.get();
  }
  return nullptr;
}

Supervisor::~Supervisor() = default;

int Supervisor::run() {
  log::info("gardien started", {{"event", "daemon_start"},
                                {"pid", ::getpid()},
                                {"config", config_path_.string()},
                                {"programs", config_.programs.size()},
                                {"instances", instances_.size()}});
  std::set<std::string> visiting;
  for (const auto& inst : instances_) {
    if (inst->config().autostart) want_started(inst->name(), visiting);
  }
  StopChain chain = longest_stop_chain(config_);
  if (!command_ && chain.total > config_.supervisor.shutdown_timeout) {
    std::string names;
    for (const std::string& n : chain.programs) {
      if (!names.empty()) names += " -> ";
      names += n;
    }
    log::warn("the stop timeouts do not fit in shutdown-timeout: a shutdown may be forced",
              {{"event", "shutdown_budget"},
               {"chain", names},
               {"stop_timeouts", format_duration(chain.total)},
               {"shutdown_timeout", format_duration(config_.supervisor.shutdown_timeout)}});
  }
  start_ready();
  loop_.run();
  // Done: a signal arriving while the handlers are torn down must not turn the exit code into
  // 128+N. Blocked, it stays pending until the process is gone.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  int code = forceful_ ? 1 : 0;
  if (Program* cmd = command_instance()) {
    code = exit_code_of(cmd->status());
  } else if (exit_code_) {
    code = *exit_code_;
  }
  log::info("gardien exiting", {{"event", "daemon_exit"}, {"code", code}});
  return code;
}

// --- Lookups. ---

std::vector<Program*> Supervisor::instances_of(std::string_view program) const {
  std::vector<Program*> out;
  for (const auto& inst : instances_) {
    if (inst->config().name == program) out.push_back(inst.get());
  }
  return out;
}

const ProgramConfig* Supervisor::program_config(std::string_view name) const {
  return config_.find(name);
}

std::vector<Program*> Supervisor::resolve(std::string_view target, Outcome& outcome) const {
  std::vector<Program*> out;
  for (const auto& inst : instances_) {
    if (target == "all" || inst->name() == target || inst->config().name == target)
      out.push_back(inst.get());
  }
  if (out.empty()) {
    outcome.ok = false;
    outcome.code = "unknown-program";
    outcome.message = "no program or instance is named '";
    outcome.message += target;
    outcome.message += "' (`gardienctl status` lists them)";
  }
  for (Program* p : out) outcome.instances.push_back(p->name());
  return out;
}

bool Supervisor::all_running(std::string_view program) const {
  auto insts = instances_of(program);
  if (insts.empty()) return false;
  return std::all_of(insts.begin(), insts.end(),
                     [](Program* p) { return p->state() == State::running; });
}

bool Supervisor::any_process(std::string_view program) const {
  auto insts = instances_of(program);
  return std::any_of(insts.begin(), insts.end(),
                     [](Program* p) { return has_process(p->state()); });
}

std::vector<InstanceInfo> Supervisor::list() const {
  std::vector<InstanceInfo> out;
  TimePoint now = Clock::now();
  std::optional<std::unordered_map<pid_t, int>> groups;  // one pass over /proc, when needed
  for (const auto& inst : instances_) {
    InstanceInfo info = inst->info(now);
    if (const Cgroup* cgroup = inst->cgroup()) {
      info.processes = static_cast<int>(cgroup->pids().size());
    } else if (inst->pgid() != 0) {
      if (!groups) groups = processes_by_group();
      auto it = groups->find(inst->pgid());
      info.processes = it == groups->end() ? 0 : it->second;
    }
    if (pending_start_.count(inst->name()) && info.reason.empty()) {
      info.reason = "waiting for";
      for (const std::string& dep : inst->config().depends_on) {
        if (!all_running(dep)) {
          info.reason += ' ';
          info.reason += dep;
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::optional<InstanceInfo> Supervisor::find(std::string_view instance) const {
  for (InstanceInfo& info : list()) {
    if (info.name == instance) return std::move(info);
  }
  return std::nullopt;
}

// --- Starting in dependency order. ---

void Supervisor::want_started(const std::string& instance, std::set<std::string>& visiting) {
  if (!visiting.insert(instance).second) return;  // a cycle (the loader rejects those) or done
  Program* inst = nullptr;
  for (const auto& p : instances_) {
    if (p->name() == instance) inst = p.get();
  }
  if (!inst) return;
  for (const std::string& dep : inst->config().depends_on) {
    if (all_running(dep)) continue;
    for (Program* d : instances_of(dep)) {
      if (d->state() != State::running && d->state() != State::starting)
        want_started(d->name(), visiting);
    }
  }
  pending_start_.insert(instance);
}

void Supervisor::start_ready() {
  if (in_start_ready_) {
    start_ready_again_ = true;  // a start changed a state: look again once the outer pass ends
    return;
  }
  in_start_ready_ = true;
  do {
    start_ready_again_ = false;
    for (const auto& inst : instances_) {
      if (!pending_start_.count(inst->name())) continue;
      const auto& deps = inst->config().depends_on;
      if (!std::all_of(deps.begin(), deps.end(),
                       [this](const std::string& d) { return all_running(d); }))
        continue;
      pending_start_.erase(inst->name());
      inst->start();
    }
  } while (start_ready_again_);
  in_start_ready_ = false;
}

Outcome Supervisor::start(std::string_view target) {
  Outcome outcome;
  if (shutting_down_) {
    outcome.ok = false;
    outcome.code = "shutting-down";
    outcome.message = "gardien is shutting down: nothing can be started";
    return outcome;
  }
  std::set<std::string> visiting;
  for (Program* p : resolve(target, outcome)) want_started(p->name(), visiting);
  start_ready();
  return outcome;
}

Outcome Supervisor::stop(std::string_view target) {
  Outcome outcome;
  for (Program* p : resolve(target, outcome)) {
    pending_start_.erase(p->name());
    p->stop();
  }
  return outcome;
}

Outcome Supervisor::restart(std::string_view target) {
  Outcome outcome;
  if (shutting_down_) {
    outcome.ok = false;
    outcome.code = "shutting-down";
    outcome.message = "gardien is shutting down: nothing can be restarted";
    return outcome;
  }
  std::set<std::string> visiting;
  for (Program* p : resolve(target, outcome)) {
    if (has_process(p->state())) {
      p->restart();
    } else {
      want_started(p->name(), visiting);
    }
  }
  start_ready();
  return outcome;
}

Outcome Supervisor::signal(std::string_view target, int signo, bool to_group) {
  Outcome outcome;
  auto targets = resolve(target, outcome);
  std::string errors;
  int sent = 0;
  for (Program* p : targets) {
    std::string error;
    if (p->send_signal(signo, to_group, error)) {
      ++sent;
    } else {
      if (!errors.empty()) errors += "; ";
      errors += error;
    }
  }
  if (outcome.ok && sent == 0) {
    outcome.ok = false;
    outcome.code = "not-running";
    outcome.message = errors;
  }
  return outcome;
}

Subscription Supervisor::subscribe(Observer observer) {
  std::uint64_t id = next_observer_++;
  observers_.emplace(id, std::move(observer));
  return Subscription(this, id);
}

void Supervisor::on_state_change(Program& program, const StateChange& change) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, fn] : observers_) ids.push_back(id);
  for (std::uint64_t id : ids) {
    auto it = observers_.find(id);
    if (it == observers_.end()) continue;  // unsubscribed by an earlier observer
    Observer fn = it->second;              // a copy: the observer may unsubscribe itself
    fn(change);
  }
  if (change.to == State::running) start_ready();
  if (shutting_down_) advance_shutdown();
  if (!removing_.empty()) finish_removals();
  on_program_end(program, change);
}

// --- Container init: critical programs, the end of everything, forwarded signals. ---

void Supervisor::on_program_end(Program& program, const StateChange& change) {
  if (shutting_down_ || has_process(change.to) || change.to == State::backoff) return;
  bool is_command = &program == command_instance();
  bool final = change.to == State::exited || change.to == State::fatal;
  if (final && program.config().critical && !exit_code_) {
    exit_code_ = program.config().exit_code.value_or(exit_code_of(program.status()));
    log::info("a critical program ended: shutting down", {{"event", "critical_exit"},
                                                          {"program", program.name()},
                                                          {"reason", change.reason},
                                                          {"code", *exit_code_}});
  } else if (!is_command && !all_ended()) {
    return;
  }
  // Deferred: the program is still inside its own state change.
  bool recheck = !exit_code_ && !is_command;  // states may change before the deferred call
  loop_.defer([this, recheck] {
    if (shutting_down_ || (recheck && !all_ended())) return;
    shutdown(exit_code_ ? "a critical program ended" : "every program ended");
  });
}

bool Supervisor::all_ended() const {
  if (!pending_start_.empty() || !removing_.empty()) return false;
  bool any_ended = false;
  for (const auto& inst : instances_) {
    State s = inst->state();
    if (s == State::exited || s == State::fatal) {
      any_ended = true;
    } else if (s != State::stopped) {
      return false;
    }
  }
  // All stopped by an operator (or never started) is not an end; nor is a daemon a program
  // forked and left running (an orphan): gardien waits for it.
  return any_ended && !Reaper::children_left();
}

void Supervisor::forward_signal(int signo) {
  Program* cmd = command_instance();
  if (!cmd) return;
  if (signo == SIGCONT && command_->terminal && cmd->pgid() != 0 &&
      ::tcgetpgrp(STDIN_FILENO) == ::getpgrp()) {
    // `fg` gave the terminal back to gardien: it belongs to the command's group.
    ::tcsetpgrp(STDIN_FILENO, cmd->pgid());
  }
  if (is_shutdown_signal(signo) && !shutting_down_) {
    log::info("signal received", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
    cmd->stop_with(signo);  // the signal itself, SIGKILL after the grace
    shutdown(signal_name(signo));
    return;
  }
  std::string error;
  if (!cmd->send_signal(signo, command_->to_group, error))
    log::debug("signal not forwarded", {{"event", "forward"}, {"error", error}});
}

void Supervisor::on_child_stopped(pid_t pid, int signo) {
  Program* cmd = command_instance();
  if (!cmd || pid != cmd->pid()) return;
  if (signo != SIGTSTP && signo != SIGTTIN && signo != SIGTTOU) return;
  if (::getpid() == 1) return;  // PID 1 cannot be stopped: nothing to hand back to
  // Ctrl-Z stopped the command: stop gardien too, so the shell sees its job stopped and
  // takes the terminal back; `fg` continues gardien, which continues the command (SIGCONT).
  log::debug("the command was stopped: stopping too",
             {{"event", "job_stop"}, {"signal", signal_name(signo)}});
  ::kill(::getpid(), SIGSTOP);
}

// --- The daemon's signals and shutdown mode. ---

void Supervisor::on_signal(int signo) {
  if (command_) return forward_signal(signo);
  if (signo == SIGHUP) return reload();
  if (!is_shutdown_signal(signo)) {
    if (!is_quiet_signal(signo))
      log::info("signal ignored", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
    return;
  }
  log::info("signal received", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
  shutdown(signal_name(signo));
}

void Supervisor::reload() {
  LoadResult result = load_config(config_path_);
  for (const Diagnostic& d : result.diagnostics) {
    log::write(d.severity == Diagnostic::Severity::error ? LogLevel::error : LogLevel::warn,
               d.to_string(), {{"event", "config_diagnostic"}});
  }
  std::optional<std::string> problem;
  if (result.ok()) {
    for (const ProgramConfig& p : result.config->programs) {
      if (!problem) problem = unsupported(p);
    }
    if (problem) log::error(*problem, {{"event", "config_diagnostic"}});
  }
  if (!result.ok() || problem) {
    log::error("config reload failed: the running config is unchanged",
               {{"event", "reload"}, {"ok", false}, {"config", config_path_.string()}});
    return;
  }
  log::info("config ok, applying changes needs the control issue",
            {{"event", "reload"}, {"ok", true}, {"config", config_path_.string()}});
}

void Supervisor::shutdown(std::string_view why) {
  if (shutting_down_) {
    if (!forceful_) {
      std::string reason(why);
      reason += " again";
      force_shutdown(reason);
    }
    return;
  }
  shutting_down_ = true;
  log::info("shutting down",
            {{"event", "shutdown"}, {"mode", "graceful"}, {"why", std::string(why)}});
  pending_start_.clear();
  for (const auto& inst : instances_) inst->hold_restarts();
  shutdown_timer_.arm(config_.supervisor.shutdown_timeout);
  advance_shutdown();
}

void Supervisor::force_shutdown(std::string_view why) {
  if (forceful_ || exiting_) return;
  forceful_ = true;
  shutting_down_ = true;
  log::warn("shutdown forced: killing everything",
            {{"event", "shutdown"}, {"mode", "forceful"}, {"why", std::string(why)}});
  pending_start_.clear();
  for (const auto& inst : instances_) {
    inst->hold_restarts();
    inst->kill();
  }
  advance_shutdown();
}

void Supervisor::advance_shutdown() {
  if (exiting_ || in_advance_shutdown_) return;
  in_advance_shutdown_ = true;
  // Reverse dependency order: a program stops once nothing that depends on it has a process.
  // Passes repeat because a stop can bring a dependency's turn (backoff -> stopped at once).
  for (bool again = true; again;) {
    again = false;
    for (const auto& inst : instances_) {
      State s = inst->state();
      if (s != State::starting && s != State::running && s != State::backoff) continue;
      bool dependents_down = s == State::backoff;
      if (!dependents_down) {
        dependents_down = true;
        for (const ProgramConfig& q : config_.programs) {
          const auto& deps = q.depends_on;
          if (std::find(deps.begin(), deps.end(), inst->config().name) != deps.end() &&
              any_process(q.name))
            dependents_down = false;
        }
      }
      if (dependents_down) {
        inst->stop();
        again = true;
      }
    }
  }
  in_advance_shutdown_ = false;

  bool programs_down = std::none_of(instances_.begin(), instances_.end(),
                                    [](const auto& p) { return has_process(p->state()); });
  if (!programs_down) return;
  // What programs left in their group or cgroup gets their stop signal, SIGKILL when forced.
  for (const auto& inst : instances_) inst->stop_leftovers(forceful_);
  if (Reaper::children_left()) {
    // Orphans that left their program's group: TERM them once, KILL them when forced.
    for (pid_t pid : Reaper::children()) {
      if (forceful_) {
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
  loop_.exit();
}

void Supervisor::after_reaping() {
  for (const auto& inst : instances_) inst->recheck_group();
  if (!shutting_down_ && !command_ && all_ended()) shutdown("every program ended");
  if (shutting_down_) advance_shutdown();
  if (!removing_.empty()) finish_removals();
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
    instances_.push_back(std::make_unique<Program>(
        loop_, reaper_, program, name,
        [this](Program& prog, const StateChange& c) { on_state_change(prog, c); }));
    instances_.back()->use_cgroups(cgroups_for(program));
    if (program.autostart && !shutting_down_) want_started(name, visiting);
  }
  start_ready();
  return std::nullopt;
}

bool Supervisor::remove_program(std::string_view name, std::function<void()> done) {
  auto insts = instances_of(name);
  if (insts.empty()) return false;
  removing_[std::string(name)] = std::move(done);
  for (Program* p : insts) {
    pending_start_.erase(p->name());
    p->stop();
  }
  finish_removals();
  return true;
}

void Supervisor::finish_removals() {
  // Deferred: the Programs may be in the middle of their own callbacks.
  loop_.defer([this] {
    for (auto it = removing_.begin(); it != removing_.end();) {
      const std::string name = it->first;
      if (any_process(name)) {
        ++it;
        continue;
      }
      std::erase_if(instances_, [&](const auto& p) { return p->config().name == name; });
      std::erase_if(config_.programs, [&](const ProgramConfig& p) { return p.name == name; });
      auto done = std::move(it->second);
      it = removing_.erase(it);
      log::info("program removed", {{"event", "remove"}, {"program", name}});
      if (done) done();
    }
  });
}

}  // namespace gardien
