// What watches an instance's runs from above it (its readiness and health checks): the seam
// between Program and the checks, which Program only knows through this interface.
#pragma once

#include <sys/types.h>

#include <string>

#include "supervisord/process/lifecycle.h"
#include "supervisord/process/spawn.h"

namespace gardien {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // Before each spawn, on the plan reused by every spawn (so set, never append, environment
  // entries: set_environment). false with `error`: the spawn fails with that reason.
  virtual bool before_spawn(SpawnPlan& plan, std::string& error) = 0;
  // The main process exists (`pid`), right after the spawn.
  virtual void spawned(pid_t pid) = 0;
  // After each state change.
  virtual void state_changed(State before, State now) = 0;
  // The main process was reaped, before its exit is handled: reports already sent are read
  // first (a forking daemon's MAINPID= comes before its parent's exit).
  virtual void before_exit() = 0;
};

}  // namespace gardien
