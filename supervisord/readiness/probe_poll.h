// What every probe does around one poll: holds its `done`, fires its deadline, and hands the
// result over on a later loop turn, so that `done` never runs inside run() and never after the
// probe is gone.
#pragma once

#include <memory>
#include <string>

#include "common/duration.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/readiness/probe.h"

namespace gardien {

class ProbePoll {
 public:
  // `on_deadline` runs when a poll is still going at its deadline (cancel it, then finish()).
  ProbePoll(EventLoop& loop, std::function<void()> on_deadline);
  ProbePoll(const ProbePoll&) = delete;
  ProbePoll& operator=(const ProbePoll&) = delete;

  // From start() until `done` was called, including while the result waits for its turn.
  bool in_flight() const noexcept { return static_cast<bool>(done_); }
  // Starts a poll with its deadline `timeout` from now; false (nothing changes) while one is in
  // flight.
  bool start(Duration timeout, Probe::Done done);
  // Arms the deadline again, `after` from now (an exec probe waiting for its killed process).
  void extend(Duration after) { deadline_.arm(after); }
  // Ends the poll in flight with `result`, delivered on a later loop turn; once per poll.
  void finish(ProbeResult result);
  // "timed out after 1s"
  std::string timed_out() const;

 private:
  void deliver(ProbeResult result);

  EventLoop& loop_;
  Probe::Done done_;
  bool finished_ = false;
  Duration timeout_{};
  Timer deadline_;
  // Deferred deliveries hold it weakly: one that comes after the probe is gone does nothing.
  std::shared_ptr<ProbePoll*> self_;
};

}  // namespace gardien
