// The task verbs of the control socket (docs/tasks.md): `run` queues a run and may follow it to
// its end, `jobs` lists runs, `cancel` ends them, `schedules` lists the next fires. Their lines in
// the verb table are in commands.cpp; they reach the job queue only through ControlTarget.
#pragma once

#include "common/protocol.h"
#include "supervisord/control/commands.h"

namespace gardien::job_verbs {

void run(Commands& commands, const protocol::Request& request, Responder& responder);
void jobs(Commands& commands, const protocol::Request& request, Responder& responder);
void cancel(Commands& commands, const protocol::Request& request, Responder& responder);
void schedules(Commands& commands, const protocol::Request& request, Responder& responder);

}  // namespace gardien::job_verbs
