// gardien: argv, mode choice, exit code.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <optional>

#include "common/config.h"
#include "common/socket_path.h"
#include "supervisord/check.h"
#include "supervisord/commands.h"
#include "supervisord/control.h"
#include "supervisord/logs_command.h"
#include "supervisord/event_loop.h"
#include "supervisord/log.h"
#include "supervisord/output_hub.h"
#include "supervisord/supervisor.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitConfig = 1;

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

int supervise(const std::string& config_path, const std::string& socket_option,
              std::optional<gardien::LogLevel> level, std::optional<gardien::LogFormat> format) {
  using namespace gardien;
  log::configure(level.value_or(LogLevel::info), format.value_or(LogFormat::text));
  LoadResult loaded = load_config(config_path);
  if (!loaded.ok()) {
    for (const Diagnostic& d : loaded.diagnostics) std::cerr << d.to_string() << '\n';
    std::cerr << "gardien: " << config_path << ": the config has errors; nothing was started\n";
    return kExitConfig;
  }
  Config config = std::move(*loaded.config);
  log::configure(level.value_or(config.supervisor.log_level),
                 format.value_or(config.supervisor.log_format));
  for (const Diagnostic& d : loaded.diagnostics)
    log::warn(d.to_string(), {{"event", "config_diagnostic"}});
  for (const ProgramConfig& p : config.programs) {
    if (auto why = unsupported(p)) {
      std::cerr << "gardien: " << config_path << ": " << *why << '\n';
      return kExitConfig;
    }
  }
  SocketPath socket =
      resolve_socket_path(socket_path_inputs(socket_option, config.supervisor.socket));
  if (!socket.ok()) {
    std::cerr << "gardien: " << socket.error << '\n';
    return kExitConfig;
  }
  ControlOptions control_options = ControlOptions::from_config(config.supervisor, socket.path);
  // The loop is declared first so that it is destroyed last, after every event on it; the
  // output hub before the programs, whose pipes feed it.
  EventLoop loop;
  OutputHub output(loop);
  Supervisor supervisor(loop, std::move(config), config_path);
  supervisor.set_log_overrides(level, format);
  supervisor.attach_output(output);
  Commands commands(loop, &supervisor);
  add_output_verbs(commands, loop, output,
                   {[&supervisor] { return supervisor.instances(); },
                    [&supervisor] { supervisor.reopen_logs(); }});
  // Before the first spawn; destroyed (socket file removed) once the loop has exited.
  std::optional<ControlServer> control;
  try {
    control.emplace(loop, control_options, commands);
  } catch (const ControlError& e) {
    output.flush_blocking(std::chrono::seconds(1));
    std::cerr << "gardien: " << e.what() << '\n';
    return kExitConfig;
  }
  log::info("control socket ready", {{"event", "control_socket"}, {"path", control->path()}});
  int code = supervisor.run();
  // The programs' last lines and the daemon's own log get a bounded time to reach their targets.
  output.flush_blocking(std::chrono::seconds(3));
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_standard_fds();
  CLI::App app{"gardien: a process supervisor and container init"};
  app.set_version_flag("-V,--version", "gardien " GARDIEN_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML config file to supervise");
  std::string socket_option;
  app.add_option("-s,--socket", socket_option,
                 "Control socket path (overrides [supervisor] socket; see docs/ctl.md)");
  std::optional<gardien::LogLevel> log_level;
  std::optional<gardien::LogFormat> log_format;
  const std::map<std::string, gardien::LogLevel> levels = {{"debug", gardien::LogLevel::debug},
                                                           {"info", gardien::LogLevel::info},
                                                           {"warn", gardien::LogLevel::warn},
                                                           {"error", gardien::LogLevel::error}};
  const std::map<std::string, gardien::LogFormat> formats = {{"text", gardien::LogFormat::text},
                                                             {"json", gardien::LogFormat::json}};
  app.add_option("--log-level", log_level,
                 "Override the config's log-level (debug, info, warn, error)")
      ->transform(CLI::CheckedTransformer(levels));
  app.add_option("--log-format", log_format, "Override the config's log-format (text, json)")
      ->transform(CLI::CheckedTransformer(formats));
  // `gardien -- CMD ARGS...` (single-command mode) belongs to the container-init issue.
  std::vector<std::string> command;
  app.add_option("command", command, "With --: supervise this one command (not implemented yet)");

  auto* check = app.add_subcommand("check", "Validate a config file and exit");
  std::string check_path;
  check->add_option("-c,--config", check_path, "TOML config file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version or the error
    return code == 0 ? 0 : kExitUsage;
  }
  if (check->parsed()) return gardien::run_check(check_path, std::cout, std::cerr);
  if (!command.empty()) {
    std::cerr
        << "gardien: single-command mode (gardien -- CMD) is not implemented yet; use -c FILE\n";
    return kExitUsage;
  }
  if (config_path.empty()) {
    std::cerr << "gardien: no config: run `gardien -c FILE` (see --help)\n";
    return kExitUsage;
  }
  return supervise(config_path, socket_option, log_level, log_format);
}
