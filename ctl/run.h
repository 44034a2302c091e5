// Runs one invocation against the daemon: connect, send, read the answer (streamed or not),
// print it, and return the exit code (docs/ctl.md).
#pragma once

#include <ostream>

#include "ctl/cli.h"

namespace gardien::ctl {

int run(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace gardien::ctl
