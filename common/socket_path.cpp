#include "common/socket_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
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

std::optional<std::string> check_socket_directory(const std::string& path, uid_t euid) {
  std::size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  bool trusted_owner = st.st_uid == 0 || st.st_uid == euid;
  bool shared = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (trusted_owner && !shared) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (trusted_owner && (st.st_mode & S_ISVTX)) {
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) != 0 || existing.st_uid == euid) return std::nullopt;
    std::string error = "the control socket path ";
    error += path;
    error += " already exists in the shared directory ";
    error += dir;
    error += " and belongs to uid ";
    error += std::to_string(existing.st_uid);
    error += ", not to this daemon (uid ";
    error += std::to_string(euid);
    error += "); choose a path in a directory only you can write (e.g. $XDG_RUNTIME_DIR)";
    return error;
  }
  std::string error = "the control socket's directory ";
  error += dir;
  error += " (mode ";
  error += mode;
  error += ", owner uid ";
  error += std::to_string(st.st_uid);
  error += ") lets others replace the socket; choose a directory only root or uid ";
  error += std::to_string(euid);
  error += " can write (e.g. $XDG_RUNTIME_DIR or /run/gardien), or a sticky one like /tmp";
  return error;
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
