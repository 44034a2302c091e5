// etc/systemd/gardien.service in step with the daemon: it waits for the READY=1 gardien sends,
// lets gardien order the shutdown within its default shutdown-timeout, reloads through the socket
// the daemon listens on, and keeps what supervision needs (docs/readiness.md, "A systemd unit").
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "common/config.h"
#include "common/duration.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;

// The unit's settings, KEY -> every value given (comments and section headers left out).
std::multimap<std::string, std::string> unit_settings() {
  std::ifstream in(std::string(GARDIEN_SOURCE_DIR) + "/etc/systemd/gardien.service");
  EXPECT_TRUE(in) << "etc/systemd/gardien.service";
  std::multimap<std::string, std::string> settings;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    auto equals = line.find('=');
    if (equals != std::string::npos)
      settings.emplace(line.substr(0, equals), line.substr(equals + 1));
  }
  return settings;
}

std::string setting(const std::string& key) {
  auto settings = unit_settings();
  EXPECT_EQ(settings.count(key), 1u) << key;
  auto it = settings.find(key);
  return it == settings.end() ? "" : it->second;
}

// The word after `option` in a command line, or "".
std::string option_value(const std::string& command, const std::string& option) {
  std::istringstream words(command);
  for (std::string word; words >> word;)
    if (word == option && words >> word) return word;
  return "";
}

TEST(SystemdUnit, WaitsForGardiensReadyAndHearsOnlyIt) {
  EXPECT_EQ(setting("Type"), "notify");
  EXPECT_EQ(setting("NotifyAccess"), "main");
}

TEST(SystemdUnit, LetsGardienOrderTheShutdownWithinItsDefaultShutdownTimeout) {
  EXPECT_EQ(setting("KillMode"), "mixed");
  auto stop = parse_duration(setting("TimeoutStopSec"));
  ASSERT_TRUE(stop) << setting("TimeoutStopSec");
  // The shutdown-timeout, then up to 3s to flush the programs' last lines, then a margin.
  EXPECT_GE(*stop, SupervisorConfig{}.shutdown_timeout + 10s);
}

TEST(SystemdUnit, StartAndReloadUseOneSocketInTheRuntimeDirectory) {
  std::string start = setting("ExecStart");
  std::string reload = setting("ExecReload");
  EXPECT_EQ(option_value(start, "-c"), "/etc/gardien/gardien.toml") << start;
  std::string socket = option_value(start, "--socket");
  EXPECT_EQ(socket, "/run/" + setting("RuntimeDirectory") + "/gardien.sock") << start;
  EXPECT_EQ(option_value(reload, "--socket"), socket) << reload;
  EXPECT_TRUE(reload.ends_with(" reload")) << reload;
}

TEST(SystemdUnit, KeepsWhatSupervisionNeeds) {
  auto settings = unit_settings();
  // Programs' processes stay visible to gardien, and their cgroups writable.
  EXPECT_EQ(settings.count("PrivatePIDs"), 0u);
  EXPECT_EQ(settings.count("ProtectProc"), 0u);
  EXPECT_EQ(settings.count("ProtectControlGroups"), 0u);
  EXPECT_EQ(settings.count("ProtectKernelTunables"), 0u);
  EXPECT_EQ(setting("Delegate"), "yes");
  // One program killed for memory is not the end of the others.
  EXPECT_EQ(setting("OOMPolicy"), "continue");
  EXPECT_EQ(setting("Restart"), "on-failure");
}

}  // namespace
}  // namespace gardien
