// A task run's attempts as pure decisions: how one attempt ended, read off its lifecycle once it
// is at rest, and whether the run tries again (retries, backoff, deadline) or ends with that.
#pragma once

#include <optional>
#include <string>

#include "common/config.h"
#include "common/protocol.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {

struct AttemptEnd {
  protocol::JobOutcome outcome = protocol::JobOutcome::succeeded;
  std::optional<ExitStatus> exit;
  std::string info;  // "exit code 3", "timed out after 5s", "exec /x: No such file or directory"
};

// How the attempt whose lifecycle came to rest in `status` (stopped, exited or fatal) ended.
// `cancel_reason` is set when the run was being cancelled: a stop then reads as that.
AttemptEnd attempt_end(const LifecycleStatus& status, const TaskConfig& task,
                       const std::optional<std::string>& cancel_reason);

struct AttemptVerdict {
  bool retry = false;
  Duration delay{0};  // retry: wait this long before the next attempt
  std::string info;   // the run's info now: "exit code 3; retrying in 2s (attempt 2 of 3)"
};

// After attempt number `attempts` (1-based) ended as `end`: another attempt, or the end of the
// run. No retry after success or a cancel, once retries are spent, while the daemon shuts down
// (`may_retry` false), or when the next attempt could not begin before the deadline.
AttemptVerdict after_attempt(const AttemptEnd& end, int attempts, const TaskConfig& task,
                             bool may_retry, TimePoint first_spawn, TimePoint now);

}  // namespace gardien
