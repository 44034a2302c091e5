// The control socket's wire format (docs/protocol.md is the contract): one JSON object per line,
// shared by the daemon and gardienctl so both sides use one definition. Pure: no I/O, no libevent.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/duration.h"

namespace gardien::protocol {

inline constexpr int kVersion = 1;
// A request line (without its '\n') may be at most this long; longer ones end the connection.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
// JSON nesting deeper than this (in a request or a response) is refused before it costs anything.
inline constexpr int kMaxDepth = 32;
// What a client accepts for one response line (a status of thousands of instances is large).
inline constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

// Stable error codes: clients and scripts match on these strings, so never rename one.
enum class ErrorCode {
  bad_request,    // malformed request: invalid JSON, not an object, missing/wrong field or arg
  line_too_long,  // request line over kMaxLineBytes (the connection is closed)
  unsupported_version,  // "v" is not kVersion
  unknown_command,      // "cmd" names no verb (the message lists the verbs)
  unknown_program,      // a NAME matches no program or instance (the message names it)
  permission_denied,    // the peer may not use this socket, or only read verbs
  too_many_clients,     // the connection cap is reached (the connection is closed)
  timeout,              // a wait ran out of time, or the connection was idle too long
  failed,               // the action was tried and did not succeed (details say per instance)
  shutting_down,        // the daemon is shutting down and accepts no new work
  invalid_config,       // reload: the new config has errors (details.diagnostics)
  unavailable,          // the verb exists but this daemon cannot serve it (yet)
  internal,             // a bug in the daemon; the message says what
};

std::string_view error_code_name(ErrorCode code) noexcept;
std::optional<ErrorCode> parse_error_code(std::string_view name) noexcept;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  nlohmann::json details;  // null, or an object with verb-specific data
};

struct Request {
  std::int64_t id = 0;
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();  // always an object
};

// A line that is not a valid request: `id` is set when it could be read, so the reply can carry it.
struct RequestError {
  std::optional<std::int64_t> id;
  Error error;
};

// Turns one line (without its '\n'; a trailing '\r' is ignored) into a request or a precise
// error. Never throws.
std::variant<Request, RequestError> parse_request(std::string_view line) noexcept;

// Encoders. Each returns one complete line, '\n' included. Invalid UTF-8 in strings is replaced,
// never thrown on. `id` is null on the wire when absent (errors about unreadable requests).
std::string encode_request(const Request& request);
std::string encode_result(std::optional<std::int64_t> id, const nlohmann::json& result);
// An intermediate line of a streaming answer: "more": true, a final line follows.
std::string encode_progress(std::optional<std::int64_t> id, const nlohmann::json& result);
std::string encode_error(std::optional<std::int64_t> id, const Error& error);

// One response line as a client reads it.
struct Response {
  std::optional<std::int64_t> id;
  bool ok = false;
  bool more = false;          // an intermediate line of a stream; the final line has more == false
  nlohmann::json result;      // ok
  std::string error_code;     // !ok: the wire name (kept as text: newer daemons may add codes)
  std::string error_message;  // !ok
  nlohmann::json error_details;  // !ok: null or an object
  bool is(ErrorCode code) const { return !ok && error_code == error_code_name(code); }
};

// A user-supplied string made safe for an error message: JSON-quoted, cut to `max` bytes.
std::string quote(std::string_view text, std::size_t max = 80);

// Reads one response line (without '\n'); the string alternative says what is wrong. Never throws.
std::variant<Response, std::string> parse_response(std::string_view line) noexcept;

// Splits a byte stream into lines with a cap on their length (the client's reader).
class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line) : max_line_(max_line) {}
  void append(std::string_view bytes) { data_.append(bytes); }
  // The next complete line without its '\n', or nullopt when no full line is buffered.
  std::optional<std::string> next_line();
  // True when the buffered partial line is already longer than the cap.
  bool overflowed() const;
  std::size_t buffered() const { return data_.size() - start_; }

 private:
  std::size_t max_line_;
  std::string data_;
  std::size_t start_ = 0;
};

// ---- Shared schemas of verb results (docs/protocol.md "Verbs") ----

// The states a supervised instance can be in (docs/lifecycle.md).
enum class InstanceState { stopped, starting, running, backoff, stopping, exited, fatal };
// Every state with its name, in the order of an instance's life: the one list the daemon, the
// client and the completion script derive theirs from.
inline constexpr std::array<std::pair<InstanceState, std::string_view>, 7> kInstanceStates = {{
    {InstanceState::stopped, "stopped"},
    {InstanceState::starting, "starting"},
    {InstanceState::running, "running"},
    {InstanceState::backoff, "backoff"},
    {InstanceState::stopping, "stopping"},
    {InstanceState::exited, "exited"},
    {InstanceState::fatal, "fatal"},
}};
std::string_view state_name(InstanceState state) noexcept;
std::optional<InstanceState> parse_state(std::string_view name) noexcept;

// How an instance's last run ended, apart from its state (docs/lifecycle.md "Outcomes").
enum class RunOutcome { exited, stopped_by_operator, timed_out, failed_to_start, unhealthy, fatal };
inline constexpr std::array<std::pair<RunOutcome, std::string_view>, 6> kRunOutcomes = {{
    {RunOutcome::exited, "exited"},
    {RunOutcome::stopped_by_operator, "stopped by operator"},
    {RunOutcome::timed_out, "timed out"},
    {RunOutcome::failed_to_start, "failed to start"},
    {RunOutcome::unhealthy, "unhealthy"},
    {RunOutcome::fatal, "fatal"},
}};
std::string_view outcome_name(RunOutcome outcome) noexcept;
std::optional<RunOutcome> parse_outcome(std::string_view name) noexcept;

// What the health checks of a running instance say.
enum class Health { none, healthy, unhealthy };
inline constexpr std::array<std::pair<Health, std::string_view>, 3> kHealthNames = {{
    {Health::none, "none"},  // no health check, or not running
    {Health::healthy, "healthy"},
    {Health::unhealthy, "unhealthy"},  // failing, below failure-threshold yet
}};
std::string_view health_name(Health health) noexcept;
std::optional<Health> parse_health(std::string_view name) noexcept;

// One line of `status`.
struct InstanceStatus {
  std::string name;     // instance name: "web" or "web.2"
  std::string program;  // the program it belongs to: "web"
  InstanceState state = InstanceState::stopped;
  std::optional<pid_t> pid;        // while a process exists
  std::optional<Duration> uptime;  // since the current process started
  std::int64_t restarts = 0;
  std::string info;     // last exit code or signal, backoff time left, fatal reason; may be empty
  bool wanted = false;  // the supervisor is keeping it up (not stopped on purpose, not done)
  std::optional<std::int64_t> processes;  // processes in its tree (cgroup or process group)
  std::optional<RunOutcome> last_run = std::nullopt;  // how its last run ended; nullopt: none yet
  bool ready = false;  // running, and its readiness (when it has one) passed
  Health health = Health::none;
  int health_failures = 0;                      // checks failed in a row so far
  int health_threshold = 0;                     // failure-threshold (0 without a health check)
  std::string status_text = {};                 // the last STATUS= it sent on its notify socket
  std::optional<int> exit_code = std::nullopt;  // its last run exited with this code
  std::optional<int> signal = std::nullopt;     // its last run was killed by this signal
  bool operator==(const InstanceStatus&) const = default;
};
nlohmann::json to_json(const InstanceStatus& status);
// nullopt and `error` set when `json` does not have the schema.
std::optional<InstanceStatus> instance_status_from_json(const nlohmann::json& json,
                                                        std::string& error);

// What happened to one instance in an action or a wait (streamed as it happens).
struct InstanceResult {
  std::string name;
  InstanceState state = InstanceState::stopped;
  std::optional<pid_t> pid;
  bool ok = true;
  std::string info;  // why it failed, or a note ("already running")
  bool operator==(const InstanceResult&) const = default;
};
nlohmann::json to_json(const InstanceResult& result);
std::optional<InstanceResult> instance_result_from_json(const nlohmann::json& json,
                                                        std::string& error);

// `reload`: what changes (or would change, with dry_run) between the running and the new config.
struct ScaleChange {
  std::string program;
  int from = 0;
  int to = 0;
  bool operator==(const ScaleChange&) const = default;
};
struct ReloadPlan {
  std::vector<std::string> added;      // new programs (started when autostart)
  std::vector<std::string> removed;    // stopped and dropped
  std::vector<std::string> changed;    // restarted with the new settings
  std::vector<ScaleChange> scaled;     // only `instances` changed: only the difference moves
  std::vector<std::string> unchanged;  // left running, same pids
  // [supervisor] changes, one line each: "log-level: info -> debug", or what needs a restart.
  std::vector<std::string> supervisor;
  bool empty() const {
    return added.empty() && removed.empty() && changed.empty() && scaled.empty() &&
           supervisor.empty();
  }
  bool operator==(const ReloadPlan&) const = default;
};
nlohmann::json to_json(const ReloadPlan& plan);
std::optional<ReloadPlan> reload_plan_from_json(const nlohmann::json& json, std::string& error);

}  // namespace gardien::protocol
