// The exec probe: a command exits 0. It runs as the program's user, in its directory, with its
// environment, through the same spawn path as programs, in a process group of its own that is
// SIGKILLed at the deadline (and whatever the command left in it, once it exits). Its stdin,
// stdout and stderr are /dev/null.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/process_host.h"
#include "supervisord/readiness/probe.h"

namespace gardien {

std::unique_ptr<Probe> make_exec_probe(const std::vector<std::string>& command,
                                       const ProgramConfig& program, const std::string& instance,
                                       EventLoop& loop, ProcessHost& host);

}  // namespace gardien
