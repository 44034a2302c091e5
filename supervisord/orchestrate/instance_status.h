// The one place where a lifecycle State and an instance become what the control socket shows.
#pragma once

#include <string>

#include "common/protocol.h"
#include "supervisord/control/control_target.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/program.h"

namespace gardien {

// `waiting_for`: the dependencies a pending start waits for ("db cache"), or empty.
protocol::InstanceStatus instance_status(const Program& program, TimePoint now,
                                         const std::string& waiting_for = {});

// What subscribers see when an instance's name goes away (removed, or renamed by scaling).
StateChange removal_of(const Program& program);

}  // namespace gardien
