#include "supervisord/orchestrate/instance_status.h"

#include <algorithm>
#include <cstring>

namespace gardien {

namespace {

// An instance whose run has ended reports how, as numbers (its INFO says it in words).
void add_last_exit(protocol::InstanceStatus& s, const LifecycleStatus& st) {
  if (has_process(st.state) || !st.last_exit) return;
  if (st.last_exit->signaled) {
    s.signal = st.last_exit->signal;
  } else {
    s.exit_code = st.last_exit->code;
  }
}

void append_info(std::string& info, const std::string& more) {
  if (more.empty()) return;
  if (!info.empty()) info += "; ";
  info += more;
}

// What the checks add while the process is alive: health, STATUS=, a pending reload, notes.
void add_checks(protocol::InstanceStatus& s, const CheckReport& checks, std::string& info) {
  s.status_text = checks.status_text;
  s.health_threshold = checks.threshold;
  if (!has_process(s.state)) return;
  // Health speaks of a running instance only (docs/protocol.md).
  if (s.state == State::running) {
    s.health = checks.health;
    s.health_failures = checks.failures;
  }
  s.reloading = checks.reloading;
  if (s.state == State::starting && !checks.not_ready_because.empty())
    append_info(info, "not ready: " + checks.not_ready_because);
  if (checks.stopping && s.state != State::stopping) append_info(info, "it sent STOPPING=1");
  if (checks.errno_value) {
    std::string text = "ERRNO=" + std::to_string(*checks.errno_value);
    if (*checks.errno_value > 0) {
      text += " (";
      text += std::strerror(*checks.errno_value);
      text += ")";
    }
    append_info(info, text);
  }
}

}  // namespace

protocol::InstanceStatus instance_status(const Program& program, TimePoint now,
                                         const std::string& waiting_for,
                                         const CheckReport* checks) {
  const LifecycleStatus& st = program.status();
  protocol::InstanceStatus s;
  s.name = program.name();
  s.program = program.config().name;
  s.state = st.state;
  if (program.pid() > 0) {
    s.pid = program.pid();
    s.uptime = std::chrono::duration_cast<Duration>(now - st.spawned_at);
  }
  s.restarts = st.restarts;
  s.last_run = st.last_run;
  // A one-shot that finished for good is not kept up; a fatal one is (it should be running).
  s.wanted = program.wanted() && st.state != State::exited;
  s.ready = st.state == State::running;
  add_last_exit(s, st);
  std::string info;
  switch (st.state) {
    case State::backoff: {
      info = st.reason.empty() && st.last_exit ? st.last_exit->to_string() : st.reason;
      Duration left = std::max(Duration{0}, std::chrono::ceil<Duration>(st.timer_due - now));
      if (!info.empty()) info += ", ";
      info += "retry in ";
      info += format_duration(std::chrono::ceil<std::chrono::seconds>(left));
      break;
    }
    case State::fatal:
    case State::exited:
      info = !st.reason.empty() ? st.reason : st.last_exit ? st.last_exit->to_string() : "";
      break;
    case State::stopped:
      if (!waiting_for.empty()) {
        info = "waiting for ";
        info += waiting_for;
      } else if (st.last_exit) {
        info = st.last_exit->to_string();
      }
      break;
    case State::stopping:
      info = st.reason;  // why it stops, when not on an operator's order ("unhealthy: HTTP 503")
      break;
    case State::starting:
    case State::running:
      break;  // the process is alive: its predecessor's exit is history
  }
  if (checks) add_checks(s, *checks, info);
  // A failing log file is worth seeing whatever the state (docs/output.md).
  append_info(info, program.output_problem());
  s.info = std::move(info);
  return s;
}

StateChange removal_of(const Program& program) {
  StateChange change;
  change.status = instance_status(program, Clock::now());
  change.previous = change.status.state;
  change.removed = true;
  return change;
}

}  // namespace gardien
