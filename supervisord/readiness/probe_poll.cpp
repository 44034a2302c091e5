#include "supervisord/readiness/probe_poll.h"

#include <utility>

namespace gardien {

ProbePoll::ProbePoll(EventLoop& loop, std::function<void()> on_deadline)
    : loop_(loop),
      deadline_(loop, std::move(on_deadline)),
      self_(std::make_shared<ProbePoll*>(this)) {}

bool ProbePoll::start(Duration timeout, Probe::Done done) {
  if (in_flight() || !done) return false;
  done_ = std::move(done);
  finished_ = false;
  timeout_ = timeout;
  deadline_.arm(timeout);
  return true;
}

void ProbePoll::finish(ProbeResult result) {
  if (!in_flight() || finished_) return;
  finished_ = true;
  deadline_.cancel();
  loop_.defer([alive = std::weak_ptr<ProbePoll*>(self_), result = std::move(result)]() mutable {
    if (auto self = alive.lock()) (*self)->deliver(std::move(result));
  });
}

void ProbePoll::deliver(ProbeResult result) {
  // Cleared before the call: `done` may start the next poll, or destroy the probe.
  Probe::Done done = std::exchange(done_, nullptr);
  finished_ = false;
  done(std::move(result));
}

std::string ProbePoll::timed_out() const {
  return "timed out after " + format_duration(timeout_);
}

}  // namespace gardien
