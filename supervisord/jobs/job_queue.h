// The one queue every task run goes through, whoever asked for it (an operator, a schedule, the
// daemon's start): global slots, a per-task limit, FIFO within a priority, and a bound on what
// waits, beyond which a submission is refused rather than dropped. Pure: no clock, no processes;
// the JobRunner asks it which runs may start and tells it when one ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gardien {

class JobQueue {
 public:
  // A run's place: runs the daemon's start needs go before operators' and schedules'.
  enum class Priority { start = 0, normal = 1 };
  struct Limits {
    std::size_t slots = 1;       // runs at once, all tasks together (>= 1)
    std::size_t max_queued = 0;  // runs waiting for a slot; 0: none may wait
  };
  struct Waiting {
    std::string id;
    std::string task;
  };
  // How many runs of `task` may run at once (its max-concurrent).
  using TaskLimit = std::function<std::size_t(const std::string& task)>;

  explicit JobQueue(Limits limits) : limits_(limits) {}
  // A reload's new limits: runs already admitted keep their slots.
  void set_limits(Limits limits) { limits_ = limits; }
  const Limits& limits() const noexcept { return limits_; }

  // Adds a run behind the others of its priority; false when max_queued runs wait already.
  // `beside_task_limit`: it may start while its task is at its limit (concurrency = "allow").
  bool push(std::string id, std::string task, Priority priority = Priority::normal,
            bool beside_task_limit = false);
  // A queued run taken out (cancelled); false when it is not waiting.
  bool remove(const std::string& id);
  // Every waiting run of `task` taken out, in queue order.
  std::vector<std::string> remove_task(const std::string& task);
  // Every waiting run taken out (the daemon shuts down), in queue order.
  std::vector<Waiting> clear();

  // The waiting runs that may start now, in the order to start them, each taken out and
  // counted as running. A task at its limit is passed over; runs of other tasks behind it go.
  std::vector<Waiting> admit(const TaskLimit& task_limit);
  // A run admitted earlier ended: its slot is free.
  void finished(const std::string& task);

  std::size_t queued() const noexcept { return queued_; }
  std::size_t running() const noexcept { return running_; }
  std::size_t running_of(const std::string& task) const;
  std::size_t queued_of(const std::string& task) const;
  // The first `limit` waiting runs' ids, in the order they would start (of `task` only, unless
  // empty).
  std::vector<std::string> waiting(const std::string& task = {},
                                   std::size_t limit = static_cast<std::size_t>(-1)) const;

 private:
  struct Entry {
    std::uint64_t seq = 0;
    Priority priority = Priority::normal;
    std::string id;
    bool beside_task_limit = false;
  };
  // One FIFO per task: the head of each is the only candidate for that task.
  struct TaskQueue {
    std::deque<Entry> waiting;
    std::size_t running = 0;
  };
  // The task whose head goes next: the lowest (priority, seq) among tasks below their limit.
  std::optional<std::map<std::string, TaskQueue>::iterator> next_admissible(
      const TaskLimit& task_limit);
  void drop_if_idle(std::map<std::string, TaskQueue>::iterator it);

  Limits limits_;
  std::map<std::string, TaskQueue> tasks_;
  std::size_t queued_ = 0;
  std::size_t running_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace gardien
