#include "supervisord/jobs/task_run.h"

#include <utility>

#include "supervisord/jobs/task_attempt.h"

namespace gardien {

using protocol::JobOutcome;
using protocol::JobState;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
// A run's settings: the task's, with the run's arguments after its command. A shell command
// (`command = "..."`, /bin/sh -c SCRIPT) gets the task's name as $0, so the arguments are "$@".
ProgramConfig run_config(const TaskConfig& task, const std::vector<std::string>& args) {
  ProgramConfig config = task.process;
  const auto& c = config.command;
  if (!args.empty() && c.size() == 3 && c[0] == "/bin/sh" && c[1] == "-c")
    config.command.push_back(task.name());
  config.command.insert(config.command.end(), args.begin(), args.end());
  return config;
}
// The record shows how the latest attempt ended: an exit code or a signal, never both.
void set_exit(protocol::JobRecord& record, const std::optional<ExitStatus>& exit) {
  record.exit_code.reset();
  record.signal.reset();
  if (exit && exit->signaled) record.signal = exit->signal;
  if (exit && !exit->signaled) record.exit_code = exit->code;
}
bool at_rest(State s) {
  return s == State::stopped || s == State::exited || s == State::fatal;
}
}  // namespace

TaskRun::TaskRun(EventLoop& loop, Reaper& reaper, const TaskConfig& task,
                 protocol::JobRecord record, Callbacks callbacks)
    : loop_(loop),
      task_(task),
      record_(std::move(record)),
      callbacks_(std::move(callbacks)),
      backoff_(loop, [this] { next_attempt(); }),
      deadline_(loop, [this] { on_deadline(); }) {
  program_ = std::make_unique<Program>(loop, reaper, run_config(task_, record_.args), record_.id,
                                       [this](Program&, State before) { on_change(before); });
  program_->set_run_deadline(task_.timeout);
  if (callbacks_.prepare) callbacks_.prepare(*program_);
}

TaskRun::~TaskRun() = default;

bool TaskRun::has_process() const noexcept {
  return gardien::has_process(program_->state());
}

void TaskRun::begin() {
  record_.state = JobState::running;
  record_.started_ms = wall_clock_ms();
  first_spawn_ = Clock::now();
  if (task_.deadline > Duration{0}) deadline_.arm(task_.deadline);
  next_attempt();
}

void TaskRun::next_attempt() {
  record_.attempts++;
  record_.info.clear();
  program_->start();
  if (callbacks_.changed && !finished()) callbacks_.changed(*this);
}

void TaskRun::on_change(State before) {
  State now = program_->state();
  if (now == State::running && before != State::running) {
    record_.pid = program_->pid();
    if (callbacks_.changed) callbacks_.changed(*this);
    return;
  }
  if (at_rest(now) && !at_rest(before)) attempt_ended();
}

void TaskRun::attempt_ended() {
  record_.pid.reset();
  std::optional<std::string> cancelled;
  if (ending_ == Ending::cancel) cancelled = cancel_why_;
  AttemptEnd end = attempt_end(program_->status(), task_, cancelled);
  if (ending_ == Ending::deadline) {
    end.outcome = JobOutcome::timed_out;
    end.info = "timed out: the deadline of " + format_duration(task_.deadline) + " passed";
  }
  AttemptVerdict verdict = after_attempt(
      end, record_.attempts, task_, !hold_ && ending_ == Ending::none, first_spawn_, Clock::now());
  if (!verdict.retry) return finish(end.outcome, end.exit, std::move(verdict.info));
  set_exit(record_, end.exit);
  record_.info = std::move(verdict.info);
  backoff_.arm(verdict.delay);
  if (callbacks_.changed) callbacks_.changed(*this);
}

void TaskRun::finish(JobOutcome outcome, const std::optional<ExitStatus>& exit, std::string info) {
  if (finished()) return;
  backoff_.cancel();
  deadline_.cancel();
  record_.state = JobState::finished;
  record_.outcome = outcome;
  record_.ended_ms = wall_clock_ms();
  record_.pid.reset();
  set_exit(record_, exit);
  record_.info = std::move(info);
  if (callbacks_.ended) callbacks_.ended(*this);
}

void TaskRun::cancel(std::string why) {
  if (finished()) return;
  if (ending_ == Ending::none) {
    ending_ = Ending::cancel;
    cancel_why_ = std::move(why);
  }
  if (has_process()) return program_->stop();
  finish(JobOutcome::cancelled, std::nullopt, cancel_why_);
}

void TaskRun::on_deadline() {
  if (finished()) return;
  if (ending_ == Ending::none) ending_ = Ending::deadline;
  if (has_process()) return program_->stop();
  finish(JobOutcome::timed_out, std::nullopt,
         "timed out: the deadline of " + format_duration(task_.deadline) + " passed");
}

void TaskRun::hold() {
  hold_ = true;
  program_->hold_restarts();
  if (!finished() && !has_process()) cancel("cancelled: shutdown");
}

void TaskRun::kill() {
  hold_ = true;
  if (has_process()) program_->kill();
}

}  // namespace gardien
