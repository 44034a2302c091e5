// gardienctl's verbs, one table entry each: its arguments, the request it sends, what it waits
// for and how its answer prints. A new verb is one entry here, its handler in the daemon's table
// (supervisord/control/commands.cpp) and its section in docs/ctl.md.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/cli.h"
#include "ctl/render.h"

namespace CLI {
class App;
}

namespace gardien::ctl {

// Everything a verb's command line can set; each verb reads its own fields.
struct Options {
  std::vector<std::string> names;
  std::string signal;
  std::string state;
  std::string timeout;
  bool no_wait = false;
  bool dry_run = false;
  bool follow = false;
  int lines = -1;
  std::string stream;
  bool timestamps = false;
  bool processes = false;
  std::string task;                   // run, jobs, cancel (ID|TASK), schedules
  std::vector<std::string> run_args;  // run: after --
  bool wait = false;                  // run --wait
  int count = -1;                     // schedules -n
  bool all = false;                   // jobs --all
};

// What a verb waits for once its request is sent (when the invocation lets it wait).
enum class Wait {
  nothing,  // one answer, expected within seconds
  states,   // instances reaching a state, a line each as they get there (not with --no-wait)
  states_when_named,  // with NAMEs as `states`; without, one answer (`reload`)
  new_lines,          // with -f, program output until Ctrl-C or the daemon's exit
  daemon_exit,  // after the answer, the end of the connection: the daemon is gone (not --no-wait)
  run_end,      // with --wait, the run it queued until it has finished (its id streams first)
};

// Where a verb's human output goes. With --json both streams discard: the daemon's lines are
// printed as they are instead, and a renderer only decides the exit code.
class Printer {
  std::ostream discard_{nullptr};  // first: `out` and `err` may refer to it

 public:
  Printer(const Invocation& invocation, std::ostream& out, std::ostream& err);

  // One line of an instance result ("web.0: running (pid 42)"), once per instance.
  void instance_result(const nlohmann::json& item);
  // A daemon's answer without the expected shape: said on the real stderr, even with --json.
  int malformed(const std::string& error);

  const Invocation& invocation;
  std::ostream& out;
  std::ostream& err;
  // Program output and daemon text reach a terminal with their control characters escaped.
  bool out_terminal = false;
  bool err_terminal = false;

 private:
  std::ostream& real_err_;
  ResultContext context_;
  std::set<std::string> printed_;
};

struct VerbSpec {
  std::string_view name;  // as typed; also the request's cmd (but `pid NAME` asks `status`)
  std::string_view help;  // its line in gardienctl --help
  Wait wait;
  std::string_view on_interrupt;  // what Ctrl-C while it waits says; empty: nothing
  void (*arguments)(CLI::App& sub, Options& options);
  // The request's args and the invocation's flags; an error is a usage error.
  std::optional<std::string> (*request)(const Options& options, Invocation& invocation);
  // The final answer for a person; returns the exit code.
  int (*render)(const nlohmann::json& result, Printer& printer);
  // A streamed line ("more": true) for a person; null for a verb that never streams.
  void (*progress)(const nlohmann::json& result, Printer& printer) = nullptr;
  // How long its wait lasts without --timeout; zero: as long as it takes. With a default,
  // `--timeout 0` means as long as it takes.
  Duration default_timeout{0};
  // What it says after the daemon's timeout answer; empty: nothing.
  std::string_view on_timeout = {};
};

std::span<const VerbSpec> verb_table();
const VerbSpec* find_verb(std::string_view name);

// The verbs' names, in table order ("did you mean", completion and docs checks).
std::vector<std::string_view> verb_names();

// The names of the instance states, in the order of an instance's life.
std::vector<std::string> state_names();

// What `wait --for` takes: the states, then `ready`.
std::vector<std::string> wait_goals();

// The --timeout a start or restart waits with when none is given.
inline constexpr Duration kDefaultStartTimeout = std::chrono::seconds(90);
// The --timeout `reload NAME...` waits with for a READY=1 when none is given.
inline constexpr Duration kDefaultReloadTimeout = std::chrono::seconds(90);

}  // namespace gardien::ctl
