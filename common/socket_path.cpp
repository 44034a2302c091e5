#include "common/socket_path.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace gardien {

namespace {

SocketPath checked(std::string path) {
  if (auto error = check_socket_path(path)) return SocketPath{{}, std::move(*error)};
  return SocketPath{std::move(path), {}};
}

std::string getenv_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

SocketPath resolve_socket_path(const SocketPathInputs& in) {
  if (!in.option.empty()) return checked(in.option);
  if (!in.config.empty()) return checked(in.config);
  if (!in.env.empty()) return checked(in.env);
  if (in.euid == 0) return checked(kRootSocketPath);
  if (in.xdg_runtime_dir.empty()) {
    return SocketPath{
        {},
        "XDG_RUNTIME_DIR is not set, so there is no default control socket for a non-root user: "
        "pass --socket PATH or set GARDIEN_SOCKET"};
  }
  if (in.xdg_runtime_dir.front() != '/') {
    std::string error = "XDG_RUNTIME_DIR is not an absolute path (";
    error += in.xdg_runtime_dir;
    error += "): pass --socket PATH or set GARDIEN_SOCKET";
    return SocketPath{{}, std::move(error)};
  }
  std::string path = in.xdg_runtime_dir;
  if (path.back() != '/') path += '/';
  path += "gardien.sock";
  return checked(std::move(path));
}

SocketPathInputs socket_path_inputs(std::string option, std::string config) {
  SocketPathInputs in;
  in.option = std::move(option);
  in.config = std::move(config);
  in.env = getenv_or_empty("GARDIEN_SOCKET");
  in.xdg_runtime_dir = getenv_or_empty("XDG_RUNTIME_DIR");
  in.euid = ::geteuid();
  return in;
}

std::optional<std::string> check_socket_path(std::string_view path) {
  if (path.empty()) return std::string("the control socket path is empty");
  if (path.find('\0') != std::string_view::npos)
    return std::string("the control socket path contains a NUL byte");
  if (path.size() > kMaxSocketPathBytes) {
    std::string error = "control socket path is too long (";
    error += std::to_string(path.size());
    error += " bytes, a Unix socket path holds at most ";
    error += std::to_string(kMaxSocketPathBytes);
    error += "): ";
    error += path;
    error += "; choose a shorter --socket or GARDIEN_SOCKET";
    return error;
  }
  return std::nullopt;
}

bool make_socket_address(std::string_view path, sockaddr_un& addr, socklen_t& length) {
  if (check_socket_path(path)) return false;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

}  // namespace gardien
