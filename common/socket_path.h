// Where the control socket lives: one rule for the daemon and gardienctl (docs/ctl.md).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gardien {

// Everything the rule looks at; an empty string means "not given".
struct SocketPathInputs {
  std::string option;           // --socket
  std::string config;           // [supervisor] socket (the daemon only)
  std::string env;              // $GARDIEN_SOCKET
  std::string xdg_runtime_dir;  // $XDG_RUNTIME_DIR
  uid_t euid = 0;
};

struct SocketPath {
  std::string path;   // set when error is empty
  std::string error;  // one line naming the problem and the fix
  bool ok() const { return error.empty(); }
};

inline constexpr const char* kRootSocketPath = "/run/gardien.sock";
// sun_path holds 108 bytes including the terminating NUL.
inline constexpr std::size_t kMaxSocketPathBytes = sizeof(sockaddr_un::sun_path) - 1;

// --socket, else [supervisor] socket, else $GARDIEN_SOCKET, else /run/gardien.sock for root and
// $XDG_RUNTIME_DIR/gardien.sock for anyone else. Pure.
SocketPath resolve_socket_path(const SocketPathInputs& inputs);

// The inputs from this process: its environment and effective uid.
SocketPathInputs socket_path_inputs(std::string option, std::string config = {});

// nullopt when `path` fits in a sockaddr_un; otherwise the error.
std::optional<std::string> check_socket_path(std::string_view path);

// nullopt when no one but `euid` and root can replace a socket at `path`: its directory belongs
// to one of them and is not writable by its group or others, or it is sticky (like /tmp) and
// `path` is free or belongs to `euid`. Otherwise the error, naming the directory and the fix.
// A directory that cannot be inspected is left to bind() to report.
std::optional<std::string> check_socket_directory(const std::string& path, uid_t euid);

// Fills `addr` for `path`; false when it does not fit (check_socket_path says why).
bool make_socket_address(std::string_view path, sockaddr_un& addr, socklen_t& length);

}  // namespace gardien
