#include "supervisord/readiness/probe_schedule.h"

#include <algorithm>

namespace gardien {

ProbeSchedule::ProbeSchedule(Role role, const ProbeConfig& config) : role_(role), config_(config) {}

void ProbeSchedule::begin(TimePoint now) {
  active_ = true;
  in_flight_ = false;
  began_ = now;
  next_ = now;
  failures_ = 0;
  healthy_.reset();
  last_failure_.clear();
}

void ProbeSchedule::pause() {
  active_ = false;
  in_flight_ = false;
}

std::optional<TimePoint> ProbeSchedule::next_due() const {
  if (!active_ || in_flight_) return std::nullopt;
  return next_;
}

void ProbeSchedule::poll_started(TimePoint) {
  if (active_) in_flight_ = true;
}

ProbeSchedule::Verdict ProbeSchedule::poll_finished(bool ok, const std::string& message,
                                                    TimePoint now) {
  if (!active_ || !in_flight_) return Verdict::none;  // paused meanwhile: the result is stale
  in_flight_ = false;
  next_ = now + config_.period;
  if (ok) {
    bool was_failing = failures_ > 0;
    failures_ = 0;
    if (role_ == Role::readiness) {
      active_ = false;
      return Verdict::ready;
    }
    if (healthy_ && !was_failing) return Verdict::none;
    healthy_ = true;
    return Verdict::healthy;
  }
  last_failure_ = message;
  // Health failures while the program is still warming up are not held against it.
  if (role_ == Role::health && now - began_ < config_.start_period) return Verdict::none;
  ++failures_;
  if (role_ == Role::readiness || failures_ < threshold()) return Verdict::none;
  active_ = false;
  healthy_ = false;
  return Verdict::unhealthy;
}

protocol::Health ProbeSchedule::health() const noexcept {
  if (role_ == Role::readiness) return protocol::Health::none;
  if (failures_ > 0) return protocol::Health::unhealthy;
  if (!healthy_) return protocol::Health::none;
  return *healthy_ ? protocol::Health::healthy : protocol::Health::unhealthy;
}

int ProbeSchedule::threshold() const noexcept {
  return role_ == Role::health ? std::max(1, config_.failure_threshold) : 0;
}

}  // namespace gardien
