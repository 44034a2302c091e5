#include "ctl/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "common/protocol.h"
#include "common/signals.h"
#include "common/suggest.h"

namespace gardien::ctl {

namespace {

constexpr const char* kFooter =
    "NAME is a program (all its instances), an instance (web.2), a glob (\"web*\") or all.\n"
    "Socket: --socket, else the socket of the config given with -c, else $GARDIEN_SOCKET, else\n"
    "/run/gardien.sock (root) or $XDG_RUNTIME_DIR/gardien.sock.\n"
    "Exit codes: 0 ok; 1 failed; 2 usage; status: 3 not running, 4 unknown name;\n"
    "69 daemon unreachable; 130 interrupted. See docs/ctl.md.";

struct Options {
  std::string socket;
  std::string config;
  bool json = false;
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
};

// --socket, --config and --json on the main app; subcommands fall through to it, so they work
// after the verb too.
void add_globals(CLI::App& app, Options& o) {
  app.add_option("-s,--socket", o.socket, "Control socket path (default: see below)");
  app.add_option("-c,--config", o.config, "Use the socket of this gardien config file")
      ->type_name("FILE");
  app.add_flag("--json", o.json, "Print the daemon's JSON lines as they come");
}

// The global options that take a value: the word after them is not a verb.
bool takes_value(std::string_view arg) {
  return arg == "-s" || arg == "--socket" || arg == "-c" || arg == "--config";
}

// The first word that is neither an option nor an option's value: the verb, if any.
std::optional<std::string> first_word(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (takes_value(arg)) {
      ++i;
    } else if (arg.empty() || arg[0] != '-') {
      return std::string(arg);
    }
  }
  return std::nullopt;
}

// "unknown verb "stpo"; did you mean `stop`?", or nullopt when `word` is a verb.
std::optional<std::string> unknown_verb(const CLI::App& app, const std::string& word) {
  std::vector<std::string> verbs;
  for (const CLI::App* sub : app.get_subcommands({})) verbs.push_back(sub->get_name());
  if (std::find(verbs.begin(), verbs.end(), word) != verbs.end()) return std::nullopt;
  std::string message = "unknown verb ";
  message += protocol::quote(word);
  std::vector<std::string_view> candidates(verbs.begin(), verbs.end());
  if (std::string_view guess = closest(word, candidates); !guess.empty()) {
    message += "; did you mean `";
    message += guess;
    message += "`?";
  } else {
    message += "; the verbs are listed by gardienctl --help";
  }
  return message;
}

// CLI11's own messages, prefixed like every other error of gardienctl.
std::string failure_message(const CLI::App* app, const CLI::Error& e) {
  if (dynamic_cast<const CLI::RequiredError*>(&e) && app->get_parent() == nullptr &&
      app->get_subcommands().empty())
    return "gardienctl: a verb is required, as in `gardienctl status` (gardienctl --help lists "
           "them)\n";
  std::string message = "gardienctl: ";
  message += e.what();
  message += '\n';
  if (app->get_help_ptr() != nullptr) message += "Run with --help for more information.\n";
  return message;
}

CLI::App* verb(CLI::App& app, const char* name, const char* help) {
  CLI::App* sub = app.add_subcommand(name, help);
  sub->fallthrough();
  sub->footer(
      "Global options, before or after the verb: -s,--socket PATH and --json (see gardienctl "
      "--help).");
  return sub;
}

void add_names(CLI::App* sub, Options& o, bool required) {
  auto* opt =
      sub->add_option("NAME", o.names,
                      required ? "Programs, instances, globs or all" : "Only these (default: all)");
  if (required) opt->required();
}

void add_timeout(CLI::App* sub, Options& o, const char* what) {
  sub->add_option("--timeout", o.timeout, what)->type_name("DURATION");
}

// Usage problems CLI11 does not see: bad durations, bad signal names.
std::optional<std::string> check(const std::string& verb_name, const Options& o, Invocation& inv) {
  if (!o.timeout.empty()) {
    auto d = parse_duration(o.timeout);
    if (!d) {
      std::string error = "--timeout: not a duration: ";
      error += o.timeout;
      error += " (write it like 500ms, 10s, 2m or 1h30m)";
      return error;
    }
    inv.timeout = *d;
  }
  if (verb_name == "signal" && !parse_signal(o.signal)) {
    std::string error = "unknown signal: ";
    error += o.signal;
    error += " (a name like HUP, SIGTERM or a number)";
    return error;
  }
  return std::nullopt;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  CLI::App app{"gardienctl: control a running gardien daemon", "gardienctl"};
  app.set_version_flag("-V,--version", "gardienctl " GARDIEN_VERSION);
  Options o;
  add_globals(app, o);

  CLI::App* status = verb(app, "status", "Show NAME STATE PID UPTIME RESTARTS INFO of instances");
  add_names(status, o, false);
  status->add_flag("--processes", o.processes,
                   "Also count each instance's processes (PROCS; reads /proc, so only when asked)");

  std::vector<CLI::App*> actions;
  for (auto [name, help] :
       {std::pair{"start", "Start instances; wait until they run"},
        std::pair{"stop", "Stop instances; wait until they are stopped"},
        std::pair{"restart", "Stop then start instances; wait until they run"}}) {
    CLI::App* sub = verb(app, name, help);
    add_names(sub, o, true);
    sub->add_flag("--no-wait", o.no_wait, "Return once the action is under way");
    add_timeout(sub, o, "Give up waiting after this long (e.g. 30s); the action goes on");
    actions.push_back(sub);
  }

  CLI::App* signal = verb(app, "signal", "Send a signal to instances");
  signal->add_option("SIG", o.signal, "Signal name (HUP, SIGUSR1) or number")->required();
  add_names(signal, o, true);

  CLI::App* pid = verb(app, "pid", "Print the daemon's pid, or the pids of NAME's instances");
  add_names(pid, o, false);

  CLI::App* wait = verb(app, "wait", "Wait until instances are in a state");
  add_names(wait, o, true);
  wait->add_option("--for", o.state,
                   "running, stopped, exited, fatal (or starting, backoff, stopping)")
      ->required()
      ->check(CLI::IsMember(
          {"running", "stopped", "exited", "fatal", "starting", "backoff", "stopping"}));
  add_timeout(wait, o, "Give up after this long (e.g. 30s)");

  CLI::App* reload = verb(app, "reload", "Re-read the config and apply only the difference");
  reload->add_flag("--dry-run", o.dry_run, "Print the plan without acting");

  CLI::App* shutdown =
      verb(app, "shutdown", "Stop every program, then the daemon; wait until it is gone");
  shutdown->add_flag("--no-wait", o.no_wait, "Return once the shutdown has begun");
  add_timeout(shutdown, o, "Give up waiting for the daemon to exit after this long");

  CLI::App* version =
      verb(app, "version", "Print the versions of gardienctl, the daemon and the protocol");

  CLI::App* logs = verb(app, "logs", "Print recent output of instances");
  add_names(logs, o, false);
  logs->add_flag("-f,--follow", o.follow, "Keep printing new lines");
  logs->add_option("-n,--lines", o.lines, "How many recent lines (default 10)")
      ->check(CLI::NonNegativeNumber);
  logs->add_option("--stream", o.stream, "Only this stream: stdout or stderr")
      ->check(CLI::IsMember({"stdout", "stderr"}));
  logs->add_flag("-t,--timestamps", o.timestamps, "Print each line's time (RFC 3339) first");

  CLI::App* reopen_logs = verb(app, "reopen-logs", "Reopen log files (after an external rotation)");

  app.require_subcommand(1);
  app.footer(kFooter);
  app.failure_message(failure_message);

  if (auto word = first_word(argc, argv)) {
    if (auto error = unknown_verb(app, *word)) {
      err << "gardienctl: " << *error << '\n';
      return CommandLine{std::nullopt, kExitUsage};
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return CommandLine{std::nullopt, code == 0 ? kExitOk : kExitUsage};
  }

  CLI::App* chosen = app.get_subcommands().front();
  Invocation inv;
  inv.verb = chosen->get_name();
  inv.socket = o.socket;
  inv.config = o.config;
  inv.json = o.json;
  if (auto error = check(inv.verb, o, inv)) {
    err << "gardienctl " << inv.verb << ": " << *error
        << "\nRun with --help for more information.\n";
    return CommandLine{std::nullopt, kExitUsage};
  }

  nlohmann::json& args = inv.args;
  if (chosen == status || chosen == logs) {
    if (!o.names.empty()) args["names"] = o.names;
    // Counting walks /proc: only when asked, and for --json (scripts read the field).
    if (chosen == status && (o.json || o.processes)) args["processes"] = true;
    if (chosen == logs) {
      if (o.follow) args["follow"] = true;
      if (o.lines >= 0) args["lines"] = o.lines;
      if (!o.stream.empty()) args["stream"] = o.stream;
      inv.timestamps = o.timestamps;
    }
  } else if (std::find(actions.begin(), actions.end(), chosen) != actions.end()) {
    args["names"] = o.names;
    if (o.no_wait) args["wait"] = false;
    if (inv.timeout) args["timeout_ms"] = inv.timeout->count();
  } else if (chosen == signal) {
    args["signal"] = o.signal;
    args["names"] = o.names;
  } else if (chosen == pid) {
    // The pids of named instances come from their status: one request for any number of names.
    if (!o.names.empty()) {
      inv.verb = "status";
      inv.pids_only = true;
      args["names"] = o.names;
    }
  } else if (chosen == wait) {
    args["names"] = o.names;
    args["for"] = o.state;
    if (inv.timeout) args["timeout_ms"] = inv.timeout->count();
  } else if (chosen == reload) {
    if (o.dry_run) args["dry_run"] = true;
  } else if (chosen == shutdown) {
    inv.wait_for_exit = !o.no_wait;
  } else if (chosen == version || chosen == reopen_logs) {
    // no arguments
  }
  return CommandLine{std::move(inv), kExitOk};
}

}  // namespace gardien::ctl
