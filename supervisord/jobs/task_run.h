// One run of a task, from its first attempt to its outcome: it owns a Program (the same spawn,
// stop and output path as a program's instance, named after the run: "migrate#12") and applies
// what task_attempt.h decides between attempts. Its overall deadline and the backoff between
// attempts are its own timers; the attempt's timeout is the Program's run deadline.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/protocol.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/program.h"
#include "supervisord/process/reaper.h"

namespace gardien {

class TaskRun {
 public:
  struct Callbacks {
    // Gives a new Program what the daemon's programs get (output hub, cgroups).
    std::function<void(Program&)> prepare;
    // The record changed (an attempt began, a pid, the end); called after the change.
    std::function<void(TaskRun&)> changed;
    // The run is over (record().state == finished). The run may be destroyed only later, from
    // the loop (EventLoop::defer): this is called from inside its Program's callback.
    std::function<void(TaskRun&)> ended;
  };

  // `record` is the queued run; its args are appended to the task's command.
  TaskRun(EventLoop& loop, Reaper& reaper, const TaskConfig& task, protocol::JobRecord record,
          Callbacks callbacks);
  ~TaskRun();
  TaskRun(const TaskRun&) = delete;
  TaskRun& operator=(const TaskRun&) = delete;

  // Spawns the first attempt.
  void begin();
  // Stops it (stop sequence) and ends it as cancelled with `why` ("cancelled by uid 0",
  // "cancelled: shutdown"); a run between attempts ends at once.
  void cancel(std::string why);
  // The daemon shuts down: no attempt after this one.
  void hold();
  // Forceful shutdown: SIGKILL the tree now.
  void kill();
  // After a reaping: a stop waiting for the rest of its process group may be complete.
  void recheck_group() { program_->recheck_group(); }

  const protocol::JobRecord& record() const noexcept { return record_; }
  const std::string& id() const noexcept { return record_.id; }
  const std::string& task() const noexcept { return record_.task; }
  bool finished() const noexcept { return record_.state == protocol::JobState::finished; }
  // A process of the current attempt may be alive.
  bool has_process() const noexcept;
  const Program& program() const noexcept { return *program_; }

 private:
  enum class Ending { none, cancel, deadline };
  void on_change(State before);
  void attempt_ended();
  void next_attempt();
  void on_deadline();
  void finish(protocol::JobOutcome outcome, const std::optional<ExitStatus>& exit,
              std::string info);

  EventLoop& loop_;
  TaskConfig task_;
  protocol::JobRecord record_;
  Callbacks callbacks_;
  std::unique_ptr<Program> program_;
  Timer backoff_;
  Timer deadline_;
  TimePoint first_spawn_{};
  Ending ending_ = Ending::none;
  std::string cancel_why_;
  bool hold_ = false;
};

// The wall clock as the records keep it: milliseconds since the Unix epoch.
std::int64_t wall_clock_ms();

}  // namespace gardien
