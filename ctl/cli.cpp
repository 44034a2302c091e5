#include "ctl/cli.h"

#include <CLI/CLI.hpp>

#include "common/protocol.h"
#include "common/suggest.h"
#include "ctl/verbs.h"

namespace gardien::ctl {

namespace {

constexpr const char* kFooter =
    "NAME is a program (all its instances), an instance (web.2), a glob (\"web*\") or all.\n"
    "Socket: --socket, else the socket of the config given with -c, else $GARDIEN_SOCKET, else\n"
    "/run/gardien.sock (root) or $XDG_RUNTIME_DIR/gardien.sock.\n"
    "Exit codes: 0 ok; 1 failed; 2 usage; status: 3 not running, 4 unknown name;\n"
    "69 daemon unreachable; 130 interrupted. See docs/ctl.md.";

// --socket, --config and --json on the main app; subcommands fall through to it, so they work
// after the verb too.
void add_globals(CLI::App& app, Invocation& inv) {
  app.add_option("-s,--socket", inv.socket, "Control socket path (default: see below)")
      ->type_name("PATH");
  app.add_option("-c,--config", inv.config, "Use the socket of this gardien config file")
      ->type_name("FILE");
  app.add_flag("--json", inv.json, "Print the daemon's JSON lines as they come");
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
std::optional<std::string> unknown_verb(const std::string& word) {
  if (find_verb(word)) return std::nullopt;
  std::string message = "unknown verb ";
  message += protocol::quote(word);
  if (std::string_view guess = closest(word, verb_names()); !guess.empty()) {
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

CLI::App* add_verb(CLI::App& app, const VerbSpec& spec, Options& o) {
  CLI::App* sub = app.add_subcommand(std::string(spec.name), std::string(spec.help));
  sub->fallthrough();
  sub->footer(
      "Global options, before or after the verb: -s,--socket PATH and --json (see gardienctl "
      "--help).");
  spec.arguments(*sub, o);
  return sub;
}

// A --timeout CLI11 cannot check: a duration. A verb with a default timeout waits that long
// without one, and as long as it takes with 0.
std::optional<std::string> read_timeout(const Options& o, Invocation& inv) {
  Duration fallback = inv.spec->default_timeout;
  if (o.timeout.empty()) {
    if (fallback > Duration{0} && !o.no_wait) inv.timeout = fallback;
    return std::nullopt;
  }
  auto d = parse_duration(o.timeout);
  if (!d) {
    return "--timeout: not a duration: " + o.timeout + " (write it like 500ms, 10s, 2m or 1h30m)";
  }
  if (*d == Duration{0} && fallback > Duration{0}) return std::nullopt;
  inv.timeout = *d;
  return std::nullopt;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  CLI::App app{"gardienctl: control a running gardien daemon", "gardienctl"};
  app.set_version_flag("-V,--version", "gardienctl " GARDIEN_VERSION);
  Invocation inv;
  Options o;
  add_globals(app, inv);
  for (const VerbSpec& spec : verb_table()) add_verb(app, spec, o);
  app.require_subcommand(1);
  app.footer(kFooter);
  app.failure_message(failure_message);

  if (auto word = first_word(argc, argv)) {
    if (auto error = unknown_verb(*word)) {
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

  inv.spec = find_verb(app.get_subcommands().front()->get_name());
  inv.verb = inv.spec->name;
  auto error = read_timeout(o, inv);
  if (!error) error = inv.spec->request(o, inv);
  if (error) {
    err << "gardienctl " << inv.spec->name << ": " << *error
        << "\nRun with --help for more information.\n";
    return CommandLine{std::nullopt, kExitUsage};
  }
  return CommandLine{std::move(inv), kExitOk};
}

}  // namespace gardien::ctl
