// The [supervisor] table: the daemon's own settings and the main file's includes.
#include <sys/un.h>

#include "common/config/loader.h"

namespace gardien::config_loader {

void Loader::read_supervisor(const Field& f, SupervisorConfig& out) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "a table [supervisor]");
    return;
  }
  TableReader r(*this, *table, f.file, "supervisor");
  if (auto v = r.get("socket")) {
    if (auto path = get_path(*v)) {
      if (path->size() >= sizeof(sockaddr_un::sun_path)) {
        std::string message = "the socket path is ";
        message += std::to_string(path->size());
        message += " bytes long; Unix socket paths must be shorter than ";
        message += std::to_string(sizeof(sockaddr_un::sun_path));
        message += " bytes: use a shorter path";
        error(*v, std::move(message));
      } else {
        out.socket = *path;
      }
    }
  }
  if (auto v = r.get("socket-mode")) {
    if (auto mode = get_mode(*v)) out.socket_mode = *mode;
  }
  if (auto v = r.get("socket-group")) out.socket_group = get_group(*v);
  if (auto v = r.get("socket-readers")) out.socket_readers = get_group(*v);
  if (auto v = r.get("log-level")) {
    if (auto level = get_enum<LogLevel>(*v, {{"debug", LogLevel::debug},
                                             {"info", LogLevel::info},
                                             {"warn", LogLevel::warn},
                                             {"error", LogLevel::error}}))
      out.log_level = *level;
  }
  if (auto v = r.get("log-format")) {
    if (auto format =
            get_enum<LogFormat>(*v, {{"text", LogFormat::text}, {"json", LogFormat::json}}))
      out.log_format = *format;
  }
  if (auto v = r.get("shutdown-timeout")) {
    if (auto d = get_duration(*v)) out.shutdown_timeout = *d;
  }
  if (auto v = r.get("include")) read_includes(*v);
  r.finish();
}

}  // namespace gardien::config_loader
