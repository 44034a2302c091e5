#include "supervisord/process/program.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/output/output_hub.h"
#include "supervisord/process/process_tree.h"

extern char** environ;

namespace gardien {

namespace {

// What a failed pipe, open or clone says when the daemon, not the program, is short of something.
bool is_out_of_resources(int error) {
  return error == EMFILE || error == ENFILE || error == EAGAIN || error == ENOMEM;
}

}  // namespace

Program::Program(EventLoop& loop, Reaper& reaper, ProgramConfig config, std::string instance,
                 OnChange on_change)
    : Program(loop, std::make_unique<SystemProcessHost>(loop, reaper), nullptr, std::move(config),
              std::move(instance), std::move(on_change)) {}

Program::Program(EventLoop& loop, ProcessHost& host, ProgramConfig config, std::string instance,
                 OnChange on_change)
    : Program(loop, nullptr, &host, std::move(config), std::move(instance), std::move(on_change)) {}

Program::Program(EventLoop& loop, std::unique_ptr<ProcessHost> owned_host, ProcessHost* host,
                 ProgramConfig config, std::string instance, OnChange on_change)
    : loop_(loop),
      owned_host_(std::move(owned_host)),
      host_(host ? *host : *owned_host_),
      config_(std::move(config)),
      name_(std::move(instance)),
      on_change_(std::move(on_change)),
      group_poll_(host_.make_timer([this] { on_group_poll(); })),
      group_look_(host_.make_timer([this] { recheck_group(); })) {
  for (TimerKind kind : kTimerKinds)
    timers_[static_cast<std::size_t>(kind)] = host_.make_timer([this, kind] { on_timer(kind); });
  status_.state_since = host_.now();
}

Program::~Program() {
  if (pid_ > 0) host_.forget(pid_);
  if (error_event_) error_event_->disable();
}

void Program::replace_config(ProgramConfig config) {
  next_config_ = std::move(config);
  if (!has_process(status_.state)) take_next_config();
}

void Program::take_next_config() {
  if (!next_config_) return;
  config_ = std::move(*next_config_);
  next_config_.reset();
  plan_.reset();
}

void Program::on_group_poll() {
  recheck_group();
  if (status_.state != State::stopping || status_.main_alive || pgid_ == 0) return;
  // A process forked while the group was being killed escaped that SIGKILL.
  if (status_.killed) kill_tree();
  group_poll_->arm(kGroupPollInterval);
}

void Program::rename(std::string name) {
  if (output_hub_) output_hub_->rename(name_, name);
  name_ = std::move(name);
  plan_.reset();  // its environment names the instance
}

void Program::feed(LifecycleEvent event) {
  queue_.push_back(std::move(event));
  if (feeding_) return;  // the outer call applies it after the current one, in order
  feeding_ = true;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    LifecycleEvent e = std::move(queue_[i]);
    State before = status_.state;
    LifecycleDecision d = decide(status_, e, config_, host_.now());
    if (!d.legal) {
      log::error("illegal state transition ignored",
                 {{"event", "illegal"}, {"program", name_}, {"why", d.why}});
      continue;
    }
    apply(d, before);
  }
  queue_.clear();
  feeding_ = false;
}

void Program::apply(const LifecycleDecision& d, State before) {
  status_ = d.next;
  if (!has_process(status_.state)) take_next_config();
  bool spawn = false;
  Duration armed{0};
  for (const LifecycleAction& a : d.actions) {
    HostTimer& timer = *timers_[static_cast<std::size_t>(a.timer)];
    switch (a.kind) {
      case LifecycleAction::Kind::spawn:
        spawn = true;
        break;
      case LifecycleAction::Kind::arm_timer:
        timer.arm(a.delay);
        if (a.timer == TimerKind::backoff) armed = a.delay;
        break;
      case LifecycleAction::Kind::cancel_timer:
        timer.cancel();
        break;
      case LifecycleAction::Kind::signal_stop:
        signal_stop(a.signal);
        break;
      case LifecycleAction::Kind::kill_group:
        log::info("killing",
                  {{"event", "kill"}, {"program", name_}, {"pgid", pgid_}, {"signal", "SIGKILL"}});
        kill_tree();
        break;
      case LifecycleAction::Kind::watch_group:
        if (!cgroup_) group_poll_->arm(kGroupPollInterval);  // a cgroup says when it empties
        break;
      case LifecycleAction::Kind::signal_leftovers:
        signal_leftovers();
        break;
    }
  }
  if (status_.state != State::stopping) group_poll_->cancel();
  if (status_.state != before) {
    nlohmann::ordered_json fields = {{"event", "state"},
                                     {"program", name_},
                                     {"from", to_string(before)},
                                     {"to", to_string(status_.state)}};
    if (!status_.reason.empty()) fields["reason"] = status_.reason;
    if (status_.state == State::backoff) {
      // The delay decided, not the time left: a busy loop must not make the log say 99 ms.
      fields["delay"] = format_duration(armed);
      fields["delay_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(armed).count();
    }
    // At info a spawn is one line ("spawned") and an exit one ("exited"), plus the backoff.
    LogLevel level = status_.state == State::fatal     ? LogLevel::error
                     : status_.state == State::backoff ? LogLevel::info
                                                       : LogLevel::debug;
    log::write(level, "state changed", fields);
    if (observer_) observer_->state_changed(before, status_.state);
    if (on_change_) on_change_(*this, before);
  }
  if (spawn) do_spawn();
}

void Program::do_spawn() {
  take_next_config();  // a restart straight from stopping: the new settings start here
  std::string error;
  // Built once and reused: the environment and the config do not change between spawns. A
  // failed spawn drops it, so the next one searches PATH again.
  if (!plan_) plan_ = make_spawn_plan(config_, name_, environ, error);
  if (cgroup_tree_ && !cgroup_ && config_.kill_mode == KillMode::cgroup) {
    std::string why;
    cgroup_ = cgroup_tree_->make_child(name_, why);
    if (cgroup_) {
      cgroup_event_ =
          std::make_unique<FdEvent>(loop_, cgroup_->events_fd(), EV_READ, [this](short) {
            cgroup_->consume_events();
            recheck_group();
          });
      cgroup_event_->enable();
    } else {
      cgroup_tree_ = nullptr;
      log::warn("no cgroup for this instance: kill-mode \"group\" instead",
                {{"event", "cgroup"}, {"program", name_}, {"error", why}});
    }
  }
  if (plan_) {
    plan_->stdin_fd = attach_stdin_ ? STDIN_FILENO : -1;
    plan_->new_session = !same_session_;
    plan_->take_terminal = take_terminal_;
    plan_->cgroup_fd = cgroup_ ? cgroup_->join_fd() : -1;
    plan_->parent_death_signal = config_.stop_signal;
    plan_->pass_fds.clear();
  }
  tree_stop_signal_ = 0;
  std::optional<SpawnedProcess> child;
  bool prepared = plan_ && (!observer_ || observer_->before_spawn(*plan_, error));
  if (prepared && open_output(error)) child = host_.spawn(*plan_, error);
  bool out_of_resources = !child && plan_ && is_out_of_resources(errno);
  // The daemon's copies of the child's ends: EOF comes once the program's side is closed.
  if (output_) output_->close_child_ends();
  if (!child) {
    output_.reset();
    plan_.reset();
    log::warn("spawn failed", {{"event", "spawn_failed"}, {"program", name_}, {"error", error}});
    feed(LifecycleEvent::failure(error, true, out_of_resources));
    return;
  }
  pid_ = child->pid;
  pgid_ = child->pid;  // the child calls setsid(): its pid is its group
  exec_error_ = child->exec_error;
  close_error_pipe();
  if (child->error_pipe) {  // the outcome is not known yet: watch for the report or EOF
    error_pipe_ = std::move(child->error_pipe);
    error_event_ = std::make_shared<FdEvent>(loop_, error_pipe_.get(), EV_READ,
                                             [this](short) { on_error_pipe(); });
    error_event_->enable();
  }
  host_.watch(pid_, [this, pid = pid_](int wait_status) { on_exit(pid, wait_status); });
  log::info("spawned", {{"event", "spawn"}, {"program", name_}, {"pid", pid_}});
  if (observer_) observer_->spawned(pid_);
  feed(LifecycleEvent::of(LifecycleEvent::Kind::spawned));
}

bool Program::open_output(std::string& error) {
  output_.reset();
  plan_->stdout_fd = -1;  // -1: the daemon's own fd (inherit)
  plan_->stderr_fd = -1;
  if (!output_hub_) return true;
  OutputOptions options{config_.timestamps, static_cast<std::size_t>(config_.log_buffer_size)};
  auto opened = output_hub_->open(name_, config_.stdout_sink, config_.stderr_sink, options);
  if (!opened.output) {
    error = opened.error;
    return false;
  }
  output_ = std::move(opened.output);
  int out = output_->child_stdout();
  int err = output_->child_stderr();  // 1 when merged into an inherited stdout
  plan_->stdout_fd = out == STDOUT_FILENO ? -1 : out;
  plan_->stderr_fd = err == STDERR_FILENO ? -1 : err;
  return true;
}

void Program::on_error_pipe() {
  if (!error_pipe_ || !plan_) return;
  std::optional<std::string> report = read_spawn_error(error_pipe_.get(), *plan_);
  if (!report) return;  // spurious wakeup
  if (!report->empty()) exec_error_ = *report;
  close_error_pipe();
}

void Program::close_error_pipe() {
  if (error_event_) {
    error_event_->disable();
    // Not destroyed inside its own callback: the std::function would die while running.
    loop_.defer([event = std::move(error_event_)] {});
  }
  error_pipe_.reset();
}

void Program::on_timer(TimerKind kind) {
  feed(LifecycleEvent::timer_fired(kind, main_exited()));
}

bool Program::main_exited() const {
  if (pid_ <= 0) return true;  // reaped; the exit is reported once the output is drained
  return host_.has_exited(pid_);
}

bool Program::adopt_main(pid_t pid, std::string& error) {
  if (pid == pid_) return true;
  if (!status_.main_alive || pid_ <= 0) {
    error = "no main process to replace";
    return false;
  }
  // Its own group, or a child of the main (a daemon's child that called setsid()), or an orphan
  // of its tree that came back to the daemon: never an unrelated process.
  std::optional<ProcStat> stat = read_proc_stat(pid);
  bool in_tree = stat && !stat->zombie() &&
                 (stat->pgrp == pgid_ || stat->ppid == pid_ ||
                  (stat->ppid == ::getpid() && stat->pgrp != ::getpgrp()));
  if (!in_tree) {
    error = "process " + std::to_string(pid) + " is not in the instance's process tree";
    return false;
  }
  log::info("main process changed",
            {{"event", "mainpid"}, {"program", name_}, {"from", pid_}, {"to", pid}});
  host_.forget(pid_);  // the old main's exit is reaped as an orphan's, not the run's end
  pid_ = pid;
  if (stat->pgrp != pgid_) pgid_ = stat->pgrp;  // the stop signals its group from now on
  host_.watch(pid_, [this, pid](int wait_status) { on_exit(pid, wait_status); });
  return true;
}

void Program::on_exit(pid_t pid, int wait_status) {
  if (observer_) observer_->before_exit();  // a MAINPID= sent before this exit comes first
  if (pid != pid_) return;                  // an adopted main replaced it meanwhile
  pid_ = 0;                                 // reaped: its number may be reused from now on
  if (error_pipe_) on_error_pipe();         // the child is gone, so the pipe holds its last word
  close_error_pipe();
  if (output_) {
    // The exit is reported once the pipes are drained: the program's last line comes first.
    output_->drain(kOutputDrainWait,
                   [this, pid, wait_status] { after_output_drained(pid, wait_status); });
    return;
  }
  after_output_drained(pid, wait_status);
}

void Program::after_output_drained(pid_t pid, int wait_status) {
  std::erase_if(lingering_outputs_, [](const auto& o) { return o->drained(); });
  if (output_ && !output_->drained()) {
    lingering_outputs_.push_back(std::move(output_));  // read on until its last writer is gone
  } else if (output_) {
    // Not destroyed inside its own callback.
    std::shared_ptr<ProgramOutput> done(std::move(output_));
    loop_.defer([done] {});
  }
  bool empty = group_empty();
  if (!exec_error_.empty()) {
    plan_.reset();
    log::warn(
        "spawn failed",
        {{"event", "spawn_failed"}, {"program", name_}, {"pid", pid}, {"error", exec_error_}});
    feed(LifecycleEvent::failure(exec_error_, empty));
    return;
  }
  ExitStatus st = ExitStatus::from_wait_status(wait_status);
  nlohmann::ordered_json fields = {{"event", "exit"}, {"program", name_}, {"pid", pid}};
  if (st.signaled) {
    fields["signal"] = signal_name(st.signal);
  } else {
    fields["code"] = st.code;
  }
  log::info("exited", fields);
  feed(LifecycleEvent::exit(st, empty));
}

bool Program::group_empty() {
  if (cgroup_) {
    if (cgroup_->populated()) return false;
    pgid_ = 0;  // the group is part of the cgroup
    return true;
  }
  if (pgid_ == 0) return true;
  if (host_.kill(-pgid_, 0) != 0 && errno == ESRCH) {
    pgid_ = 0;  // gone: never signal that number again
    return true;
  }
  return false;
}

void Program::recheck_group() {
  if (status_.state != State::stopping || status_.main_alive) return;
  // kill(-pgid, 0) walks the whole group: in a storm of exits from a big group, look at most
  // every kGroupLookInterval, and once more after it, so that its end is still seen at once.
  TimePoint now = host_.now();
  if (now < next_group_look_) {
    if (!group_look_->armed())
      group_look_->arm(std::chrono::ceil<Duration>(next_group_look_ - now));
    return;
  }
  next_group_look_ = now + kGroupLookInterval;
  if (group_empty()) {
    group_poll_->cancel();
    group_look_->cancel();
    feed(LifecycleEvent::of(LifecycleEvent::Kind::group_empty));
  }
}

void Program::signal_group(int signo) {
  if (pgid_ != 0 && host_.kill(-pgid_, signo) == 0) return;
  // The child may not have called setsid() yet: its group does not exist, but it does.
  if (pid_ > 0) {
    host_.kill(pid_, signo);
  } else {
    pgid_ = 0;
  }
}

void Program::signal_stop(int signo) {
  bool group = config_.kill_mode != KillMode::process;
  log::info("stopping", {{"event", "stop"},
                         {"program", name_},
                         {"pid", pid_},
                         {"signal", signal_name(signo)},
                         {"target", cgroup_ ? "cgroup"
                                    : group ? "group"
                                            : "process"}});
  send_stop(signo, cgroup_ || group);
}

void Program::signal_tree(int signo) {
  if (!cgroup_) return signal_group(signo);
  if (signo == SIGKILL) return cgroup_->kill_all();  // at once, forks included
  cgroup_->signal_all(signo);
}

void Program::kill_tree() {
  signal_tree(SIGKILL);
}

void Program::send_stop(int signo, bool whole_tree) {
  if (whole_tree) tree_stop_signal_ = signo;
  for (int s : {signo, SIGCONT}) {
    if (whole_tree) {
      signal_tree(s);
    } else if (pid_ > 0) {
      host_.kill(pid_, s);
    }
  }
}

void Program::signal_leftovers() {
  int signo = config_.stop_signal;
  if (tree_stop_signal_ == signo) return;  // the whole tree already got this stop
  log::info("stopping the processes the program left", {{"event", "stop"},
                                                        {"program", name_},
                                                        {"pgid", pgid_},
                                                        {"signal", signal_name(signo)},
                                                        {"target", cgroup_ ? "cgroup" : "group"}});
  send_stop(signo, true);
}

bool Program::send_signal(int signo, bool to_group, std::string& error) {
  if (pid_ <= 0 && !group_empty()) {
    // The main is gone but its processes are not (they are being stopped): they get it.
    log::info(
        "signal",
        {{"event", "signal"}, {"program", name_}, {"pgid", pgid_}, {"signal", signal_name(signo)}});
    signal_tree(signo);
    return true;
  }
  if (pid_ <= 0) {
    error = "it has no process (state ";
    error += to_string(status_.state);
    error += ')';
    return false;
  }
  log::info(
      "signal",
      {{"event", "signal"}, {"program", name_}, {"pid", pid_}, {"signal", signal_name(signo)}});
  if (to_group) {
    signal_group(signo);
  } else if (host_.kill(pid_, signo) != 0) {
    error = "kill ";
    error += std::to_string(pid_);
    error += ": ";
    error += std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace gardien
