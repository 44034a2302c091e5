// gardien: argv, mode choice, exit code.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "common/config.h"
#include "common/socket_path.h"
#include "supervisord/check.h"
#include "supervisord/control/commands.h"
#include "supervisord/control/control.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/container_init.h"
#include "supervisord/orchestrate/supervisor.h"
#include "supervisord/output/logs_command.h"
#include "supervisord/output/output_hub.h"
#include "supervisord/process/run_record.h"
#include "supervisord/process/spawn.h"
#include "supervisord/process/start_directory.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitConfig = 1;

// CLI11's own messages, prefixed like every other error of gardien.
std::string prefixed_failure_message(const CLI::App* app, const CLI::Error& e) {
  std::string message = "gardien: ";
  message += e.what();
  message += '\n';
  if (app->get_help_ptr() != nullptr) message += "Run with --help for more information.\n";
  return message;
}

// Children get /dev/null or the daemon's fds as 0-2, so those must exist before anything opens.
void ensure_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

// Creates the control socket before the first spawn (it lives until the loop has exited and
// then removes its file). False, with the reason on stderr, when it can't be had.
bool open_control(gardien::EventLoop& loop, gardien::Commands& commands,
                  const gardien::SupervisorConfig& config, const std::string& socket_option,
                  std::optional<gardien::ControlServer>& control) {
  using namespace gardien;
  SocketPathInputs inputs = socket_path_inputs(socket_option, config.socket);
  // Absolute before the daemon leaves its start directory (the file is removed at exit).
  for (std::string* path : {&inputs.option, &inputs.env})
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
  SocketPath socket = resolve_socket_path(inputs);
  if (!socket.ok()) {
    std::cerr << "gardien: " << socket.error << '\n';
    return false;
  }
  try {
    control.emplace(loop, ControlOptions::from_config(config, socket.path), commands);
  } catch (const ControlError& e) {
    std::cerr << "gardien: " << e.what() << '\n';
    return false;
  }
  return true;
}

int supervise(const std::string& config_path, const std::string& socket_option,
              std::optional<gardien::LogLevel> level, std::optional<gardien::LogFormat> format) {
  using namespace gardien;
  log::configure(level.value_or(LogLevel::info), format.value_or(LogFormat::text));
  LoadResult loaded = load_config(config_path);
  if (!loaded.ok()) {
    if (loaded.unreadable) {
      std::cerr << "gardien: " << loaded.diagnostics.front().to_string() << '\n';
      return kExitConfig;
    }
    for (const Diagnostic& d : loaded.diagnostics) std::cerr << d.to_string() << '\n';
    std::cerr << "gardien: " << config_path << ": the config has errors; nothing was started\n";
    return kExitConfig;
  }
  Config config = std::move(*loaded.config);
  log::configure(level.value_or(config.supervisor.log_level),
                 format.value_or(config.supervisor.log_format));
  for (const Diagnostic& d : loaded.diagnostics)
    log::warn(d.to_string(), {{"event", "config_diagnostic"}});
  // The loop is declared first so that it is destroyed last, after every event on it; the
  // output hub before the programs, whose pipes feed it.
  EventLoop loop;
  OutputHub output(loop);
  SupervisorConfig supervisor_config = config.supervisor;
  // A reload reads the config again after the daemon has left its start directory.
  Supervisor supervisor(loop, std::move(config), std::filesystem::absolute(config_path));
  supervisor.set_log_overrides(level, format);
  supervisor.attach_output(output);
  Commands commands(loop, &supervisor);
  add_output_verbs(commands, loop, output,
                   {[&supervisor] { return supervisor.instances(); },
                    [&supervisor] { supervisor.reopen_logs(); }});
  std::optional<ControlServer> control;
  if (!open_control(loop, commands, supervisor_config, socket_option, control)) {
    output.flush_blocking(std::chrono::seconds(1));
    return kExitConfig;
  }
  // The socket is ours, so no daemon of this socket runs: what its record names was left by a
  // killed one, and goes before anything starts.
  std::filesystem::path record = control->path() + ".pids";
  stop_leftovers_of_predecessor(record);
  supervisor.keep_run_record(record);
  supervisor.keep_task_history(control->path() + ".state");
  leave_start_directory();
  int code = supervisor.run();
  // The programs' last lines and the daemon's own log get a bounded time to reach their targets.
  output.flush_blocking(std::chrono::seconds(3));
  return code;
}

int supervise_command(std::vector<std::string> command, gardien::Duration grace, bool to_group,
                      const std::string& socket_option, std::optional<gardien::LogLevel> level,
                      std::optional<gardien::LogFormat> format) {
  using namespace gardien;
  // Quiet by default, as an init in front of one command should be: warnings and errors only.
  log::configure(level.value_or(LogLevel::warn), format.value_or(LogFormat::text));
  EventLoop loop;
  Supervisor supervisor(loop, single_command_config(std::move(command), grace, to_group), "");
  supervisor.forward_signals_to(kCommandProgram, to_group);
  Commands commands(loop, &supervisor);
  // Opt-in here (--socket or $GARDIEN_SOCKET): many `gardien -- CMD` on one host must not
  // fight over the default path, and an init in front of one command needs no socket to start.
  std::optional<ControlServer> control;
  if ((!socket_option.empty() || std::getenv("GARDIEN_SOCKET")) &&
      !open_control(loop, commands, SupervisorConfig{}, socket_option, control))
    return kExitConfig;
  leave_start_directory();
  return supervisor.run();
}

// `gardien -- CMD` or `gardien -c FILE`, once the command line is parsed.
int run_mode(const std::string& config_path, std::vector<std::string>& command,
             const std::string& grace_text, const std::string& forward_to,
             const std::string& socket_option, std::optional<gardien::LogLevel> log_level,
             std::optional<gardien::LogFormat> log_format) {
  if (!command.empty()) {
    if (!config_path.empty()) {
      std::cerr << "gardien: -c FILE and -- CMD exclude each other: pick one mode\n";
      return kExitUsage;
    }
    auto grace = gardien::parse_duration(grace_text);
    if (!grace) {
      std::cerr << "gardien: --grace " << grace_text
                << ": not a duration (examples: 10s, 500ms, 1m30s)\n";
      return kExitUsage;
    }
    return supervise_command(std::move(command), *grace, forward_to == "group", socket_option,
                             log_level, log_format);
  }
  if (config_path.empty()) {
    std::cerr << "gardien: no config: run `gardien -c FILE` (see --help)\n";
    return kExitUsage;
  }
  return supervise(config_path, socket_option, log_level, log_format);
}

}  // namespace

int main(int argc, char** argv) {
  // A parent may start us with signals blocked (a test process, a shell's child): then SIGTERM
  // would never reach the loop and no shutdown could begin.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ensure_standard_fds();
  gardien::record_start_directory();
  gardien::raise_fd_limit();
  CLI::App app{"gardien: a process supervisor and container init"};
  app.set_version_flag("-V,--version", "gardien " GARDIEN_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML config file to supervise");
  std::string socket_option;
  app.add_option("-s,--socket", socket_option,
                 "Control socket path (overrides [supervisor] socket; see docs/ctl.md)");
  // Words only: a transformer would also take the enum's numbers and print them in --help.
  std::string log_level_text, log_format_text;
  app.add_option("--log-level", log_level_text, "Override the config's log-level")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log-format", log_format_text, "Override the config's log-format")
      ->check(CLI::IsMember({"text", "json"}));
  // `gardien [OPTIONS] -- CMD ARGS...`: single-command mode (docs/container.md).
  std::vector<std::string> command;
  app.add_option("command", command,
                 "After --: run this one command as a container init would (docs/container.md)");
  std::string grace_text = gardien::format_duration(gardien::kDefaultGrace);
  app.add_option("--grace", grace_text,
                 "Single-command mode: SIGKILL this long after SIGTERM/SIGINT/SIGQUIT, or after "
                 "the command exited while its descendants live on")
      ->capture_default_str();
  std::string forward_to = "group";
  app.add_option("--forward-to", forward_to,
                 "Single-command mode: forward signals to the command's process group, or only "
                 "to the command's process")
      ->check(CLI::IsMember({"group", "process"}))
      ->capture_default_str();

  auto* check = app.add_subcommand("check", "Validate a config file and exit");
  std::string check_path, check_option;
  check->add_option("FILE", check_path, "TOML config file");
  check->add_option("-c,--config", check_option, "TOML config file (the same as FILE)");
  bool check_verbose = false;
  check->add_flag("-v,--verbose", check_verbose,
                  "Also print each scheduled task's zone and next fire times");
  app.failure_message(prefixed_failure_message);
  check->failure_message(prefixed_failure_message);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version or the error
    return code == 0 ? 0 : kExitUsage;
  }
  if (check->parsed()) {
    if (check_path.empty() == check_option.empty()) {
      std::cerr << "gardien check: give one config file: gardien check FILE\n";
      return kExitUsage;
    }
    return gardien::run_check(check_path.empty() ? check_option : check_path, std::cout, std::cerr,
                              check_verbose);
  }
  std::optional<gardien::LogLevel> log_level;
  std::optional<gardien::LogFormat> log_format;
  if (!log_level_text.empty()) log_level = gardien::parse_log_level(log_level_text);
  if (!log_format_text.empty()) log_format = gardien::parse_log_format(log_format_text);
  try {
    return run_mode(config_path, command, grace_text, forward_to, socket_option, log_level,
                    log_format);
  } catch (const std::exception& e) {
    // The loop, the reaper or the log could not be set up (out of fds or memory, say).
    std::cerr << "gardien: cannot run: " << e.what() << '\n';
    return kExitConfig;
  }
}
