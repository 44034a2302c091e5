// Every task run of the daemon: submissions from any source go through the one JobQueue; the
// runs it admits become TaskRuns; finished ones stay in a bounded history per task. The
// Supervisor owns it, asks it for facts (what the orchestrator needs of a task) and forwards the
// task verbs to it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/protocol.h"
#include "supervisord/control/control_target.h"
#include "supervisord/jobs/job_queue.h"
#include "supervisord/jobs/run_history.h"
#include "supervisord/jobs/task_run.h"
#include "supervisord/jobs/task_schedules.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/reaper.h"

namespace gardien {

// What the orchestrator needs of a task: is a run of it on its way, and how did the latest end.
struct TaskActivity {
  std::size_t queued = 0;
  std::size_t running = 0;
  // The latest finished run in this daemon's life (runs read back from the state file are not:
  // a dependency on a task waits for a run of this life).
  std::optional<protocol::JobRecord> last;
};

class JobRunner {
 public:
  struct Callbacks {
    std::function<void(Program&)> prepare;  // a new run's Program gets the daemon's output, cgroups
    // A record changed (queued, started, an attempt, finished): publish it.
    std::function<void(const protocol::JobRecord&)> changed;
    // A run finished; called outside any Program's callback.
    std::function<void(const protocol::JobRecord&)> finished;
    // A finished run left the history: what was kept of it (its output) may go.
    std::function<void(const std::string& id)> forgotten;
  };

  JobRunner(EventLoop& loop, Reaper& reaper, const Config& config, Callbacks callbacks);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // At start, before any submission: the finished runs and run numbers read back from the state
  // directory (RunHistoryFile::loaded()). They are listed like this life's runs, numbering goes
  // on after them, and they never count as a task's latest run of this life.
  void restore(const LoadedHistory& loaded);

  // A reload: running runs keep their settings; the next ones take the new. Queued runs of a
  // task that is gone are cancelled; its running runs finish (docs/tasks.md).
  void set_config(const Config& config);

  // Queues a run of `task`. Refused when the task is unknown, `args` are given to a task that
  // set args = false, max-queued-jobs runs wait already, or the daemon shuts down.
  JobsAnswer submit(const std::string& task, std::vector<std::string> args,
                    protocol::JobSource source, std::optional<std::int64_t> uid = std::nullopt,
                    bool beside_active = false);
  // `target`: a run id or a task (all its queued and running runs).
  JobsAnswer cancel(const std::string& target, const std::string& why);

  // Its schedule fired: a run, as its `concurrency` says.
  void fire(const std::string& task);
  // The next `count` fires of each scheduled task (of `task` only, unless empty).
  std::vector<protocol::TaskSchedule> schedules(const std::string& task, int count) const;
  std::optional<Instant> next_fire(const std::string& task) const {
    return schedules_.next_fire(task);
  }

  // ControlTarget::jobs: kept and running runs, and the first `queued_limit` queued ones.
  JobsListing list(const std::string& task, std::size_t queued_limit) const;
  std::optional<protocol::JobRecord> find(const std::string& id) const;
  TaskActivity activity(const std::string& task) const;
  // The active runs (running or between attempts), by id.
  std::vector<const TaskRun*> active() const;

  // Shutdown: queued runs are dropped (cancelled: shutdown), running ones get the stop sequence,
  // nothing new is accepted. kill_all(): SIGKILL what still runs.
  void begin_shutdown();
  void kill_all();
  bool any_process() const;
  // After a reaping: a run's stop waiting for the rest of its process group may be complete.
  void recheck_groups();

 private:
  struct TaskState {
    std::int64_t last_number = 0;
    std::deque<protocol::JobRecord> history;  // finished, oldest first
    std::optional<protocol::JobRecord> last_in_life;
  };
  const TaskConfig* task_config(const std::string& task) const;
  std::size_t task_limit(const std::string& task) const;
  // Starts what the queue admits, never inside a callback: after a submission on the next turn,
  // so that the submitter's answer goes out first; after a run's end later in this turn, so that
  // the next run waits for nothing else (the run record's write included).
  void pump_soon();
  void pump_this_turn();
  void pump();
  void start(protocol::JobRecord record);
  void on_ended(TaskRun& run);
  void remember(const protocol::JobRecord& record);
  std::optional<protocol::JobRecord> take_queued(const std::string& id, const std::string& why);

  EventLoop& loop_;
  Reaper& reaper_;
  std::vector<TaskConfig> tasks_;
  Callbacks callbacks_;
  JobQueue queue_;
  std::map<std::string, protocol::JobRecord> queued_;     // by id
  std::map<std::string, std::unique_ptr<TaskRun>> runs_;  // active, by id
  std::vector<std::unique_ptr<TaskRun>> done_;            // finished, destroyed on the next pump
  std::map<std::string, TaskState> state_;                // by task
  Timer pump_timer_;
  SameTurnCall pump_now_;
  TaskSchedules schedules_;  // after what its fires use
  bool shutting_down_ = false;
};

}  // namespace gardien
