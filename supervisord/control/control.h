// The control socket: a Unix-socket listener on the loop, peer-credential checks, and one session
// per client (line framing, limits, timeouts, deferred close). docs/protocol.md is the contract.
#pragma once

#include <event2/listener.h>
#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/fd.h"
#include "supervisord/control/commands.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

// Who may do what: root and the daemon's own uid control; members (primary or supplementary
// group) of `control_group` control; members of `read_group` may only use read verbs.
struct AccessPolicy {
  uid_t daemon_uid = 0;
  std::optional<gid_t> control_group;  // [supervisor] socket-group
  std::optional<gid_t> read_group;     // [supervisor] socket-readers
};

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups at connect time (SO_PEERGROUPS)
};

Access decide_access(const PeerCredentials& peer, const AccessPolicy& policy);
// SO_PEERCRED and SO_PEERGROUPS of a connected Unix socket; nullopt (errno set) on failure.
std::optional<PeerCredentials> peer_credentials(int fd);

struct ControlOptions {
  std::string path;  // already resolved (common/socket_path.h)
  mode_t mode = 0600;
  std::optional<gid_t> group;
  std::optional<gid_t> readers;
  Duration idle_timeout = std::chrono::seconds(60);  // no request for this long: closed
  std::size_t max_clients = 256;                     // more get too_many_clients
  // The last slots are kept for users who may control: readers cannot lock root out.
  std::size_t control_reserve = 32;
  // Connections of one uid other than root and the daemon's own.
  std::size_t max_clients_per_uid = 64;
  std::size_t max_output_bytes = 1 << 20;  // unread answers beyond this: dropped

  static ControlOptions from_config(const SupervisorConfig& config, std::string path);
};

// Why the control socket could not be created; what() is one line naming the path and the fix.
class ControlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ControlServer {
 public:
  // Creates the socket at options.path and starts accepting. Refuses (throws ControlError) when a
  // live daemon answers there or the path is not a socket; replaces a stale socket file. (SIGPIPE
  // is ignored by the EventLoop: a client that vanishes must not kill the daemon.)
  ControlServer(EventLoop& loop, ControlOptions options, Commands& commands);
  // Closes every connection and removes the socket file (if it is still the one we created).
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const noexcept { return options_.path; }
  // Creates the socket file again when it was deleted under the running daemon (the directory
  // is watched and this runs by itself; a caller may run it too). True when it did.
  bool restore_socket_file();
  // Connections currently open (closing ones included until they are gone).
  std::size_t client_count() const noexcept { return sessions_.size(); }
  // More than three quarters of max_clients in use: a read-only connection's call in progress
  // (a `wait`, `logs --follow`) then counts as idle and ends after the idle timeout.
  bool short_of_slots() const noexcept { return sessions_.size() * 4 > options_.max_clients * 3; }

 private:
  class Session;
  class SocketFile;

  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) noexcept;
  static void on_accept_error(evconnlistener*, void* self) noexcept;
  void listen();
  void watch_socket_file();
  void on_directory_change();
  void accept(int fd);
  void refuse(int fd, const protocol::Error& error);
  std::optional<protocol::Error> over_limit(const PeerCredentials& peer, Access access) const;
  // Re-arms every session's timeouts when short_of_slots() changed.
  void slots_changed(bool was_short);
  // Destroys `thing` on the next loop turn, never inside the callback that let it go.
  void retire(std::shared_ptr<void> thing);
  void retire_session(Session* session);
  void sweep() noexcept;

  EventLoop& loop_;
  ControlOptions options_;
  Commands& commands_;
  AccessPolicy policy_;
  std::unique_ptr<SocketFile> socket_file_;
  Fd directory_watch_;  // inotify on the socket's directory
  std::unique_ptr<FdEvent> directory_event_;
  evconnlistener* listener_ = nullptr;
  std::map<Session*, std::unique_ptr<Session>> sessions_;
  std::map<uid_t, std::size_t> sessions_per_uid_;
  std::vector<std::shared_ptr<void>> graveyard_;
  Timer sweep_timer_;
  Timer resume_accept_timer_;  // accepting paused after EMFILE and the like
  std::uint64_t next_serial_ = 1;
  std::uint64_t accept_failures_ = 0;  // in the current burst
};

}  // namespace gardien
