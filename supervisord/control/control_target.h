// The seam between the control socket and the supervisor: what the verbs need, and nothing else.
// The supervisor implements ControlTarget; commands.cpp talks only to this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/protocol.h"

namespace gardien {

// One transition of one instance, published after it happened.
struct StateChange {
  protocol::InstanceStatus status;  // the instance as it is now (state, pid, info...)
  protocol::InstanceState previous = protocol::InstanceState::stopped;
  // The instance no longer exists (a reload dropped it); `status` is how it was last.
  bool removed = false;
  // Not a transition: what a running instance said on its notify socket, published so that
  // `reload NAME` sees the READY=1 that ends a reload (`previous` is then its state as it is).
  enum class Notice { none, reloading, ready };
  Notice notice = Notice::none;
  // Not an instance's transition: a task run was queued, started or finished (`status` is then
  // empty). Listeners that follow instances skip these.
  std::optional<protocol::JobRecord> job = std::nullopt;
};

// Listeners of state changes. Listeners may subscribe or unsubscribe (their own subscription
// included) while a change is being published; an unsubscribed listener is never called again.
class StateChangeHub {
 public:
  using Listener = std::function<void(const StateChange&)>;

  // Unregisters its listener when reset or destroyed; safe to outlive the hub.
  class Subscription {
   public:
    Subscription() = default;
    ~Subscription() { reset(); }
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    void reset() noexcept;
    bool active() const noexcept;

   private:
    friend class StateChangeHub;
    struct Registry;
    Subscription(std::weak_ptr<Registry> registry, std::uint64_t id)
        : registry_(std::move(registry)), id_(id) {}
    std::weak_ptr<Registry> registry_;
    std::uint64_t id_ = 0;
  };

  StateChangeHub();
  StateChangeHub(const StateChangeHub&) = delete;
  StateChangeHub& operator=(const StateChangeHub&) = delete;

  [[nodiscard]] Subscription subscribe(Listener listener);
  // Calls every listener in subscription order. Call it synchronously at each transition.
  void publish(const StateChange& change);
  std::size_t listener_count() const;

 private:
  std::shared_ptr<Subscription::Registry> registry_;
};

// What `reload` found: a plan when the new config is valid, and every diagnostic either way.
struct ReloadOutcome {
  std::optional<protocol::ReloadPlan> plan;  // unset: the config has errors and nothing changed
  std::vector<Diagnostic> diagnostics;       // errors (plan unset) and warnings
};

// What `reload NAME` did to one instance.
struct InstanceReload {
  protocol::InstanceResult result;  // ok=false with the reason when nothing was sent
  // It speaks the notify protocol (ready = "notify"): its reload ends at its next READY=1.
  bool awaits_ready = false;
};

// What `run` asks for.
struct RunRequest {
  std::string task;
  std::vector<std::string>
      args;              // appended to its command; refused when the task sets args = false
  std::int64_t uid = 0;  // the submitter (peer credentials)
};

// `run` or `cancel`: the records it made or touched, or why nothing was done.
struct JobsAnswer {
  std::vector<protocol::JobRecord> records;
  std::optional<protocol::Error> error;  // unknown_program, failed (queue full), shutting_down...
};

// What `jobs` lists: the running and kept finished runs, and queued ones up to a limit, the next
// to start first; a big queue is counted past it, so a listing stays small and quick.
struct JobsListing {
  std::vector<protocol::JobRecord> records;  // by task, then number
  std::size_t unlisted_queued = 0;           // queued runs past the limit
};

// Implemented by the supervisor. Every call happens on the loop thread and must not block.
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;

  // Every instance in display order (programs by name, then instance index). Names are unique;
  // a program's instances all carry its name in `program`. The verbs resolve NAME arguments
  // (program, instance "web.2", glob "web*", "all") against this list themselves.
  // Leaves `processes` unset: counting costs a walk over /proc (see count_processes).
  virtual std::vector<protocol::InstanceStatus> instances() const = 0;
  // Fills `processes` of each status taken from instances(), when a client asks for it.
  virtual void count_processes(std::vector<protocol::InstanceStatus>& statuses) const = 0;

  // Actions on instance names taken from instances(). Each starts the action and returns at
  // once with one result per name, in order: `state`/`pid` as they are right after the call,
  // ok=false with `info` when the action does not apply to that instance ("is stopping",
  // "not running"), ok=true with a note in `info` when nothing had to be done
  // ("already running"). Every transition an action causes must be published on
  // state_changes(), synchronously when it happens (also inside these calls), so a listener
  // subscribed before the call sees all of them.
  virtual std::vector<protocol::InstanceResult> start(const std::vector<std::string>& names) = 0;
  virtual std::vector<protocol::InstanceResult> stop(const std::vector<std::string>& names) = 0;
  // Stop, then start once stopped (restart of a stopped instance is a start).
  virtual std::vector<protocol::InstanceResult> restart(const std::vector<std::string>& names) = 0;
  // Sends `signo` to each instance's process (group, per its kill mode); ok=false when not running.
  virtual std::vector<protocol::InstanceResult> signal(int signo,
                                                       const std::vector<std::string>& names) = 0;

  // Sends each instance's reload-signal to its main process; ok=false when it is not running.
  // `info` reads after the instance's name ("is stopped: nothing to reload", "SIGHUP sent").
  // A running instance's RELOADING=1 and READY=1 are published on state_changes() as notices.
  virtual std::vector<InstanceReload> reload_instances(const std::vector<std::string>& names) = 0;

  virtual StateChangeHub& state_changes() = 0;

  // Re-reads the config file and, unless `dry_run`, applies the difference (the plan) at once.
  virtual ReloadOutcome reload(bool dry_run) = 0;

  // --- Tasks (docs/tasks.md). Every change of a run is published on state_changes() (`job`). ---
  // Queues one run of a task; the record (queued, or already running when a slot was free).
  virtual JobsAnswer submit_run(const RunRequest& request) = 0;
  // Running and finished runs and at most `queued_limit` queued ones (of `task` only, unless
  // empty).
  virtual JobsListing jobs(const std::string& task, std::size_t queued_limit) const = 0;
  // One run by id ("migrate#12"), kept in history or active; nullopt when unknown.
  virtual std::optional<protocol::JobRecord> job(const std::string& id) const = 0;
  // `target` is a run id or a task name (all its queued and running runs): queued runs are
  // removed, running ones get the stop sequence; each ends with the outcome `cancelled`.
  virtual JobsAnswer cancel(const std::string& target) = 0;
  // The next `count` fires of each scheduled task (of `task` only, unless empty).
  virtual std::vector<protocol::TaskSchedule> schedules(const std::string& task,
                                                        int count) const = 0;

  // Begins the graceful shutdown and returns at once.
  virtual void shutdown() = 0;
  // True from the start of a shutdown: start, restart and reload are then refused.
  virtual bool shutting_down() const = 0;
};

}  // namespace gardien
