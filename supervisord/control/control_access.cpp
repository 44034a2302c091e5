// Who may use the control socket: peer credentials and the access they get (control.h).
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "supervisord/control/control.h"

namespace gardien {

Access decide_access(const PeerCredentials& peer, const AccessPolicy& policy) {
  if (peer.uid == 0 || peer.uid == policy.daemon_uid) return Access::control;
  auto member = [&peer](gid_t group) {
    return peer.gid == group ||
           std::find(peer.groups.begin(), peer.groups.end(), group) != peer.groups.end();
  };
  if (policy.control_group && member(*policy.control_group)) return Access::control;
  if (policy.read_group && member(*policy.read_group)) return Access::read;
  return Access::none;
}

std::optional<PeerCredentials> peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  PeerCredentials peer{cred.pid, cred.uid, cred.gid, {}};
  std::vector<gid_t> groups(32);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      peer.groups = std::move(groups);
      return peer;
    }
    if (errno != ERANGE) break;
    groups.resize(glen / sizeof(gid_t) + 1);
  }
  // Without supplementary groups (kernel < 4.13) the primary group still counts.
  return peer;
}

ControlOptions ControlOptions::from_config(const SupervisorConfig& config, std::string path) {
  ControlOptions options;
  options.path = std::move(path);
  options.mode = config.socket_mode;
  options.group = config.socket_group;
  options.readers = config.socket_readers;
  return options;
}

}  // namespace gardien
