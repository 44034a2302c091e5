// gardienctl's human output and exit-code rules. Pure: JSON results in, text and numbers out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/protocol.h"

namespace gardien::ctl {

// The `status` table: NAME STATE PID UPTIME RESTARTS INFO, columns aligned, "-" for no value.
// STATE adds what the checks say ("running (unhealthy 2/3)", "running (reloading)"); INFO ends
// with the last STATUS= text, cut to kStatusTextColumns.
// A task's row says its next fire in INFO ("next 12:15", compact against `now_ms`); a run's row
// is indented under its task ("  migrate#12").
std::string render_status_table(const std::vector<protocol::InstanceStatus>& instances,
                                std::int64_t now_ms = 0);

// The STATE cell: "running", "running (healthy)", "running (reloading, unhealthy 1/3)".
std::string render_state(const protocol::InstanceStatus& status);

// How much of a STATUS= text the table shows; `status --json` has all of it.
inline constexpr std::size_t kStatusTextColumns = 40;

// `text` cut to at most `max` bytes (on a UTF-8 character boundary) and an ellipsis, when longer.
std::string truncate_text(std::string text, std::size_t max);

// 0 when every instance of a program the supervisor keeps up (wanted) is running, 3 otherwise.
// Tasks and their runs never count: a task at rest is what a task is.
int status_exit_code(const std::vector<protocol::InstanceStatus>& instances);

// Uptime as the table shows it: whole seconds, "1h2m3s"; "-" when there is none.
std::string render_uptime(const std::optional<Duration>& uptime);

// A wall-clock time (milliseconds since the epoch) in local time, as compact as `now_ms` allows:
// "12:15:03" on the same day, "Dec 02 12:15:03" in the same year, else "2025-12-02 12:15:03".
// Without `seconds`, a time on the minute drops them ("12:15"): the fires of a schedule.
std::string render_local_time(std::int64_t ms, std::int64_t now_ms, bool seconds = true);

// The `jobs` table: ID STATE OUTCOME QUEUED STARTED DURATION ATTEMPTS BY, one row per run.
// OUTCOME is the outcome and info of a finished run, "pid N" of a running one; DURATION runs to
// `now_ms` while it runs; BY is "uid N", "schedule" or "start".
std::string render_jobs_table(const std::vector<protocol::JobRecord>& records, std::int64_t now_ms);

// A run in one line: "migrate#12 queued", "migrate#12 running (pid 42)", "migrate#12 failed:
// exit code 3".
std::string render_job_line(const protocol::JobRecord& record);

// The `schedules` table: TASK SCHEDULE ZONE NEXT FIRES (local times, comma-separated).
std::string render_schedules_table(const std::vector<protocol::TaskSchedule>& schedules,
                                   std::int64_t now_ms);

// What an instance result answers: the verb, the signal sent (`signal`), the state waited for
// (`wait`).
struct ResultContext {
  std::string verb;
  std::string signal_name;
  std::string goal;
};

// One line per instance of start/stop/restart/wait/signal/reload: "web.0: running (pid 42)" when
// it got there, a sentence when not: "web.1 did not start: it is in backoff (exit code 1)",
// "web.0 did not stop in time: it is running", "db: SIGHUP not sent: no process",
// "web exited during its reload: exit code 1".
std::string render_instance_result(const protocol::InstanceResult& result,
                                   const ResultContext& context = {});

// `text` with its control characters (C0 but tab and newline, DEL, C1) written as \xNN or
// \u00NN when `terminal`, so a program's output cannot drive the user's terminal; as is when not.
std::string for_terminal(std::string text, bool terminal);

// The `reload` result: the plan (or what a dry run would do) and warnings.
std::string render_reload(const protocol::ReloadPlan& plan, bool dry_run);

// The lines of a `logs` answer ({"name_width", "lines": [{time, name, stream, text}]}) as the
// `prefix` sink writes them: "NAME<pad> | text", with `timestamps` the time first, with `colour`
// the name coloured, with `terminal` the text's control characters escaped (for_terminal).
// Malformed entries are skipped.
std::string render_log_lines(const nlohmann::json& result, bool timestamps, bool colour,
                             bool terminal = false);

// The daemon's pid in a `shutdown` answer ({"pid": N}), "?" when it is missing.
std::string daemon_pid_text(const nlohmann::json& result);

// The `reopen-logs` answer ({"files": N}) as a sentence: "reopened 3 log files".
std::string render_reopened(const nlohmann::json& result);

// Exit code for an error response to `verb` (unknown names: 4 for status, else 1; too many
// clients: unreachable).
int exit_code_for_error(const std::string& verb, const protocol::Response& response);

}  // namespace gardien::ctl
