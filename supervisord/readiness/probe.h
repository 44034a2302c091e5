// One poll of a program's check (tcp, http, exec, file), on the loop: never blocks it, never
// outlives its timeout. The schedule of polls and what their results mean is ProbeSchedule's.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/duration.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/process_host.h"

namespace gardien {

struct ProbeResult {
  bool ok = false;
  // Why it failed, for logs and the unhealthy reason: "connect 127.0.0.1:5432: Connection
  // refused", "HTTP 503", "exit code 1", "timed out after 1s", "/run/app/ready does not exist".
  std::string message;
};

class Probe {
 public:
  using Done = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;
  // Starts one poll; `done` is called once, later on the loop (never from inside run), within
  // `timeout` (a poll still going then fails with "timed out after ..." and is cancelled: an
  // exec probe's process group is killed and reaped). Destroying the probe cancels a poll in
  // flight without calling `done`. One poll at a time: run() while one is in flight is a no-op.
  virtual void run(Duration timeout, Done done) = 0;
};

// The probe `config` describes (tcp, http, exec or file; nullptr for notify and fd) for one
// instance of `program`: an exec probe runs as the program's user, in its directory, with its
// environment, through `host` (the same spawn path as programs).
std::unique_ptr<Probe> make_probe(const ProbeConfig& config, const ProgramConfig& program,
                                  const std::string& instance, EventLoop& loop, ProcessHost& host);

}  // namespace gardien
