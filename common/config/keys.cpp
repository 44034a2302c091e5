// The keys of every table, as the loader lists them for an unknown key: a document with one
// unknown key in each table that has a fixed set of keys.
#include "common/config/loader.h"
#include "common/config_keys.h"

namespace gardien {

namespace {

// Keys of environment and depends-on are names of the user's choosing: no fixed set.
constexpr std::string_view kUnknownKeyInEveryTable = R"(
[supervisor]
zz-unknown = 1

[program.NAME]
command = "true"
zz-unknown = 1
ready = { tcp = "127.0.0.1:1", zz-unknown = 1 }
health = { tcp = "127.0.0.1:1", zz-unknown = 1 }
stdout = { file = "NAME.log", zz-unknown = 1 }
rlimits = { zz-unknown = 1, nofile = { soft = 1, hard = 2, zz-unknown = 1 } }

[task.NAME]
command = "true"
zz-unknown = 1
)";

}  // namespace

std::map<std::string, std::vector<std::string>> accepted_config_keys() {
  // The loader keeps references: both functions outlive it.
  EnvLookup no_environment = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  TimeZoneCheck zones = any_time_zone();
  config_loader::Loader loader(no_environment, zones);
  loader.load_main("keys.toml", std::filesystem::path(), std::filesystem::path("/"),
                   std::string(kUnknownKeyInEveryTable));
  return loader.known_keys();
}

}  // namespace gardien
