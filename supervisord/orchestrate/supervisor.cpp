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
      probe_host_(loop, reaper_),
      upward_(UpwardNotifier::from_environment(loop)),
      sigpipe_(loop, [this](int s) { on_signal(s); }),
      shutdown_timer_(loop, [this] { force_shutdown("shutdown-timeout"); }),
      evaluate_soon_(loop, [this] { evaluate(); }),
      evaluate_this_turn_(loop, [this] { evaluate(); }) {
  // Every catchable signal: as PID 1 one without a handler would be dropped by the kernel.
  for (int signo : daemon_signals()) {
    signals_.push_back(
        std::make_unique<SignalEvent>(loop_, signo, [this](int s) { on_signal(s); }));
  }
  reaper_.after_reaping([this] { after_reaping(); });
  for (const ProgramConfig& p : config_.programs) {
    for (const std::string& name : p.instance_names()) {
      instances_.push_back(make_entry(p, name));
    }
  }
  make_job_runner();
}

bool Supervisor::add_instance(const ProgramConfig& config, const std::string& name) {
  Entry* existing = entry(name);
  if (!existing) {
    instances_.push_back(make_entry(config, name));
    return true;
  }
  // Still being dropped by an earlier reload: it stays, with the new settings.
  if (!std::exchange(existing->dropping, false)) return false;
  existing->program->replace_config(config);
  return true;
}

Supervisor::Entry Supervisor::make_entry(const ProgramConfig& config, const std::string& name) {
  Entry e;
  e.program = std::make_unique<Program>(
      loop_, reaper_, config, name,
      [this](Program& prog, State before) { on_state_change(prog, before); });
  e.program->set_output_hub(output_);
  e.program->use_cgroups(cgroups_for(config));
  e.checks = std::make_unique<InstanceChecks>(loop_, probe_host_, *e.program);
  checks_of_[e.program.get()] = e.checks.get();
  e.checks->on_notice([this, p = e.program.get()](InstanceChecks::Notice n) { on_notice(*p, n); });
  return e;
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
  std::vector<std::string> autostart;
  for (const Entry& e : instances_) {
    if (e.program->config().autostart) autostart.push_back(e.program->name());
  }
  for (const TaskConfig& t : config_.tasks) {
    if (t.run == TaskRunWhen::on_start) autostart.push_back(t.name());
  }
  request_start(autostart);
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
  evaluate();
  loop_.run();
  // Done: a signal arriving while the handlers are torn down must not turn the exit code into
  // 128+N. Blocked, it stays pending until the process is gone.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  int code = orchestrate(snapshot(), config_, daemon_facts()).exit_code;
  log::info("gardien exiting", {{"event", "daemon_exit"}, {"code", code}});
  return code;
}

// --- Lookups. ---

std::vector<Program*> Supervisor::instances_of(std::string_view program) const {
  std::vector<Program*> out;
  for (const Entry& e : instances_) {
    if (e.program->config().name == program) out.push_back(e.program.get());
  }
  return out;
}

Supervisor::Entry* Supervisor::entry(std::string_view name) {
  for (Entry& e : instances_) {
    if (e.program->name() == name) return &e;
  }
  return nullptr;
}

const Supervisor::Entry* Supervisor::entry(std::string_view name) const {
  for (const Entry& e : instances_) {
    if (e.program->name() == name) return &e;
  }
  return nullptr;
}

Program* Supervisor::instance(std::string_view name) const {
  const Entry* e = entry(name);
  return e ? e->program.get() : nullptr;
}

std::vector<protocol::InstanceStatus> Supervisor::instances() const {
  // Display order: programs by name (config_.programs is sorted), then instance index.
  std::vector<protocol::InstanceStatus> out;
  out.reserve(instances_.size());
  TimePoint now = Clock::now();
  std::vector<const Entry*> sorted;
  for (const Entry& e : instances_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->program->config().name < b->program->config().name;
  });
  // One decision for every instance's waiting info: a look per instance would be quadratic.
  std::map<std::string, std::string, std::less<>> waiting;
  if (mode_ == DaemonMode::running) {
    for (Waiting& w : orchestrate(snapshot(), config_, daemon_facts()).waiting)
      waiting.emplace(std::move(w.instance), std::move(w.info));
  }
  for (const Entry* e : sorted) {
    auto it = waiting.find(e->program->name());
    out.push_back(status_of(*e->program, now, it == waiting.end() ? std::string() : it->second));
  }
  add_task_statuses(out);
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
  return status_of(*p, Clock::now(), waiting_for(*p));
}

protocol::InstanceStatus Supervisor::status_of(const Program& program, TimePoint now,
                                               const std::string& waiting_for) const {
  auto it = checks_of_.find(&program);
  if (it == checks_of_.end()) return instance_status(program, now, waiting_for);
  CheckReport checks = it->second->report();
  return instance_status(program, now, waiting_for, &checks);
}

protocol::InstanceResult Supervisor::result_of(const Program& program, bool ok,
                                               std::string info) const {
  protocol::InstanceStatus s = status_of(program, Clock::now(), waiting_for(program));
  return {s.name, s.state, s.pid, ok, info.empty() ? s.info : std::move(info)};
}

namespace {

protocol::InstanceResult no_such_instance(const std::string& name) {
  return {name, protocol::InstanceState::stopped, std::nullopt, false, "no such instance"};
}

}  // namespace

// --- The verbs. ---

std::vector<protocol::InstanceResult> Supervisor::start(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  std::vector<bool> was_running;
  std::vector<std::string> roots;
  for (const std::string& name : names) {
    Program* p = instance(name);
    bool running = p && p->state() == State::running;
    was_running.push_back(running);
    if (!p || shutting_down()) continue;
    p->set_wanted(true);
    if (!running) roots.push_back(name);
  }
  if (!shutting_down()) {
    request_start(roots);
    evaluate();
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    Program* p = instance(names[i]);
    if (!p) {
      out.push_back(task_result(names[i], false).value_or(no_such_instance(names[i])));
    } else if (shutting_down()) {
      out.push_back(result_of(*p, false, "gardien is shutting down"));
    } else {
      out.push_back(result_of(*p, true, was_running[i] ? "already running" : ""));
    }
  }
  return out;
}

std::vector<protocol::InstanceResult> Supervisor::stop(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  for (const std::string& name : names) {
    Entry* e = entry(name);
    if (!e) {
      out.push_back(task_result(name, true).value_or(no_such_instance(name)));
      continue;
    }
    Program& p = *e->program;
    bool had_process = has_process(p.state()) || p.state() == State::backoff;
    stop_on_purpose(*e);
    out.push_back(result_of(p, true, had_process ? "" : "already stopped"));
  }
  return out;
}

std::vector<protocol::InstanceResult> Supervisor::restart(const std::vector<std::string>& names) {
  std::vector<protocol::InstanceResult> out;
  std::vector<std::string> roots;
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p || shutting_down()) continue;
    p->set_wanted(true);
    if (has_process(p->state())) {
      p->restart();
    } else {
      roots.push_back(name);
    }
  }
  if (!shutting_down()) {
    request_start(roots);
    evaluate();
  }
  for (const std::string& name : names) {
    Program* p = instance(name);
    if (!p) {
      out.push_back(task_result(name, false).value_or(no_such_instance(name)));
    } else {
      out.push_back(shutting_down() ? result_of(*p, false, "gardien is shutting down")
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
      out.push_back(task_result(name, false).value_or(no_such_instance(name)));
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
    auto record = [&](const Program& inst) {
      const Cgroup* cgroup = inst.cgroup();
      bool in_cgroup = cgroup && cgroup->populated();
      if (inst.pgid() == 0 && !in_cgroup) return;
      trees.push_back({inst.name(), inst.pgid(), in_cgroup ? cgroup->path().string() : "",
                       inst.config().stop_signal, inst.config().stop_timeout});
    };
    for (const Entry& e : instances_) record(*e.program);
    for (const TaskRun* run : jobs_->active()) record(run->program());  // task runs' trees too
    return trees;
  });
}

// --- Program output. ---

void Supervisor::attach_output(OutputHub& hub) {
  output_ = &hub;
  for (const Entry& e : instances_) e.program->set_output_hub(output_);
  update_output_names();
}

void Supervisor::update_output_names() {
  if (!output_) return;
  std::vector<std::string> names;
  for (const Entry& e : instances_) names.push_back(e.program->name());
  output_->set_name_width(OutputHub::name_width(names));
}

void Supervisor::reopen_logs() {
  log::info("reopening log files", {{"event", "reopen_logs"}});
  if (output_) output_->reopen_files();
}

}  // namespace gardien
