#include "supervisord/jobs/task_attempt.h"

namespace gardien {

namespace {
// The lifecycle explains a failed spawn for programs; a task's runs never restart on their own.
std::string without_restart_note(std::string reason) {
  for (std::string_view note :
       {"; not retried: restart = never", "; not restarted: shutting down"}) {
    auto at = reason.find(note);
    if (at != std::string::npos) reason.erase(at, note.size());
  }
  return reason;
}
}  // namespace

AttemptEnd attempt_end(const LifecycleStatus& status, const TaskConfig& task,
                       const std::optional<std::string>& cancel_reason) {
  using protocol::JobOutcome;
  AttemptEnd end;
  end.exit = status.last_exit;
  end.info = without_restart_note(status.reason);
  if (status.last_run == RunOutcome::timed_out) {
    end.outcome = JobOutcome::timed_out;
    end.info = "timed out after " + format_duration(task.timeout);
  } else if (status.state == State::stopped) {
    end.outcome = JobOutcome::cancelled;
    end.info = cancel_reason.value_or("stopped");
  } else if (status.state == State::fatal || status.last_run == RunOutcome::failed_to_start ||
             !status.last_exit) {
    end.outcome = JobOutcome::failed_to_start;
    end.exit.reset();
  } else if (is_success(*status.last_exit, task.process)) {
    end.outcome = JobOutcome::succeeded;
    end.info = status.last_exit->to_string();
  } else {
    end.outcome = JobOutcome::failed;
    end.info = status.last_exit->to_string();
  }
  return end;
}

AttemptVerdict after_attempt(const AttemptEnd& end, int attempts, const TaskConfig& task,
                             bool may_retry, TimePoint first_spawn, TimePoint now) {
  using protocol::JobOutcome;
  AttemptVerdict v;
  v.info = end.info;
  if (attempts > 1) v.info += "; " + std::to_string(attempts) + " attempts";
  bool failed = end.outcome == JobOutcome::failed || end.outcome == JobOutcome::timed_out ||
                end.outcome == JobOutcome::failed_to_start;
  if (!failed || !may_retry || attempts > task.retries) return v;
  Duration delay = backoff_delay(task.process, attempts - 1);
  if (task.deadline > Duration{0} && now + delay >= first_spawn + task.deadline) {
    v.info += "; no retry: the deadline of " + format_duration(task.deadline) + " comes first";
    return v;
  }
  v.retry = true;
  v.delay = delay;
  v.info = end.info + "; retrying in " + format_duration(delay) + " (attempt " +
           std::to_string(attempts + 1) + " of " + std::to_string(task.retries + 1) + ")";
  return v;
}

}  // namespace gardien
