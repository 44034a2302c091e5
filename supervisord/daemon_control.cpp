#include "supervisord/daemon_control.h"

#include "common/socket_path.h"
#include "supervisord/commands.h"
#include "supervisord/control.h"
#include "supervisord/logs_command.h"

namespace gardien {

std::unique_ptr<DaemonControl> DaemonControl::open(EventLoop& loop, OutputHub& hub,
                                                   const SupervisorConfig& config, Hooks hooks,
                                                   std::string& error) {
  SocketPath socket = resolve_socket_path(socket_path_inputs({}, config.socket));
  if (!socket.ok()) {
    error = socket.error;
    return nullptr;
  }
  std::unique_ptr<DaemonControl> control(new DaemonControl());
  control->commands_ = std::make_unique<Commands>(loop);
  auto list = std::move(hooks.instances);
  add_output_verbs(*control->commands_, loop, hub,
                   {[list] {
                      std::vector<protocol::InstanceStatus> all;
                      for (auto& [name, program] : list()) {
                        protocol::InstanceStatus s;
                        s.name = std::move(name);
                        s.program = std::move(program);
                        all.push_back(std::move(s));
                      }
                      return all;
                    },
                    std::move(hooks.reopen_logs)});
  try {
    control->server_ = std::make_unique<ControlServer>(
        loop, ControlOptions::from_config(config, socket.path), *control->commands_);
  } catch (const ControlError& e) {
    error = e.what();
    return nullptr;
  }
  return control;
}

DaemonControl::~DaemonControl() = default;

}  // namespace gardien
