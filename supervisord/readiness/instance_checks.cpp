#include "supervisord/readiness/instance_checks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

// A systemd-style daemon that says nothing more than a line before its newline is wrong, not
// slow: the fd protocol reads at most this much before giving up on it.
constexpr std::size_t kMaxReadyLine = 4096;

}  // namespace

InstanceChecks::InstanceChecks(EventLoop& loop, ProcessHost& host, Program& program)
    : loop_(loop),
      host_(host),
      program_(program),
      poll_timer_(host_.make_timer([this] { poll(); })) {
  program_.set_observer(this);
}

InstanceChecks::~InstanceChecks() {
  program_.set_observer(nullptr);
  if (ready_fd_event_) ready_fd_event_->disable();
}

// --- Before and after each spawn. ---

bool InstanceChecks::before_spawn(SpawnPlan& plan, std::string& error) {
  const ProgramConfig& config = program_.config();
  status_text_.clear();
  reloading_ = stopping_ = false;
  errno_value_.reset();
  not_ready_because_.clear();
  enter(Phase::idle);
  if (config.uses_notify_socket()) {
    if (!open_notify_socket(config, error)) return false;
    set_environment(plan, "NOTIFY_SOCKET", notify_->address());
    if (config.watchdog > Duration{0}) {
      auto usec = std::chrono::duration_cast<std::chrono::microseconds>(config.watchdog);
      set_environment(plan, "WATCHDOG_USEC", std::to_string(usec.count()));
      set_environment(plan, "WATCHDOG_PID", "0");
      plan.pid_variable = "WATCHDOG_PID";
    }
  } else {
    notify_.reset();
  }
  close_ready_fd();
  readiness_.reset();
  health_.reset();
  if (config.ready && config.ready->kind == ProbeConfig::Kind::fd &&
      !open_ready_fd(config, plan, error))
    return false;
  if (config.ready && config.ready->kind == ProbeConfig::Kind::file &&
      ::unlink(config.ready->target.c_str()) != 0 && errno != ENOENT) {
    // Left in place, it would make this run ready before it is.
    error = "cannot remove the ready file " + config.ready->target + ": " + std::strerror(errno);
    return false;
  }
  if (config.ready && config.ready->polled())
    readiness_.emplace(ProbeSchedule::Role::readiness, *config.ready);
  if (config.health) health_.emplace(ProbeSchedule::Role::health, *config.health);
  return true;
}

bool InstanceChecks::open_notify_socket(const ProgramConfig& config, std::string& error) {
  uid_t writer = config.run_as ? config.run_as->uid : ::geteuid();
  if (notify_ && notify_writer_ == writer) return true;
  notify_ = NotifySocket::open(
      loop_, program_.name(), writer,
      [this](const NotifyMessage& m, const NotifySocket::Sender& s) { on_notify(m, s); }, error);
  notify_writer_ = writer;
  if (!notify_) error = "cannot make the notify socket: " + error;
  return notify_ != nullptr;
}

bool InstanceChecks::open_ready_fd(const ProgramConfig& config, SpawnPlan& plan,
                                   std::string& error) {
  FdPair pipe;
  if (!make_pipe(pipe) || ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    error = std::string("cannot make the readiness pipe: ") + std::strerror(errno);
    return false;
  }
  plan.pass_fds.emplace_back(pipe.write.get(), config.ready->fd);
  ready_fd_ = std::move(pipe.read);
  ready_fd_child_ = std::move(pipe.write);
  ready_fd_line_.clear();
  ready_fd_event_ = std::make_unique<FdEvent>(loop_, ready_fd_.get(), EV_READ | EV_PERSIST,
                                              [this](short) { on_ready_fd(); });
  ready_fd_event_->enable();
  return true;
}

void InstanceChecks::spawned(pid_t) {
  ready_fd_child_.reset();  // the child has its copy: EOF once it closes it
  if (readiness_) enter(Phase::readiness);
}

void InstanceChecks::before_exit() {
  if (notify_) notify_->drain();
}

void InstanceChecks::state_changed(State, State now) {
  if (now == State::running) {
    close_ready_fd();
    enter(health_ ? Phase::health : Phase::idle);
  } else if (now != State::starting) {
    // Checks pause while it stops, and there is nothing to check without a process.
    close_ready_fd();
    enter(Phase::idle);
  }
}

// --- The s6 protocol: a line on an fd. ---

void InstanceChecks::on_ready_fd() {
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(ready_fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // EOF (or an error): closed without a line, so never ready this way
      log::debug("readiness fd closed without a line",
                 {{"event", "ready_fd"}, {"program", program_.name()}});
      return loop_.defer([this] { close_ready_fd(); });
    }
    std::string_view got(buffer, static_cast<std::size_t>(n));
    if (got.find('\n') != std::string_view::npos) {
      loop_.defer([this] { close_ready_fd(); });
      return program_.report_ready();
    }
    ready_fd_line_.append(got);
    if (ready_fd_line_.size() > kMaxReadyLine) {
      log::warn("readiness fd: no newline in the first 4 KiB; ignoring the fd",
                {{"event", "ready_fd"}, {"program", program_.name()}});
      return loop_.defer([this] { close_ready_fd(); });
    }
  }
}

void InstanceChecks::close_ready_fd() {
  if (ready_fd_event_) {
    ready_fd_event_->disable();
    ready_fd_event_.reset();
  }
  ready_fd_.reset();
  ready_fd_child_.reset();
}

// --- The systemd protocol. ---

void InstanceChecks::on_notify(const NotifyMessage& m, const NotifySocket::Sender& sender) {
  if (m.main_pid) {
    std::string error;
    if (!program_.adopt_main(*m.main_pid, error))
      log::warn("MAINPID ignored", {{"event", "notify"},
                                    {"program", program_.name()},
                                    {"sender", sender.pid},
                                    {"error", error}});
  }
  if (m.status) status_text_ = *m.status;
  if (m.errno_value) errno_value_ = m.errno_value;
  if (m.stopping) stopping_ = true;
  bool running = program_.state() == State::running;
  if (m.reloading) {
    reloading_ = true;
    if (phase_ == Phase::health) enter(Phase::idle);  // checks pause while it reloads
  }
  if (m.extend_timeout) program_.extend_timeout(*m.extend_timeout);
  if (m.watchdog) program_.watchdog_ping();
  bool was_reloading = false;
  if (m.ready) {
    was_reloading = std::exchange(reloading_, false);
    if (was_reloading && program_.state() == State::running && health_) enter(Phase::health);
    program_.report_ready();
  }
  if (m.watchdog_trigger) program_.report_unhealthy("the program triggered its watchdog");
  if (running && notice_listener_) tell_notices(m, was_reloading);
}

void InstanceChecks::tell_notices(const NotifyMessage& m, bool was_reloading) {
  if (m.reloading && !m.ready) notice_listener_(Notice::reloading);
  if (m.ready) notice_listener_(was_reloading || m.reloading ? Notice::reloaded : Notice::ready);
}

// --- Polled probes. ---

void InstanceChecks::enter(Phase phase) {
  if (phase == phase_ && phase != Phase::idle) return;
  ++generation_;
  poll_timer_->cancel();
  if (phase_ == Phase::readiness && readiness_) readiness_->pause();
  if (phase_ == Phase::health && health_) health_->pause();
  retire_probe();
  phase_ = phase;
  TimePoint now = host_.now();
  if (phase == Phase::readiness && readiness_) readiness_->begin(now);
  if (phase == Phase::health && health_) health_->begin(now);
  schedule_next();
}

void InstanceChecks::retire_probe() {
  // A poll in flight is cancelled by destroying its probe, never inside the probe's callback;
  // the phase's next poll, if it comes, builds a new one.
  if (phase_ == Phase::idle) return;
  std::unique_ptr<Probe>& probe = phase_ == Phase::readiness ? readiness_probe_ : health_probe_;
  if (!probe) return;
  std::shared_ptr<Probe> old(std::move(probe));
  loop_.defer([old] {});
}

void InstanceChecks::schedule_next() {
  ProbeSchedule* schedule = phase_ == Phase::readiness ? (readiness_ ? &*readiness_ : nullptr)
                            : phase_ == Phase::health  ? (health_ ? &*health_ : nullptr)
                                                       : nullptr;
  if (!schedule) return;
  std::optional<TimePoint> due = schedule->next_due();
  if (!due) return;
  Duration wait = std::max(Duration{0}, std::chrono::ceil<Duration>(*due - host_.now()));
  poll_timer_->arm(wait);
}

void InstanceChecks::poll() {
  bool readiness = phase_ == Phase::readiness;
  ProbeSchedule* schedule = readiness ? (readiness_ ? &*readiness_ : nullptr)
                                      : (phase_ == Phase::health && health_ ? &*health_ : nullptr);
  if (!schedule) return;
  const ProgramConfig& program = program_.config();
  const ProbeConfig& config = readiness ? *program.ready : *program.health;
  // Built at the phase's first poll: a run that never gets there builds none.
  std::unique_ptr<Probe>& probe = readiness ? readiness_probe_ : health_probe_;
  if (!probe) probe = make_probe(config, program, program_.name(), loop_, host_);
  if (!probe) return;
  schedule->poll_started(host_.now());
  unsigned generation = generation_;
  probe->run(config.timeout,
             [this, generation](ProbeResult result) { on_result(result, generation); });
}

void InstanceChecks::on_result(const ProbeResult& result, unsigned generation) {
  if (generation != generation_ || phase_ == Phase::idle) return;  // from before a pause
  bool readiness = phase_ == Phase::readiness;
  ProbeSchedule& schedule = readiness ? *readiness_ : *health_;
  protocol::Health before = schedule.health();
  ProbeSchedule::Verdict verdict = schedule.poll_finished(result.ok, result.message, host_.now());
  if (readiness && !result.ok) not_ready_because_ = result.message;
  if (!readiness && schedule.health() != before) {
    log::write(result.ok ? LogLevel::info : LogLevel::warn, result.ok ? "healthy" : "check failed",
               {{"event", "health"},
                {"program", program_.name()},
                {"failures", schedule.failures()},
                {"threshold", schedule.threshold()},
                {"error", result.message}});
  }
  switch (verdict) {
    case ProbeSchedule::Verdict::ready:
      return program_.report_ready();  // the state change moves the checks on
    case ProbeSchedule::Verdict::unhealthy:
      return program_.report_unhealthy(schedule.last_failure());
    case ProbeSchedule::Verdict::none:
    case ProbeSchedule::Verdict::healthy:
      return schedule_next();
  }
}

CheckReport InstanceChecks::report() const {
  CheckReport r;
  if (health_ && phase_ == Phase::health) {
    r.health = health_->health();
    r.failures = health_->failures();
    r.threshold = health_->threshold();
  } else if (health_) {
    r.threshold = health_->threshold();
  }
  r.status_text = status_text_;
  r.reloading = reloading_;
  r.stopping = stopping_;
  r.errno_value = errno_value_;
  if (program_.state() == State::starting) r.not_ready_because = not_ready_because_;
  return r;
}

}  // namespace gardien
