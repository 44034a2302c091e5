// The verbs of the control socket: one table (name -> handler, read or control, help). A new verb
// is one handler and one table line (in commands.cpp, or through add() from the module that owns
// it). Handlers answer through a Responder (once, or streaming) and reach the supervisor only
// through ControlTarget.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "supervisord/control/control_target.h"
#include "supervisord/control/state_wait.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

// What a connected peer may do (decided from its credentials, see control.h).
enum class Access { none, read, control };

// State an asynchronous handler keeps until its final answer (a subscription, a timer...).
class PendingCall {
 public:
  virtual ~PendingCall() = default;
};

// How a handler answers the one request it was given. After the final answer (reply or fail)
// every method is a no-op; so it is when the client has gone.
class Responder {
 public:
  virtual ~Responder() = default;
  // The final answer: {"ok":true,"result":...} or {"ok":false,"error":...}.
  virtual void reply(const nlohmann::json& result) = 0;
  virtual void fail(protocol::Error error) = 0;
  // An intermediate line ("more":true). False when the client is gone or was dropped for not
  // reading: stop producing.
  virtual bool progress(const nlohmann::json& result) = 0;
  // Keeps `pending` until the final answer or the client leaves, then destroys it (on a later
  // loop turn, never under the caller's feet). A handler that returns without a final answer
  // must have kept what will give it.
  virtual void keep(std::unique_ptr<PendingCall> pending) = 0;
  // After the final answer, keeps the connection open, never idle, until the daemon exits: the
  // client of `shutdown` learns the daemon is gone when it reads end-of-file.
  virtual void linger() = 0;
  virtual bool answered() const = 0;
  // True while the client has not read enough of what was sent: a handler that streams much
  // (logs) stops producing and asks when_drained() to be called back.
  virtual bool backlogged() const { return false; }
  // Calls `fn` once, from the loop, when the client has read its backlog; a later call
  // replaces it. Forgotten with the request.
  virtual void when_drained(std::function<void()> fn) { (void)fn; }
  // Who sent the request (the socket's peer credentials), for verbs that record it; nullopt
  // when no peer is known.
  virtual std::optional<uid_t> peer_uid() const { return std::nullopt; }
};

struct Verb {
  std::string name;
  bool read_only = false;  // usable with Access::read (socket-readers)
  std::string help;        // one line: "status [NAME...]: show instances"
  std::function<void(const protocol::Request&, Responder&)> handler;
};

class Commands {
 public:
  // `target` may be null until the supervisor exists: its verbs then answer `unavailable`.
  explicit Commands(EventLoop& loop, ControlTarget* target = nullptr);
  Commands(const Commands&) = delete;
  Commands& operator=(const Commands&) = delete;

  // The seam: the supervisor plugs itself in here.
  void set_target(ControlTarget* target) noexcept { target_ = target; }

  // Adds a verb, or replaces the one with the same name (e.g. `logs` from the output module).
  void add(Verb verb);

  // Checks access, finds the verb and runs it. Never throws: a handler's exception becomes an
  // `internal` error if the request was not answered yet.
  void dispatch(const protocol::Request& request, Access access, Responder& responder) noexcept;

  const std::vector<Verb>& verbs() const noexcept { return verbs_; }
  const Verb* find(std::string_view name) const noexcept;

  // For handlers: the loop, and the supervisor (null after answering `unavailable`, or with
  // `refuse_when_shutting_down` `shutting_down`, when there is none to ask).
  EventLoop& loop() const noexcept { return loop_; }
  ControlTarget* target_for(Responder& responder, bool refuse_when_shutting_down = false);

 private:
  EventLoop& loop_;
  ControlTarget* target_;
  std::vector<Verb> verbs_;
};

}  // namespace gardien
