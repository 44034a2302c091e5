// When a polled check runs and what its results mean, as a pure state machine driven with a
// clock: readiness polls every `period` until the first success; health polls every `period`
// from the moment the instance became ready, ignores failures during `start-period`, and calls
// the instance unhealthy after `failure-threshold` failures in a row.
#pragma once

#include <optional>
#include <string>

#include "common/config.h"
#include "common/protocol.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {

class ProbeSchedule {
 public:
  enum class Role { readiness, health };
  // What one result means for the instance.
  enum class Verdict {
    none,       // nothing changes (a failure below the threshold, a success while healthy)
    ready,      // readiness: the first success
    healthy,    // health: a success after failures, or the first one
    unhealthy,  // health: failure-threshold failures in a row (restart the instance)
  };

  ProbeSchedule(Role role, const ProbeConfig& config);
  // The checks begin (readiness: the process was spawned; health: it became ready) at `now`;
  // the first poll is due at once. Starts over after a pause or a verdict of ready/unhealthy.
  void begin(TimePoint now);
  // No polls until the next begin() (stopping, reloading, not running); a poll in flight is to
  // be cancelled and its result is not fed.
  void pause();
  bool active() const noexcept { return active_; }
  // When the next poll should start; nullopt while paused or while a poll is in flight.
  std::optional<TimePoint> next_due() const;
  void poll_started(TimePoint now);
  Verdict poll_finished(bool ok, const std::string& message, TimePoint now);

  protocol::Health health() const noexcept;            // none before the first health result
  int failures() const noexcept { return failures_; }  // in a row
  int threshold() const noexcept;
  const std::string& last_failure() const noexcept { return last_failure_; }

 private:
  Role role_;
  ProbeConfig config_;
  bool active_ = false;
  bool in_flight_ = false;
  TimePoint began_{};
  TimePoint next_{};
  int failures_ = 0;
  std::optional<bool> healthy_;
  std::string last_failure_;
};

}  // namespace gardien
