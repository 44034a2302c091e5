// gardienctl's command line -> what to ask the daemon. Pure: parses, prints help or usage errors
// to the given streams, touches no socket.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "common/duration.h"

namespace gardien::ctl {

// Exit codes (docs/ctl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;         // the action failed, or the daemon refused it
inline constexpr int kExitUsage = 2;          // bad command line
inline constexpr int kExitNotRunning = 3;     // status: a program that should run does not
inline constexpr int kExitUnknown = 4;        // status: a NAME matches nothing
inline constexpr int kExitUnreachable = 69;   // no daemon answers on the socket (EX_UNAVAILABLE)
inline constexpr int kExitInterrupted = 130;  // Ctrl-C while waiting

struct VerbSpec;

struct Invocation {
  const VerbSpec* spec = nullptr;                  // the verb typed (ctl/verbs.h)
  std::string verb;                                // the protocol's "cmd"
  nlohmann::json args = nlohmann::json::object();  // the protocol's "args"
  std::string socket;                              // --socket; empty: the default rule
  std::string config;                              // -c: the socket of this config file
  bool json = false;                               // --json: print the daemon's lines as they are
  bool wait_for_exit = false;                      // shutdown: wait until the daemon is gone
  std::optional<Duration> timeout;                 // --timeout (also sent as args.timeout_ms)
  bool timestamps = false;                         // logs -t: print each line's time
  bool pids_only = false;                          // pid NAME...: a status, printed as pids
};

struct CommandLine {
  std::optional<Invocation> invocation;  // unset: nothing to send (help, version, usage error)
  int exit_code = kExitOk;               // when unset
};

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err);

}  // namespace gardien::ctl
