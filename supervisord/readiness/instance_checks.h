// The readiness and health checks of one instance: its own notify socket, its readiness fd and
// its polled probes. It watches the instance's runs through the RunObserver seam and reports
// what it learns to the Program (ready, unhealthy, watchdog, MAINPID) and to `status`.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/fd.h"
#include "common/protocol.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/process_host.h"
#include "supervisord/process/program.h"
#include "supervisord/process/run_observer.h"
#include "supervisord/readiness/notify_socket.h"
#include "supervisord/readiness/probe.h"
#include "supervisord/readiness/probe_schedule.h"

namespace gardien {

// What the checks add to an instance's status.
struct CheckReport {
  protocol::Health health = protocol::Health::none;
  int failures = 0;                // health checks failed in a row
  int threshold = 0;               // failure-threshold; 0 without a health check
  std::string status_text;         // the last STATUS=
  bool reloading = false;          // RELOADING=1, no READY=1 since
  bool stopping = false;           // STOPPING=1 during this run
  std::optional<int> errno_value;  // the last ERRNO=
  std::string not_ready_because;   // starting: the last readiness probe's failure
};

class InstanceChecks final : public RunObserver {
 public:
  // Observes `program` (which must outlive it) from now on; probes run through `host`.
  InstanceChecks(EventLoop& loop, ProcessHost& host, Program& program);
  ~InstanceChecks() override;
  InstanceChecks(const InstanceChecks&) = delete;
  InstanceChecks& operator=(const InstanceChecks&) = delete;

  bool before_spawn(SpawnPlan& plan, std::string& error) override;
  void spawned(pid_t pid) override;
  void state_changed(State before, State now) override;
  void before_exit() override;

  CheckReport report() const;

  // What a running instance says of its reloads on its notify socket.
  enum class Notice {
    reloading,  // RELOADING=1
    reloaded,   // READY=1 after RELOADING=1
    ready,      // READY=1 without a RELOADING=1 before it (systemd accepts that as the end too)
  };
  // Called after each notice of a running instance has taken effect.
  void on_notice(std::function<void(Notice)> listener) { notice_listener_ = std::move(listener); }

 private:
  enum class Phase { idle, readiness, health };
  bool open_notify_socket(const ProgramConfig& config, std::string& error);
  bool open_ready_fd(const ProgramConfig& config, SpawnPlan& plan, std::string& error);
  void on_ready_fd();
  void close_ready_fd();
  void on_notify(const NotifyMessage& message, const NotifySocket::Sender& sender);
  void tell_notices(const NotifyMessage& message, bool was_reloading);
  // Polls: the schedule of the phase the instance is in, on one timer.
  void enter(Phase phase);
  void schedule_next();
  void poll();
  void on_result(const ProbeResult& result, unsigned generation);
  // A probe is never destroyed inside its own callback.
  void retire_probe();

  EventLoop& loop_;
  ProcessHost& host_;
  Program& program_;
  std::unique_ptr<NotifySocket> notify_;
  uid_t notify_writer_ = 0;
  Fd ready_fd_;        // the read end of the s6 readiness pipe, this run's
  Fd ready_fd_child_;  // its write end, until the child has it
  std::unique_ptr<FdEvent> ready_fd_event_;
  std::string ready_fd_line_;  // what arrived before the newline
  Phase phase_ = Phase::idle;
  std::optional<ProbeSchedule> readiness_;
  std::optional<ProbeSchedule> health_;
  std::unique_ptr<Probe> readiness_probe_;
  std::unique_ptr<Probe> health_probe_;
  std::unique_ptr<HostTimer> poll_timer_;
  unsigned generation_ = 0;  // a result from before the last phase change is stale
  std::string status_text_;
  bool reloading_ = false;
  bool stopping_ = false;
  std::optional<int> errno_value_;
  std::string not_ready_because_;
  std::function<void(Notice)> notice_listener_;
};

}  // namespace gardien
