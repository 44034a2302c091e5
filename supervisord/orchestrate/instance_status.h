// The one place where a lifecycle State and an instance become what the control socket shows.
#pragma once

#include <optional>
#include <string>

#include "common/protocol.h"
#include "supervisord/control/control_target.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/program.h"
#include "supervisord/readiness/instance_checks.h"

namespace gardien {

// `waiting_for`: the dependencies a pending start waits for ("db cache"), or empty. `checks`:
// what its checks say; null when it has none.
protocol::InstanceStatus instance_status(const Program& program, TimePoint now,
                                         const std::string& waiting_for = {},
                                         const CheckReport* checks = nullptr);

// What subscribers see when an instance's name goes away (removed, or renamed by scaling).
StateChange removal_of(const Program& program);

}  // namespace gardien
