#include "supervisord/orchestrate/supervisor.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/container_init.h"
#include "supervisord/orchestrate/instance_status.h"
#include "supervisord/orchestrate/reload_plan.h"
#include "supervisord/output/output_hub.h"
#include "supervisord/process/process_tree.h"

namespace gardien {

Supervisor::Supervisor(EventLoop& loop, Config config, std::filesystem::path config_path)
    : loop_(loop),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      reaper_(loop),
      sigpipe_(loop, [this](int s) { on_signal(s); }),
      shutdown_timer_(loop, [this] { force_shutdown("shutdown-timeout"); }),
      start_more_(loop, [this] {
        if (!shutting_down_) start_ready();
      }) {
  // Every catchable signal: as PID 1 one without a handler would be dropped by the kernel.
  for (int signo : daemon_signals()) {
    signals_.push_back(
        std::make_unique<SignalEvent>(loop_, signo, [this](int s) { on_signal(s); }));
  }
  reaper_.after_reaping([this] { after_reaping(); });
  for (const ProgramConfig& p : config_.programs) {
    for (const std::string& name : p.instance_names()) {
      instances_.push_back(make_instance(p, name));
    }
  }
}

bool Supervisor::add_instance(const ProgramConfig& config, const std::string& name) {
  Program* existing = instance(name);
  if (!existing) {
    instances_.push_back(make_instance(config, name));
    return true;
  }
  // Still being dropped by an earlier reload: it stays, with the new settings.
  if (!dropping_.erase(name)) return false;
  existing->replace_config(config);
  return true;
}

std::unique_ptr<Program> Supervisor::make_instance(const ProgramConfig& config,
                                                   const std::string& name) {
  auto instance = std::make_unique<Program>(
      loop_, reaper_, config, name,
      [this](Program& prog, State before) { on_state_change(prog, before); });
  instance->set_output_hub(output_);
  instance->use_cgroups(cgroups_for(config));
  return instance;
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
  // Without a controlling terminal (a container), a session of its own: each exit in a big
  // group then skips the kernel's orphaned-group check, which walks the group's zombies.
  inst->attach_stdin(command_->terminal, has_controlling_terminal());
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
  return instance(command_->program);
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
    if (!inst->config().autostart) continue;
    inst->set_wanted(true);
    want_started(inst->name(), visiting);
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

Program* Supervisor::instance(std::string_view name) const {
  for (const auto& inst : instances_) {
    if (inst->name() == name) return inst.get();
  }
  return nullptr;
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

std::string Supervisor::waiting_for(const Program& program) const {
  if (!pending_start_.count(program.name())) return {};
  std::string deps;
  for (const std::string& dep : program.config().depends_on) {
    if (all_running(dep)) continue;
    if (!deps.empty()) deps += ' ';
    deps += dep;
  }
  return deps;
}

std::vector<protocol::InstanceStatus> Supervisor::instances() const {
  // Display order: programs by name (config_.programs is sorted), then instance index.
  std::vector<protocol::InstanceStatus> out;
  out.reserve(instances_.size());
  TimePoint now = Clock::now();
  std::vector<const Program*> sorted;
  for (const auto& inst : instances_) sorted.push_back(inst.get());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Program* a, const Program* b) {
    return a->config().name < b->config().name;
  });
  for (const Program* p : sorted) out.push_back(instance_status(*p, now, waiting_for(*p)));
  return out;
}

void Supervisor::count_processes(std::vector<protocol::InstanceStatus>& statuses) const {
  std::optional<std::unordered_map<pid_t, int>> groups;  // one pass over /proc, when needed
  for (protocol::InstanceStatus& status : statuses) {
    const Program* p = instance(status.name);
    if (!p) continue;
    if (const Cgroup* cgroup = p->cgroup()) {
      status.processes = static_cast<std::int64_t>(cgroup->pids().size());
    } else if (p->pgid() != 0) {
      if (!groups) groups = processes_by_group();
      auto it = groups->find(p->pgid());
      status.processes = it == groups->end() ? 0 : it->second;
    } else {
      status.processes = 0;
    }
  }
}

std::optional<protocol::InstanceStatus> Supervisor::find(std::string_view name) const {
  const Program* p = instance(name);
  if (!p) return std::nullopt;
  return instance_status(*p, Clock::now(), waiting_for(*p));
}

protocol::InstanceResult Supervisor::result_of(const Program& program, bool ok,
                                               std::string info) const {
  protocol::InstanceStatus s = instance_status(program, Clock::now(), waiting_for(program));
  return {s.name, s.state, s.pid, ok, info.empty() ? s.info : std::move(info)};
}

namespace {

protocol::InstanceResult no_such_instance(const std::string& name) {
  return {name, protocol::InstanceState::stopped, std::nullopt, false, "no such instance"};
}

}  // namespace

// --- Starting in dependency order. ---

void Supervisor::want_started(const std::string& instance, std::set<std::string>& visiting) {
  if (!visiting.insert(instance).second) return;  // a cycle (the loader rejects those) or done
  Program* inst = this->instance(instance);
  if (!inst) return;
  inst->set_wanted(true);
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
  std::size_t budget = kSpawnsPerTurn;
  do {
    start_ready_again_ = false;
    for (const auto& inst : instances_) {
      if (!pending_start_.count(inst->name())) continue;
      const auto& deps = inst->config().depends_on;
      if (!std::all_of(deps.begin(), deps.end(),
                       [this](const std::string& d) { return all_running(d); }))
        continue;
      if (budget == 0) {
        // The rest on later turns: reaping, the socket and output keep their turn meanwhile.
        if (!start_more_.armed()) start_more_.arm(Duration{0});
        break;
      }
      --budget;
      pending_start_.erase(inst->name());
      inst->start();
    }
  } while (start_ready_again_ && budget > 0);
  in_start_ready_ = false;
}

std::vector<protocol::InstanceResult> Supervisor::start(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  std::set<std::string> visiting;
  std::vector<std::pair<Program*, bool>> targets;  // bool: was already running
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p) {
      targets.emplace_back(nullptr, false);
      continue;
    }
    bool running = p->state() == State::running;
    targets.emplace_back(p, running);
    if (shutting_down_) continue;
    p->set_wanted(true);
    if (!running) want_started(p->name(), visiting);
  }
  if (!shutting_down_) start_ready();
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto [p, running] = targets[i];
    if (!p) {
      out.push_back(no_such_instance(names[i]));
    } else if (shutting_down_) {
      out.push_back(result_of(*p, false, "gardien is shutting down"));
    } else {
      out.push_back(result_of(*p, true, running ? "already running" : ""));
    }
  }
  return out;
}

std::vector<protocol::InstanceResult> Supervisor::stop(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p) {
      out.push_back(no_such_instance(name));
      continue;
    }
    bool had_process = has_process(p->state()) || p->state() == State::backoff;
    stop_on_purpose(*p);
    out.push_back(result_of(*p, true, had_process ? "" : "already stopped"));
  }
  return out;
}

std::vector<protocol::InstanceResult> Supervisor::restart(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  std::set<std::string> visiting;
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p || shutting_down_) continue;
    p->set_wanted(true);
    if (has_process(p->state())) {
      p->restart();
    } else {
      want_started(p->name(), visiting);
    }
  }
  if (!shutting_down_) start_ready();
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p) {
      out.push_back(no_such_instance(name));
    } else {
      out.push_back(shutting_down_ ? result_of(*p, false, "gardien is shutting down")
                                   : result_of(*p, true, ""));
    }
  }
  return out;
}

std::vector<protocol::InstanceResult> Supervisor::signal(int signo,
                                                         const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p) {
      out.push_back(no_such_instance(name));
      continue;
    }
    bool to_group = p->config().kill_mode != KillMode::process;
    std::string error;
    bool sent = p->send_signal(signo, to_group, error);
    out.push_back(result_of(*p, sent, sent ? "" : error));
  }
  return out;
}

void Supervisor::keep_run_record(const std::filesystem::path& path) {
  run_record_ = std::make_unique<RunRecord>(loop_, path, [this] {
    std::vector<RecordedTree> trees;
    for (const auto& inst : instances_) {
      const Cgroup* cgroup = inst->cgroup();
      bool in_cgroup = cgroup && cgroup->populated();
      if (inst->pgid() == 0 && !in_cgroup) continue;
      trees.push_back({inst->name(), inst->pgid(), in_cgroup ? cgroup->path().string() : "",
                       inst->config().stop_signal, inst->config().stop_timeout});
    }
    return trees;
  });
}

void Supervisor::on_state_change(Program& program, State before) {
  if (run_record_) run_record_->mark_changed();
  StateChange change;
  change.status = instance_status(program, Clock::now(), waiting_for(program));
  change.previous = to_protocol(before);
  hub_.publish(change);
  bool start_now = program.state() == State::running;
  if (!has_process(program.state()) && restart_pending_.erase(program.name()) && !shutting_down_) {
    std::set<std::string> visiting;
    want_started(program.name(), visiting);  // a reload's restart: after its dependencies
    start_now = true;
  }
  if (start_now) start_ready();
  if (shutting_down_) advance_shutdown();
  if (!removing_.empty() || !dropping_.empty()) finish_removals();
  on_program_end(program);
}

// --- Container init: critical programs, the end of everything, forwarded signals. ---

void Supervisor::on_program_end(Program& program) {
  State to = program.state();
  if (shutting_down_ || has_process(to) || to == State::backoff) return;
  bool is_command = &program == command_instance();
  bool final = to == State::exited || to == State::fatal;
  if (final && program.config().critical && !exit_code_) {
    exit_code_ = program.config().exit_code.value_or(exit_code_of(program.status()));
    log::info("a critical program ended: shutting down", {{"event", "critical_exit"},
                                                          {"program", program.name()},
                                                          {"reason", program.status().reason},
                                                          {"code", *exit_code_}});
  } else if (!is_command) {
    return;  // the daemon stays up to be asked why, and to start it again
  }
  // Deferred: the program is still inside its own state change.
  loop_.defer([this] {
    if (!shutting_down_) shutdown(exit_code_ ? "a critical program ended" : "the command ended");
  });
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
  // A command with a session of its own: the kernel would discard a stop signal it has no
  // handler for, its group being orphaned there.
  if (cmd->pid() > 0 && ::getsid(cmd->pid()) == cmd->pid()) signo = signal_for_own_session(signo);
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
  if (signo == SIGUSR1) return reopen_logs();
  if (signo == SIGHUP) {
    if (shutting_down_) {
      log::warn("SIGHUP ignored: gardien is shutting down", {{"event", "reload"}, {"ok", false}});
      return;
    }
    reload(false);  // logs its diagnostics and its plan
    return;
  }
  if (!is_shutdown_signal(signo)) {
    if (!is_quiet_signal(signo))
      log::info("signal ignored", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
    return;
  }
  log::info("signal received", {{"event", "daemon_signal"}, {"signal", signal_name(signo)}});
  shutdown(signal_name(signo));
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
  restart_pending_.clear();
  for (const auto& inst : instances_) {
    inst->hold_restarts();
    inst->set_wanted(false);  // stopped on purpose: `status` no longer counts them
  }
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
  if (shutting_down_) advance_shutdown();
  if (!removing_.empty() || !dropping_.empty()) finish_removals();
}

// --- Program output. ---

void Supervisor::attach_output(OutputHub& hub) {
  output_ = &hub;
  for (const auto& inst : instances_) inst->set_output_hub(output_);
  update_output_names();
}

void Supervisor::update_output_names() {
  if (!output_) return;
  std::vector<std::string> names;
  for (const auto& inst : instances_) names.push_back(inst->name());
  output_->set_name_width(OutputHub::name_width(names));
}

void Supervisor::reopen_logs() {
  log::info("reopening log files", {{"event", "reopen_logs"}});
  if (output_) output_->reopen_files();
}

}  // namespace gardien
