// When has an instance got where a verb waits for it? Pure: fed the state right after the action,
// then every later state, it says pending, reached or failed.
#pragma once

#include "common/protocol.h"

namespace gardien {

enum class WaitGoal {
  start,    // running and ready; a failed start (backoff, exited, fatal, stopped after starting)
            // fails
  restart,  // like start, but only a running *after* it started again counts
  stop,     // any state without a process: stopped, exited or fatal
  reach,    // exactly `target` (the `wait` verb); never fails by itself
  ready,    // running and ready (`wait --for ready`); never fails by itself
  reload,   // the READY=1 a running instance sends after its reload-signal; any state but
            // running fails (it exited, stopped or restarted during its reload)
};

enum class WaitVerdict { pending, reached, failed };

class StateWait {
 public:
  explicit StateWait(WaitGoal goal,
                     protocol::InstanceState target = protocol::InstanceState::running)
      : goal_(goal), target_(target) {}

  // `transition`: false for the snapshot taken right after the action, true for a published
  // change (a change into backoff or fatal is a failed start even if `starting` was not seen,
  // e.g. a spawn that failed inside the start call).
  WaitVerdict observe(const protocol::InstanceStatus& status, bool transition);
  // The same for a bare state, read as ready exactly when running.
  WaitVerdict observe(protocol::InstanceState state, bool transition);
  // A READY=1 the instance sent without changing state (StateChange::Notice::ready): it ends a
  // reload; for the other goals it is one more published status.
  WaitVerdict observe_ready_notice(const protocol::InstanceStatus& status);

 private:
  WaitVerdict observe(protocol::InstanceState state, bool ready, bool transition);

  WaitGoal goal_;
  protocol::InstanceState target_;
  bool seen_starting_ = false;
};

}  // namespace gardien
