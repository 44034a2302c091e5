#include "supervisord/control/control.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "common/fd.h"
#include "common/socket_path.h"
#include "supervisord/loop/log.h"

namespace gardien {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;

namespace {

constexpr int kListenBacklog = 128;
constexpr Duration kAcceptRetry = std::chrono::milliseconds(100);
// Input read ahead of the request being answered: past this, the kernel's buffer holds the rest
// (the client's writes block) until the session catches up.
constexpr std::size_t kMaxReadAhead = 2 * protocol::kMaxLineBytes;

std::string errno_text(int err) {
  return std::strerror(err);
}

// Builds a message piece by piece (GCC 12 warns falsely on "literal" + std::string).
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

timeval to_timeval(Duration d) {
  auto ms = std::max<Duration::rep>(d.count(), 0);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

std::string describe_policy(const AccessPolicy& policy) {
  std::string text = "root, uid ";
  text += std::to_string(policy.daemon_uid);
  if (policy.control_group) {
    text += ", group ";
    text += std::to_string(*policy.control_group);
  }
  if (policy.read_group) {
    text += ", group ";
    text += std::to_string(*policy.read_group);
    text += " (read only)";
  }
  return text;
}

// Refused connections are logged, but a local user reconnecting in a loop must not flood the
// log: at most one line per second, with the count of those left out.
class RefusalLog {
 public:
  void write(std::string_view message, log::Fields fields) {
    auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < std::chrono::seconds(1)) {
      ++suppressed_;
      return;
    }
    if (suppressed_ > 0) fields["suppressed since the last line"] = suppressed_;
    log::warn(message, fields);
    logged_once_ = true;
    last_ = now;
    suppressed_ = 0;
  }

 private:
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

RefusalLog& refusal_log() {
  static RefusalLog log;
  return log;
}

enum class Probe { nothing, stale, live };

// Is a daemon answering on `path`? A refused connection means a stale file; anything we cannot
// tell apart from a live daemon is reported as an error rather than deleted.
Probe probe_socket(const std::string& path, const sockaddr_un& addr, socklen_t len) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd)
    throw ControlError(concat("cannot create a socket to probe ", path, ": ", errno_text(errno)));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0 || errno == EAGAIN ||
      errno == EINPROGRESS) {
    std::string message = "another daemon is already listening on ";
    message += path;
    ucred cred{};
    socklen_t cred_len = sizeof cred;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0 && cred.pid > 0) {
      message += " (pid ";
      message += std::to_string(cred.pid);
      message += ")";
    }
    message +=
        "; stop it first or choose another socket (--socket, GARDIEN_SOCKET or [supervisor] "
        "socket)";
    throw ControlError(message);
  }
  if (errno == ECONNREFUSED) return Probe::stale;
  if (errno == ENOENT) return Probe::nothing;
  std::string message = "cannot tell whether a daemon is listening on ";
  message += path;
  message += " (";
  message += errno_text(errno);
  message += "); remove the file if no daemon uses it, or choose another socket";
  throw ControlError(message);
}

}  // namespace

// ---- The socket file ----

// Owns the path: removes it on destruction, unless something else has replaced it since.
class ControlServer::SocketFile {
 public:
  SocketFile(std::string path, dev_t dev, ino_t ino)
      : path_(std::move(path)), dev_(dev), ino_(ino) {}
  ~SocketFile() {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
      ::unlink(path_.c_str());
  }
  SocketFile(const SocketFile&) = delete;
  SocketFile& operator=(const SocketFile&) = delete;

 private:
  std::string path_;
  dev_t dev_;
  ino_t ino_;
};

// ---- A session ----

class ControlServer::Session final : public Responder {
 public:
  Session(ControlServer& server, bufferevent* bev, std::uint64_t serial, PeerCredentials peer,
          Access access)
      : server_(server),
        bev_(bev),
        serial_(serial),
        peer_(std::move(peer)),
        access_(access),
        resume_(server.loop_, [this] { guard(this, [](Session& s) { s.process_input(); }); }) {
    bufferevent_setcb(bev_, on_read, on_write, on_event, this);
    bufferevent_setwatermark(bev_, EV_READ, 0, kMaxReadAhead);
    // on_write runs once the answers drained to half the bound: requests resume from there.
    bufferevent_setwatermark(bev_, EV_WRITE, backlog_limit(), 0);
  }
  ~Session() override {
    pending_.reset();
    bufferevent_free(bev_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void begin() {
    if (access_ == Access::none) {
      refusal_log().write(
          "control connection refused: permission denied",
          {{"uid", peer_.uid}, {"gid", peer_.gid}, {"pid", peer_.pid}, {"socket", server_.path()}});
      std::string message = "permission denied: uid ";
      message += std::to_string(peer_.uid);
      message += " may not use this control socket (allowed: ";
      message += describe_policy(server_.policy_);
      message += ")";
      send(protocol::encode_error(
          std::nullopt, Error{ErrorCode::permission_denied, std::move(message), nullptr}));
      close_after_flush();
      return;
    }
    log::debug("control connection", {{"client", serial_},
                                      {"uid", peer_.uid},
                                      {"pid", peer_.pid},
                                      {"access", access_ == Access::control ? "control" : "read"}});
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
    update_timeouts();
  }

  // The daemon is exiting: one non-blocking write of what is queued (e.g. the answer to the
  // `stop` that ended it), so the client isn't left without its reply. The bufferevent froze
  // its output's start for itself: thaw it to write directly.
  void flush_once() {
    if (closed_) return;
    evbuffer* output = bufferevent_get_output(bev_);
    evbuffer_unfreeze(output, 1);
    evbuffer_write(output, bufferevent_getfd(bev_));
  }

  // Closes now, without flushing; the object is destroyed on a later loop turn.
  void drop(const char* why) {
    if (closed_) return;
    log::debug("control connection closed", {{"client", serial_}, {"reason", why}});
    closed_ = true;
    end_call();
    resume_.cancel();
    // Requests it sent and we have not answered die with it.
    evbuffer* input = bufferevent_get_input(bev_);
    evbuffer_drain(input, evbuffer_get_length(input));
    bufferevent_disable(bev_, EV_READ | EV_WRITE);
    bufferevent_setcb(bev_, nullptr, nullptr, nullptr, nullptr);
    server_.retire_session(this);
  }

  uid_t uid() const { return peer_.uid; }
  std::optional<uid_t> peer_uid() const override { return peer_.uid; }

  // Idle means: no request in progress and not lingering, or (read-only, short of slots) a call
  // in progress. Writes that make no progress for the same time end the connection in every
  // state.
  void update_timeouts() {
    if (closed_) return;
    timeval tv = to_timeval(server_.options_.idle_timeout);
    bufferevent_set_timeouts(bev_, idle() ? &tv : nullptr, &tv);
  }

  // ---- Responder ----
  void reply(const json& result) override {
    if (!call_active_ || answered_ || closed_) return;
    answered_ = true;
    send(protocol::encode_result(call_id_, result));
    finish_call();
  }
  void fail(Error error) override {
    if (!call_active_ || answered_ || closed_) return;
    answered_ = true;
    send(protocol::encode_error(call_id_, error));
    finish_call();
  }
  bool progress(const json& result) override {
    if (!call_active_ || answered_ || closed_) return false;
    send(protocol::encode_progress(call_id_, result));
    return !closed_;
  }
  void keep(std::unique_ptr<PendingCall> pending) override {
    if (!call_active_ || answered_ || closed_) {
      server_.retire(std::shared_ptr<PendingCall>(std::move(pending)));
      return;
    }
    pending_ = std::move(pending);
  }
  void linger() override {
    lingering_ = true;
    update_timeouts();
  }
  bool answered() const override { return answered_ || !call_active_; }
  bool backlogged() const override {
    return evbuffer_get_length(bufferevent_get_output(bev_)) > backlog_limit();
  }
  void when_drained(std::function<void()> fn) override {
    if (call_active_ && !answered_ && !closed_) on_drained_ = std::move(fn);
  }

 private:
  static void on_read(bufferevent*, void* self) noexcept {
    guard(self, [](Session& s) { s.process_input(); });
  }
  static void on_write(bufferevent*, void* self) noexcept {
    guard(self, [](Session& s) {
      if (s.closing_) {
        if (evbuffer_get_length(bufferevent_get_output(s.bev_)) == 0)
          s.drop("closed after the last answer");
        return;
      }
      if (s.on_drained_ && !s.backlogged()) std::exchange(s.on_drained_, nullptr)();
      s.process_input();  // answers waited for the client to read
    });
  }
  static void on_event(bufferevent*, short what, void* self) noexcept {
    guard(self, [what](Session& s) { s.handle_event(what); });
  }

  // No exception crosses libevent's C frames; a session that throws is dropped, the daemon lives.
  template <typename Fn>
  static void guard(void* self, Fn&& fn) noexcept {
    auto* session = static_cast<Session*>(self);
    try {
      fn(*session);
    } catch (const std::exception& e) {
      log::error("control session failed", {{"client", session->serial_}, {"error", e.what()}});
      session->drop("internal error");
    } catch (...) {
      log::error("control session failed", {{"client", session->serial_}});
      session->drop("internal error");
    }
  }

  void handle_event(short what) {
    if (closed_) return;
    if (what & BEV_EVENT_TIMEOUT) {
      if ((what & BEV_EVENT_WRITING) || closing_) return drop("not reading its answers");
      std::string message = "closing the connection after ";
      message += format_duration(server_.options_.idle_timeout);
      if (call_active_) {
        message += " of ";
        message += call_cmd_;
        message += ": the daemon is short of connection slots (more than three quarters of ";
        message += std::to_string(server_.options_.max_clients);
        message += " in use); ask again later";
      } else {
        message += " without a request";
      }
      send(protocol::encode_error(std::nullopt,
                                  Error{ErrorCode::timeout, std::move(message), nullptr}));
      return close_after_flush();
    }
    if (what & BEV_EVENT_ERROR) return drop("connection error");
    if (what & BEV_EVENT_EOF) {
      // A half-close (shutdown(SHUT_WR), like `socat` or `nc -N`) still wants its answers; a
      // closed peer (POLLHUP) does not.
      if (closing_ || hung_up()) return drop("client went away");
      peer_eof_ = true;
      process_input();
    }
  }

  // Answers at most one request, then lets the loop serve everything else before the next one:
  // a client pipelining thousands of requests cannot hold the daemon. Requests also wait while
  // the client has not read half the output bound of earlier answers.
  void process_input() {
    if (processing_ || closed_ || closing_) return;
    processing_ = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{processing_};

    evbuffer* input = bufferevent_get_input(bev_);
    if (call_active_) {
      // Requests queued behind one in progress (a `wait`) are bounded too.
      if (evbuffer_get_length(input) > protocol::kMaxLineBytes) return reject_queue_overflow();
      return;
    }
    if (backlogged()) return;  // on_write resumes once the client has read
    std::size_t eol_len = 0;
    evbuffer_ptr eol = evbuffer_search_eol(input, nullptr, &eol_len, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
      if (evbuffer_get_length(input) > protocol::kMaxLineBytes) return reject_long_line();
      // A half line at end of input is dropped; a lingering client waits for the exit.
      if (peer_eof_ && !lingering_) return close_after_flush();
      return;
    }
    if (static_cast<std::size_t>(eol.pos) > protocol::kMaxLineBytes) return reject_long_line();
    if (hung_up()) return drop("client went away");  // its requests are not worth running
    std::string line(static_cast<std::size_t>(eol.pos), '\0');
    evbuffer_remove(input, line.data(), line.size());
    evbuffer_drain(input, eol_len);
    handle_line(line);
    if (!call_active_) resume_later();
  }

  // Both directions closed (POLLHUP): unlike a half-close (shutdown(SHUT_WR), like `socat` or
  // `nc -N`), the client wants no answers.
  bool hung_up() const {
    pollfd p{bufferevent_getfd(bev_), 0, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
  }

  // The next request (or the end of input) on a later loop turn.
  void resume_later() {
    if (closed_ || closing_) return;
    evbuffer* input = bufferevent_get_input(bev_);
    if ((evbuffer_get_length(input) > 0 || peer_eof_) && !resume_.armed()) resume_.arm(Duration(0));
  }

  std::size_t backlog_limit() const { return server_.options_.max_output_bytes / 2; }

  void handle_line(const std::string& line) {
    auto parsed = protocol::parse_request(line);
    if (auto* bad = std::get_if<protocol::RequestError>(&parsed)) {
      // A malformed request is answered; the connection stays usable.
      send(protocol::encode_error(bad->id, bad->error));
      return;
    }
    const protocol::Request& request = std::get<protocol::Request>(parsed);
    call_active_ = true;
    answered_ = false;
    call_id_ = request.id;
    call_cmd_ = request.cmd;
    update_timeouts();
    server_.commands_.dispatch(request, access_, *this);
    if (call_active_ && !answered_ && !pending_ && !closed_) {
      fail(Error{ErrorCode::internal, concat(request.cmd, " returned without an answer"), nullptr});
    }
  }

  void reject_queue_overflow() {
    std::string message = "more than ";
    message += std::to_string(protocol::kMaxLineBytes);
    message += " bytes of requests queued behind request ";
    message += std::to_string(call_id_);
    message += " (";
    message += call_cmd_;
    message +=
        "), which is still in progress; send the next request after its answer, or use "
        "another connection; closing the connection";
    send_final_error(Error{ErrorCode::bad_request, std::move(message), nullptr});
  }

  void reject_long_line() {
    std::string message = "request line longer than ";
    message += std::to_string(protocol::kMaxLineBytes);
    message += " bytes; closing the connection";
    send_final_error(Error{ErrorCode::line_too_long, std::move(message), nullptr});
  }

  // An error about the connection itself, then the end of it.
  void send_final_error(const Error& error) {
    evbuffer* input = bufferevent_get_input(bev_);
    evbuffer_drain(input, evbuffer_get_length(input));
    send(protocol::encode_error(std::nullopt, error));
    close_after_flush();
  }

  // Queues a line; a client whose unread answers exceed the bound is dropped instead.
  void send(const std::string& line) {
    if (closed_) return;
    evbuffer* output = bufferevent_get_output(bev_);
    if (evbuffer_get_length(output) > server_.options_.max_output_bytes)
      return drop("not reading its answers");
    if (bufferevent_write(bev_, line.data(), line.size()) != 0) return drop("out of memory");
  }

  void finish_call() {
    end_call();
    if (closed_) return;
    update_timeouts();
    resume_later();  // requests queued behind this one, or a half-close
  }

  void end_call() {
    call_active_ = false;
    on_drained_ = nullptr;
    if (pending_) server_.retire(std::shared_ptr<PendingCall>(std::move(pending_)));
  }

  // Reads nothing more; closes once every queued byte has been written (or the write times out).
  void close_after_flush() {
    if (closed_ || closing_) return;
    closing_ = true;
    end_call();
    resume_.cancel();
    bufferevent_disable(bev_, EV_READ);
    bufferevent_setwatermark(bev_, EV_WRITE, 0, 0);  // on_write when everything is written
    update_timeouts();
    if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0)
      drop("closed after the last answer");
  }

  bool idle() const {
    if (lingering_ || closing_) return false;
    return !call_active_ || (access_ != Access::control && server_.short_of_slots());
  }

  ControlServer& server_;
  bufferevent* bev_;
  std::uint64_t serial_;
  PeerCredentials peer_;
  Access access_;
  std::unique_ptr<PendingCall> pending_;
  Timer resume_;  // the next request, on the next loop turn
  std::function<void()> on_drained_;
  std::int64_t call_id_ = 0;
  std::string call_cmd_;
  bool call_active_ = false;
  bool answered_ = false;
  bool processing_ = false;
  bool peer_eof_ = false;
  bool lingering_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

// ---- The server ----

ControlServer::ControlServer(EventLoop& loop, ControlOptions options, Commands& commands)
    : loop_(loop),
      options_(std::move(options)),
      commands_(commands),
      sweep_timer_(loop, [this] { sweep(); }),
      resume_accept_timer_(loop, [this] {
        if (listener_) evconnlistener_enable(listener_);
      }) {
  policy_ = AccessPolicy{::geteuid(), options_.group, options_.readers};
  const std::string& path = options_.path;

  if (auto error = check_socket_path(path)) throw ControlError(*error);
  if (auto error = check_socket_directory(path, ::geteuid())) throw ControlError(*error);

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw ControlError(
          concat(path, " exists and is not a socket; remove it or choose another socket path"));
    }
    sockaddr_un addr{};
    socklen_t addr_len = 0;
    make_socket_address(path, addr, addr_len);
    if (probe_socket(path, addr, addr_len) == Probe::stale) {
      log::info("replacing a stale control socket", {{"socket", path}});
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw ControlError(
            concat("cannot remove the stale control socket ", path, ": ", errno_text(errno)));
      }
    }
  } else if (errno != ENOENT) {
    throw ControlError(concat("cannot inspect ", path, ": ", errno_text(errno)));
  }
  listen();
  watch_socket_file();
  log::info("control socket ready", {{"socket", path}});
}

// Creates the socket file and starts accepting on it.
void ControlServer::listen() {
  const std::string& path = options_.path;
  socket_file_.reset();  // a deleted file's record: its inode number may come back
  sockaddr_un addr{};
  socklen_t addr_len = 0;
  make_socket_address(path, addr, addr_len);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw ControlError(concat("cannot create the control socket: ", errno_text(errno)));
  // Created 0600 from the first instant; the configured mode and group come after.
  mode_t old_umask = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len);
  int bind_errno = errno;
  ::umask(old_umask);
  if (rc != 0) {
    std::string message = "cannot create the control socket ";
    message += path;
    message += ": ";
    message += errno_text(bind_errno);
    if (bind_errno == ENOENT) message += " (its directory does not exist)";
    if (bind_errno == EADDRINUSE) message += " (another daemon created it meanwhile)";
    throw ControlError(message);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    throw ControlError(concat("cannot inspect ", path, ": ", errno_text(errno)));
  socket_file_ = std::make_unique<SocketFile>(path, st.st_dev, st.st_ino);

  // Group first, then the wider mode: never a moment where the mode is wide and the group wrong.
  if (options_.group && ::lchown(path.c_str(), static_cast<uid_t>(-1), *options_.group) != 0) {
    std::string message = "cannot give the control socket ";
    message += path;
    message += " to group ";
    message += std::to_string(*options_.group);
    message += ": ";
    message += errno_text(errno);
    throw ControlError(message);
  }
  if ((options_.mode & 07777) != 0600 && ::chmod(path.c_str(), options_.mode & 0777) != 0) {
    throw ControlError(
        concat("cannot set the mode of the control socket ", path, ": ", errno_text(errno)));
  }

  evconnlistener* listener =
      evconnlistener_new(loop_.base(), on_accept, this,
                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, kListenBacklog, fd.get());
  if (!listener)
    throw ControlError(
        concat("cannot listen on the control socket ", path, ": ", errno_text(errno)));
  fd.release();
  evconnlistener_set_error_cb(listener, on_accept_error);
  if (listener_) evconnlistener_free(listener_);
  listener_ = listener;
}

// Watches the socket's directory so that a socket file deleted (or renamed away) under the
// running daemon is created again at once. Best effort: without inotify, nothing is watched.
void ControlServer::watch_socket_file() {
  const std::string& path = options_.path;
  std::size_t slash = path.find_last_of('/');
  std::string dir(slash == std::string::npos ? std::string_view(".")
                                             : std::string_view(path).substr(0, slash + 1));
  directory_watch_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!directory_watch_ || ::inotify_add_watch(directory_watch_.get(), dir.c_str(),
                                               IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
    log::warn("control socket: cannot watch its directory; a deleted socket file is not recreated",
              {{"socket", path}, {"error", errno_text(errno)}});
    directory_watch_.reset();
    return;
  }
  directory_event_ = std::make_unique<FdEvent>(loop_, directory_watch_.get(), EV_READ,
                                               [this](short) { on_directory_change(); });
  directory_event_->enable();
}

void ControlServer::on_directory_change() {
  alignas(inotify_event) char buffer[4096];
  while (::read(directory_watch_.get(), buffer, sizeof buffer) > 0) {
  }
  restore_socket_file();
}

bool ControlServer::restore_socket_file() {
  struct stat st {};
  if (::lstat(options_.path.c_str(), &st) == 0 || errno != ENOENT) return false;
  try {
    listen();
  } catch (const ControlError& e) {
    log::error("control socket deleted and not recreated", {{"error", e.what()}});
    return false;
  }
  log::warn("control socket recreated: its file was deleted", {{"socket", options_.path}});
  return true;
}

ControlServer::~ControlServer() {
  if (listener_) evconnlistener_free(listener_);
  listener_ = nullptr;
  for (auto& entry : sessions_) entry.second->flush_once();
  // Pending operations go first: they refer to their sessions.
  while (!sessions_.empty()) sessions_.begin()->second->drop("the daemon is exiting");
  sweep();
}

void ControlServer::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int,
                              void* self) noexcept {
  auto* server = static_cast<ControlServer*>(self);
  try {
    server->accept(fd);
  } catch (const std::exception& e) {
    log::error("control socket: accepting a connection failed", {{"error", e.what()}});
  } catch (...) {
    log::error("control socket: accepting a connection failed");
  }
}

void ControlServer::on_accept_error(evconnlistener* listener, void* self) noexcept {
  auto* server = static_cast<ControlServer*>(self);
  int err = EVUTIL_SOCKET_ERROR();
  try {
    // Once per burst: the retries of one shortage are counted, and logged when it ends.
    if (server->accept_failures_++ == 0) {
      log::warn("control socket: accept failed; retrying every 100ms",
                {{"error", errno_text(err)}});
    }
    // Out of fds or memory: the listening socket stays readable, so pause instead of spinning.
    evconnlistener_disable(listener);
    server->resume_accept_timer_.arm(kAcceptRetry);
  } catch (...) {
  }
}

void ControlServer::accept(int raw_fd) {
  Fd fd(raw_fd);  // accepted non-blocking and close-on-exec by the listener
  if (accept_failures_ > 0) {
    log::info("control socket: accepting again", {{"failed attempts", accept_failures_}});
    accept_failures_ = 0;
  }
  auto peer = peer_credentials(fd.get());
  if (!peer) {
    log::warn("control socket: cannot read peer credentials", {{"error", errno_text(errno)}});
    return;
  }
  Access access = decide_access(*peer, policy_);
  if (auto error = over_limit(*peer, access)) {
    refusal_log().write("control connection refused: too many clients",
                        {{"uid", peer->uid}, {"pid", peer->pid}, {"error", error->message}});
    return refuse(fd.get(), *error);
  }
  bufferevent* bev = bufferevent_socket_new(loop_.base(), fd.get(), BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    log::error("control socket: cannot allocate a connection");
    return;
  }
  fd.release();
  auto session = std::make_unique<Session>(*this, bev, next_serial_++, std::move(*peer), access);
  Session* raw = session.get();
  bool was_short = short_of_slots();
  sessions_.emplace(raw, std::move(session));
  ++sessions_per_uid_[peer->uid];
  raw->begin();
  slots_changed(was_short);
}

// Everyone shares max_clients; the last control_reserve slots are for users who may control;
// users other than root and the daemon's own get max_clients_per_uid each.
std::optional<Error> ControlServer::over_limit(const PeerCredentials& peer, Access access) const {
  std::size_t in_use = sessions_.size();
  std::string message;
  if (in_use >= options_.max_clients) {
    message = "too many clients (";
    message += std::to_string(in_use);
    message += " connected); try again later";
  } else if (access != Access::control &&
             in_use + std::min(options_.control_reserve, options_.max_clients) >=
                 options_.max_clients) {
    message = "too many clients (";
    message += std::to_string(in_use);
    message += " connected of ";
    message += std::to_string(options_.max_clients);
    message += "; the last ";
    message += std::to_string(options_.control_reserve);
    message += " are kept for users who may control the daemon); try again later";
  } else if (peer.uid != 0 && peer.uid != policy_.daemon_uid) {
    auto it = sessions_per_uid_.find(peer.uid);
    if (it == sessions_per_uid_.end() || it->second < options_.max_clients_per_uid)
      return std::nullopt;
    message = "too many connections from uid ";
    message += std::to_string(peer.uid);
    message += " (";
    message += std::to_string(it->second);
    message += ", the limit per user); close some, e.g. finished `gardienctl wait` or `logs -f`";
  } else {
    return std::nullopt;
  }
  return Error{ErrorCode::too_many_clients, std::move(message), nullptr};
}

void ControlServer::slots_changed(bool was_short) {
  if (short_of_slots() == was_short) return;
  for (auto& entry : sessions_) entry.second->update_timeouts();
}

// One best-effort line, without a session: the kernel buffer of a fresh socket takes it.
void ControlServer::refuse(int fd, const Error& error) {
  std::string line = protocol::encode_error(std::nullopt, error);
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void ControlServer::retire(std::shared_ptr<void> thing) {
  graveyard_.push_back(std::move(thing));
  if (!sweep_timer_.armed()) sweep_timer_.arm(Duration(0));
}

void ControlServer::retire_session(Session* session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  std::shared_ptr<Session> owned(std::move(it->second));
  bool was_short = short_of_slots();
  sessions_.erase(it);
  if (auto count = sessions_per_uid_.find(owned->uid());
      count != sessions_per_uid_.end() && --count->second == 0) {
    sessions_per_uid_.erase(count);
  }
  slots_changed(was_short);
  retire(std::move(owned));
}

void ControlServer::sweep() noexcept {
  // In retirement order: an operation is always retired before its session.
  std::vector<std::shared_ptr<void>> dead;
  dead.swap(graveyard_);
  for (auto& thing : dead) thing.reset();
}

}  // namespace gardien
