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
// What `wait` takes in "for" beside the states: running, and its readiness passed.
inline constexpr std::string_view kReadyGoal = "ready";

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

// What a `status` line describes.
enum class InstanceKind {
  program,  // an instance of a [program.NAME]
  task,     // a [task.NAME] as a whole: its next scheduled fire, its last run
  run,      // one running run of a task ("migrate#12"), listed under its task
};
inline constexpr std::array<std::pair<InstanceKind, std::string_view>, 3> kInstanceKinds = {{
    {InstanceKind::program, "program"},
    {InstanceKind::task, "task"},
    {InstanceKind::run, "run"},
}};
std::string_view kind_name(InstanceKind kind) noexcept;
std::optional<InstanceKind> parse_kind(std::string_view name) noexcept;

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
  bool reloading = false;  // it sent RELOADING=1 and not yet the READY=1 that ends the reload
  // program (the default, absent on the wire), task or run. Tasks and runs never make `status`
  // exit 3: a task at rest is what a task is.
  InstanceKind kind = InstanceKind::program;
  // task: when its schedule fires next (wall clock, milliseconds since the Unix epoch).
  std::optional<std::int64_t> next_fire_ms = std::nullopt;
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
  // [task.NAME] changes, one line each: "add task backup", "change task migrate (from its next
  // run)", "remove task old (its queued runs are cancelled, running ones finish)".
  std::vector<std::string> tasks;
  bool empty() const {
    return added.empty() && removed.empty() && changed.empty() && scaled.empty() &&
           supervisor.empty() && tasks.empty();
  }
  bool operator==(const ReloadPlan&) const = default;
};
nlohmann::json to_json(const ReloadPlan& plan);
std::optional<ReloadPlan> reload_plan_from_json(const nlohmann::json& json, std::string& error);

// ---- Task runs (`run`, `jobs`, `cancel`, `schedules`: docs/tasks.md) ----

enum class JobState { queued, running, finished };
inline constexpr std::array<std::pair<JobState, std::string_view>, 3> kJobStates = {{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::finished, "finished"},
}};
std::string_view job_state_name(JobState state) noexcept;
std::optional<JobState> parse_job_state(std::string_view name) noexcept;

// How a finished run ended.
enum class JobOutcome {
  succeeded,        // exited with one of success-exit-codes
  failed,           // exited otherwise, or was killed by a signal (exit_code / signal say which)
  timed_out,        // its last attempt passed `timeout`, or the runs passed `deadline`
  cancelled,        // `gardienctl cancel`, a replacing fire, a removed task, or the shutdown
  failed_to_start,  // could not be spawned (exec failed, no such user...)
  lost,             // it was running when the daemon died (read back from the state file)
};
inline constexpr std::array<std::pair<JobOutcome, std::string_view>, 6> kJobOutcomes = {{
    {JobOutcome::succeeded, "succeeded"},
    {JobOutcome::failed, "failed"},
    {JobOutcome::timed_out, "timed out"},
    {JobOutcome::cancelled, "cancelled"},
    {JobOutcome::failed_to_start, "failed to start"},
    {JobOutcome::lost, "lost"},
}};
std::string_view job_outcome_name(JobOutcome outcome) noexcept;
std::optional<JobOutcome> parse_job_outcome(std::string_view name) noexcept;

// Who asked for a run.
enum class JobSource { ctl, schedule, start };
inline constexpr std::array<std::pair<JobSource, std::string_view>, 3> kJobSources = {{
    {JobSource::ctl, "ctl"},            // `gardienctl run` (`uid` says who)
    {JobSource::schedule, "schedule"},  // its schedule fired
    {JobSource::start, "start"},        // run = "on-start" (or @reboot), or a start that needs it
}};
std::string_view job_source_name(JobSource source) noexcept;
std::optional<JobSource> parse_job_source(std::string_view name) noexcept;

// One run of a task, as `jobs` lists it and `run --wait` follows it. Times are wall-clock
// milliseconds since the Unix epoch.
struct JobRecord {
  std::string id;  // "migrate#12"
  std::string task;
  std::int64_t number = 0;  // 12: per task, from 1, never reused within a state directory
  JobState state = JobState::queued;
  JobSource source = JobSource::ctl;
  std::optional<std::int64_t> uid;  // source == ctl: the submitter's uid (peer credentials)
  std::vector<std::string> args;    // appended to the task's command
  std::int64_t queued_ms = 0;
  std::optional<std::int64_t> started_ms;  // its first attempt was spawned
  std::optional<std::int64_t> ended_ms;
  int attempts = 0;
  std::optional<pid_t> pid;           // running: the current attempt's main process
  std::optional<JobOutcome> outcome;  // finished
  std::optional<int> exit_code;       // the last attempt exited with this code
  std::optional<int> signal;          // the last attempt was killed by this signal
  std::string info;  // "timed out after 5s", "cancelled: shutdown", "exit code 3; 2 attempts"
  bool operator==(const JobRecord&) const = default;
};
nlohmann::json to_json(const JobRecord& record);
std::optional<JobRecord> job_record_from_json(const nlohmann::json& json, std::string& error);

// `gardienctl run --wait`'s exit code for a finished run, like timeout(1): its exit code, 128+N
// for signal N, 124 when it timed out, 125 when it was cancelled or lost, 126 when it failed to
// start.
int exit_code_of(const JobRecord& record) noexcept;

// `schedules`: the next fires of one scheduled task.
struct TaskSchedule {
  std::string task;
  std::string schedule;               // as written
  std::string time_zone;              // the zone it fires in ("Europe/Paris")
  std::vector<std::int64_t> next_ms;  // the next fires, earliest first
  bool operator==(const TaskSchedule&) const = default;
};
nlohmann::json to_json(const TaskSchedule& schedule);
std::optional<TaskSchedule> task_schedule_from_json(const nlohmann::json& json, std::string& error);

}  // namespace gardien::protocol
