// The configuration as plain structs. Only the loader in common/config/ knows about TOML.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"

namespace gardien {

enum class RestartPolicy { always, on_failure, never };
enum class KillMode { group, process, cgroup };
// What a dependency must have reached before its dependent starts (`depends-on`): `started`,
// spawned (not waiting for ready); `ready`, running (its readiness check passed, or without one
// start-seconds passed), what a plain name means; `completed`, exited with a success code.
enum class DependencyCondition { started, ready, completed };
enum class LogFormat { text, json };
enum class LogLevel { debug, info, warn, error };

// Where one output stream of a program goes.
struct OutputSink {
  enum class Kind {
    prefix,   // the daemon's own stdout/stderr, each line as "NAME | line"
    inherit,  // the child writes straight to the daemon's fd
    null,     // discarded
    file,     // appended to `path`, rotated by size
    merge,    // stderr only (`stderr = "stdout"`): merged into the program's stdout stream
  };
  Kind kind = Kind::prefix;
  std::string path;                      // kind == file
  std::uint64_t max_size = 50ull << 20;  // kind == file; 0 = never rotate
  int keep = 10;                         // kind == file: rotated files kept besides `path`
  bool operator==(const OutputSink&) const = default;
};

// A user resolved from the password database when the config is loaded.
struct RunAs {
  std::string user;  // name as in /etc/passwd
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group, or the `group` key's
  std::string home;
  std::string shell;
  // The user's supplementary groups (getgrouplist at load time: no NSS lookups after fork).
  std::vector<gid_t> groups;
  bool operator==(const RunAs&) const = default;
};

struct ResourceLimit {
  int resource = 0;  // RLIMIT_*
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;  // RLIM_INFINITY for "unlimited"
  bool operator==(const ResourceLimit&) const = default;
};

// A check of a program: how it tells it is ready (`ready`), or how it is seen healthy (`health`).
struct ProbeConfig {
  enum class Kind {
    notify,  // the systemd protocol: READY=1 on the instance's own NOTIFY_SOCKET (ready only)
    fd,      // the s6 protocol: a line written to fd `fd` (ready only)
    tcp,     // a connect to `target` ("127.0.0.1:5432", "[::1]:80") succeeds
    http,    // GET `target` ("http://127.0.0.1:8080/healthz") answers 2xx
    exec,    // `command` exits 0, run as the program's user with its environment
    file,    // `target` (an absolute path) exists; removed before each start
  };
  Kind kind = Kind::notify;
  int fd = 0;                        // fd: the number the program writes to (>= 3)
  std::string target;                // tcp, http, file
  std::vector<std::string> command;  // exec: argv, as `command` (a string runs under /bin/sh -c)
  Duration period = std::chrono::seconds(1);   // between two polls (tcp, http, exec, file)
  Duration timeout = std::chrono::seconds(1);  // one poll's limit
  // health only: failures in a row that make the instance unhealthy, and how long after it
  // became ready failures do not count yet.
  int failure_threshold = 3;
  Duration start_period{0};
  bool polled() const { return kind != Kind::notify && kind != Kind::fd; }
  bool operator==(const ProbeConfig&) const = default;
};

struct ProgramConfig {
  std::string name;
  std::vector<std::string> command;  // argv; a TOML string becomes {"/bin/sh", "-c", STRING}
  std::string directory;             // empty: the daemon's working directory
  std::map<std::string, std::string> environment;  // added to (and overriding) the daemon's
  std::optional<RunAs> run_as;                     // `user` (and `group`)
  std::optional<gid_t> group;                      // `group` without `user`
  std::optional<mode_t> umask;
  int instances = 1;
  bool autostart = true;
  RestartPolicy restart = RestartPolicy::on_failure;
  std::vector<int> success_exit_codes = {0};
  Duration start_seconds = std::chrono::seconds(1);
  int start_retries = 3;  // 0 = never give up
  Duration backoff = std::chrono::seconds(1);
  Duration backoff_max = std::chrono::seconds(30);
  int stop_signal = 15;   // SIGTERM
  int reload_signal = 1;  // SIGHUP: what `gardienctl reload NAME` sends to the main process
  Duration stop_timeout = std::chrono::seconds(5);
  KillMode kill_mode = KillMode::group;
  std::vector<std::string> depends_on;  // every dependency's name, in the order written
  // Dependencies with a condition other than `ready` (from the table form of depends-on).
  std::map<std::string, DependencyCondition> dependency_conditions;
  bool critical = false;
  std::optional<int> exit_code;  // a critical program's exit code override
  OutputSink stdout_sink;
  OutputSink stderr_sink;
  bool timestamps = false;                     // RFC 3339 prefix on prefix-sink lines
  std::uint64_t log_buffer_size = 1ull << 20;  // ring buffer for `gardienctl logs`; 0 = none
  std::vector<ResourceLimit> rlimits;
  // Readiness: until it passes the instance is `starting`; without it, `start_seconds` decides.
  std::optional<ProbeConfig> ready;
  Duration ready_timeout = std::chrono::seconds(60);  // ready set: not ready by then = failed start
  std::optional<ProbeConfig> health;                  // checked while running; never notify or fd
  // WATCHDOG=1 on the notify socket at least this often, else the instance is restarted; 0: off.
  Duration watchdog{0};
  // Health restarts (health checks and watchdog) allowed per backoff-max window, then fatal.
  int health_restarts = 5;
  // The instance gets its own NOTIFY_SOCKET: ready = "notify", or a watchdog.
  bool uses_notify_socket() const {
    return (ready && ready->kind == ProbeConfig::Kind::notify) || watchdog > Duration{0};
  }

  // "web" when instances == 1, else "web.0", "web.1", ...
  std::vector<std::string> instance_names() const;
  // What `dependency` (one of depends_on) must have reached before this program starts.
  DependencyCondition condition_on(std::string_view dependency) const;
  // 0 for `name` and `name.0`, N for `name.N` (GARDIEN_INSTANCE_INDEX).
  int instance_index(std::string_view instance) const;

  // Two programs are equal when they would run the same way: the reload diff relies on it.
  bool operator==(const ProgramConfig&) const = default;
};

// When a task runs besides `gardienctl run` and its schedule (`run`).
enum class TaskRunWhen {
  on_demand,  // only when asked (`gardienctl run`) or scheduled
  on_start,   // once when the daemon starts, before what depends on it; `@reboot` means this
};
// What a scheduled fire does while a run of the task is active (`concurrency`); `gardienctl run`
// always queues behind max-concurrent.
enum class ScheduleConcurrency {
  forbid,   // skip the fire, and log it
  allow,    // queue it like any run (max-concurrent still applies)
  replace,  // cancel the active runs, then queue it
  queue,    // queue it behind the active run
};

// A task: one-shot work, run on demand, at start or on a schedule, through the job queue. It
// shares a program's spawn, user, environment, directory, rlimits, output and stop settings.
struct TaskConfig {
  // The settings shared with programs (`process.name` is the task's name). A run is spawned and
  // stopped from these; restart, instances, autostart, start-seconds, ready and health do not
  // apply to tasks. `process.success_exit_codes`, `process.backoff` and `process.backoff_max`
  // are the task's own keys of the same names; `process.log_buffer_size` is `max-output`.
  ProgramConfig process;
  Duration timeout{0};   // one attempt's limit, then the stop sequence; 0: none
  int retries = 0;       // attempts after a failed first one
  Duration deadline{0};  // all attempts together; 0: none
  TaskRunWhen run = TaskRunWhen::on_demand;
  std::string schedule;   // as written ("*/15 * * * *", "@every 10m"); empty: none
  std::string time_zone;  // IANA name; empty: the daemon's local zone
  ScheduleConcurrency concurrency = ScheduleConcurrency::forbid;
  int history = 20;        // finished runs kept (in memory and in the state file)
  int max_concurrent = 1;  // runs of this task at once
  bool args = true;        // `gardienctl run TASK -- ARGS` may append arguments
  const std::string& name() const noexcept { return process.name; }
  bool operator==(const TaskConfig&) const = default;
};

struct SupervisorConfig {
  std::string socket;  // empty: the default rule (docs/ctl.md)
  mode_t socket_mode = 0600;
  std::optional<gid_t> socket_group;
  std::optional<gid_t> socket_readers;
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;
  Duration shutdown_timeout = std::chrono::seconds(30);
  int max_concurrent_jobs = 0;  // task runs at once; 0: the number of CPUs
  int max_queued_jobs = 1000;   // runs waiting for a slot; beyond it a submission is refused
  // Where finished task runs are kept across restarts; empty: the default (docs/tasks.md).
  std::string state_dir;
  bool operator==(const SupervisorConfig&) const = default;
};

struct Config {
  SupervisorConfig supervisor;
  std::vector<ProgramConfig> programs;  // sorted by name
  std::vector<TaskConfig> tasks;        // sorted by name; no task has a program's name
  const ProgramConfig* find(std::string_view name) const;
  const TaskConfig* find_task(std::string_view name) const;
  int instance_count() const;  // sum of every program's instances
};

// The config spelling of each enum value ("on-failure", "group", "json", "warn").
std::string_view to_string(RestartPolicy policy);
std::string_view to_string(KillMode mode);
std::string_view to_string(DependencyCondition condition);
std::string_view to_string(ProbeConfig::Kind kind);  // "notify", "fd", "tcp", ...
std::string_view to_string(LogFormat format);
std::string_view to_string(LogLevel level);
std::string_view to_string(TaskRunWhen when);                 // "on-demand", "on-start"
std::string_view to_string(ScheduleConcurrency concurrency);  // "forbid", "allow", ...
// The inverse of to_string: nullopt for anything else ("3", "WARN").
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

// One problem found in a config file. `line`/`column` are 0 when the problem has no place.
struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  std::string file;
  int line = 0;
  int column = 0;
  std::string key_path;  // "program.web.stop-timeout"; empty for file-level problems
  std::string message;
  // "FILE:LINE:COL: KEY.PATH: message" (warnings say "warning: " before the key path).
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when there is no error (warnings allowed)
  std::vector<Diagnostic> diagnostics;
  bool unreadable = false;  // the main file could not be read (the one diagnostic says why)
  bool ok() const { return config.has_value(); }
};

// Reads an environment variable for ${VAR} expansion; nullopt when undefined.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Checks a task's time-zone name: nullopt when the zone exists, else the error.
// system_time_zones() looks in the system's tzdata (common/time_zone.cpp, in gardien_time with
// the tz library); any_time_zone() lets every name pass, for a reader that wants only the socket
// path (gardienctl -c) and not that library.
using TimeZoneCheck = std::function<std::optional<std::string>(std::string_view name)>;
TimeZoneCheck system_time_zones();
TimeZoneCheck any_time_zone();

// Loads `path` and its includes, validating everything and reporting every error at once.
LoadResult load_config(const std::filesystem::path& path,
                       const EnvLookup& env = process_environment(),
                       const TimeZoneCheck& zones = system_time_zones());
// The same for text in memory (tests); `name` is used as the file name in diagnostics and
// includes are resolved relative to the current directory.
LoadResult load_config_string(std::string_view text, const std::string& name,
                              const EnvLookup& env = process_environment(),
                              const TimeZoneCheck& zones = system_time_zones());

}  // namespace gardien
