// The one place where a lifecycle State and an instance become what the control socket shows.
#pragma once

#include <optional>
#include <string>

#include "common/protocol.h"
#include "supervisord/control/control_target.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/program.h"

namespace gardien {

// What an instance's readiness and health checks say, for its status.
struct CheckView {
  protocol::Health health = protocol::Health::none;
  int failures = 0;                // health checks failed in a row
  int threshold = 0;               // failure-threshold; 0 without a health check
  std::string status_text;         // the last STATUS= it sent
  bool reloading = false;          // RELOADING=1 without the READY=1 that ends it yet
  bool stopping_notified = false;  // it sent STOPPING=1
  std::optional<int> errno_value;  // the last ERRNO= it sent
};

// `waiting_for`: the dependencies a pending start waits for ("db cache"), or empty. `checks`:
// what its checks say; null when it has none.
protocol::InstanceStatus instance_status(const Program& program, TimePoint now,
                                         const std::string& waiting_for = {},
                                         const CheckView* checks = nullptr);

// What subscribers see when an instance's name goes away (removed, or renamed by scaling).
StateChange removal_of(const Program& program);

}  // namespace gardien
