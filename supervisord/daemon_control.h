// The control socket of the live daemon with the output verbs (`logs`, `reopen-logs`) plugged in.
// Kept apart from main.cpp so that it needs neither supervisor.h nor control_target.h.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "supervisord/event_loop.h"
#include "supervisord/output_hub.h"

namespace gardien {

class Commands;
class ControlServer;

class DaemonControl {
 public:
  struct Hooks {
    // (instance, program) of every instance in display order: NAME resolution.
    std::function<std::vector<std::pair<std::string, std::string>>()> instances;
    std::function<void()> reopen_logs;
  };

  // Creates the socket ([supervisor] socket, $GARDIEN_SOCKET or the default). nullptr with
  // `error` set when it cannot (another daemon answers there, the path is too long...).
  static std::unique_ptr<DaemonControl> open(EventLoop& loop, OutputHub& hub,
                                             const SupervisorConfig& config, Hooks hooks,
                                             std::string& error);
  ~DaemonControl();
  DaemonControl(const DaemonControl&) = delete;
  DaemonControl& operator=(const DaemonControl&) = delete;

  Commands& commands() noexcept { return *commands_; }

 private:
  DaemonControl() = default;
  std::unique_ptr<Commands> commands_;
  std::unique_ptr<ControlServer> server_;
};

}  // namespace gardien
