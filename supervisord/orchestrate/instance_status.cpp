#include "supervisord/orchestrate/instance_status.h"

#include <algorithm>

namespace gardien {

protocol::InstanceStatus instance_status(const Program& program, TimePoint now,
                                         const std::string& waiting_for) {
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
    case State::starting:
    case State::running:
    case State::stopping:
      break;  // the process is alive: its predecessor's exit is history
  }
  // A failing log file is worth seeing whatever the state (docs/output.md).
  if (std::string problem = program.output_problem(); !problem.empty()) {
    if (!info.empty()) info += "; ";
    info += problem;
  }
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
