#include "ctl/verbs.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <iostream>

#include "common/protocol.h"
#include "common/signals.h"

namespace gardien::ctl {

using nlohmann::json;

namespace {

// ---- Arguments ----

void names_optional(CLI::App& sub, Options& o) {
  sub.add_option("NAME", o.names, "Only these (default: all)");
}

void names_required(CLI::App& sub, Options& o) {
  sub.add_option("NAME", o.names, "Programs, instances, globs or all")->required();
}

void timeout(CLI::App& sub, Options& o, const std::string& help) {
  sub.add_option("--timeout", o.timeout, help)->type_name("DURATION");
}

void no_arguments(CLI::App&, Options&) {}

void status_arguments(CLI::App& sub, Options& o) {
  names_optional(sub, o);
  sub.add_flag("--processes", o.processes,
               "Also count each instance's processes (PROCS; reads /proc, so only when asked)");
}

void action_options(CLI::App& sub, Options& o, const std::string& timeout_help) {
  names_required(sub, o);
  sub.add_flag("--no-wait", o.no_wait, "Return once the action is under way");
  timeout(sub, o, timeout_help);
}

void action_arguments(CLI::App& sub, Options& o) {
  action_options(sub, o, "Give up waiting after this long (e.g. 30s); the action goes on");
}

// start and restart wait for ready, which a dependency that never comes could make forever.
void start_arguments(CLI::App& sub, Options& o) {
  action_options(sub, o,
                 "Give up waiting after this long (default " +
                     format_duration(kDefaultStartTimeout) +
                     "; 0: as long as it takes); the action goes on");
}

void signal_arguments(CLI::App& sub, Options& o) {
  sub.add_option("SIG", o.signal, "Signal name (HUP, SIGUSR1) or number")->required();
  names_required(sub, o);
}

void wait_arguments(CLI::App& sub, Options& o) {
  names_required(sub, o);
  std::vector<std::string> goals = wait_goals();
  std::string help = "The state to wait for: ";
  for (std::size_t i = 0; i < goals.size(); ++i) {
    if (i > 0) help += i + 1 == goals.size() ? " or " : ", ";
    help += goals[i];
  }
  help += " (running, and its readiness passed)";
  // The list is in the help line already: no "{a,b,...}" from the validator.
  sub.add_option("--for", o.state, help)
      ->required()
      ->type_name("STATE")
      ->check(CLI::IsMember(goals).description(""));
  timeout(sub, o, "Give up after this long (e.g. 30s)");
}

void reload_arguments(CLI::App& sub, Options& o) {
  sub.add_option("NAME", o.names,
                 "Programs, instances, globs or all: send each its reload-signal instead (default: "
                 "re-read the config)");
  sub.add_flag("--dry-run", o.dry_run, "Print the plan without acting (without NAME)");
  sub.add_flag("--no-wait", o.no_wait,
               "With NAME: return once signalled, without waiting for READY=1");
  timeout(sub, o,
          "With NAME: give up waiting for READY=1 after this long (default " +
              format_duration(kDefaultReloadTimeout) +
              "; 0: as long as it takes); the reload goes on");
}

void shutdown_arguments(CLI::App& sub, Options& o) {
  sub.add_flag("--no-wait", o.no_wait, "Return once the shutdown has begun");
  timeout(sub, o, "Give up waiting for the daemon to exit after this long");
}

void logs_arguments(CLI::App& sub, Options& o) {
  names_optional(sub, o);
  sub.add_flag("-f,--follow", o.follow, "Keep printing new lines");
  // The help lines say the allowed values: no validator internals ("INT:NONNEGATIVE") beside them.
  sub.add_option("-n,--lines", o.lines, "How many recent lines (default 10)")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos)
              return {};
            return "not a number of lines: " + value + " (0 or more)";
          },
          ""));
  sub.add_option("--stream", o.stream, "Only this stream: stdout or stderr")
      ->type_name("STREAM")
      ->check(CLI::IsMember({"stdout", "stderr"}).description(""));
  sub.add_flag("-t,--timestamps", o.timestamps, "Print each line's time (RFC 3339) first");
}

void run_arguments(CLI::App& sub, Options& o) {
  sub.add_option("TASK", o.task, "The task to run")->required();
  sub.add_option("ARGS", o.run_args, "Appended to the task's command; write them after --");
  sub.add_flag("--wait", o.wait,
               "Follow the run until it ends and exit with its exit code (124: it timed out)");
  timeout(sub, o, "With --wait: give up waiting after this long (exit 1); the run goes on");
}

void task_optional(CLI::App& sub, Options& o) {
  sub.add_option("TASK", o.task, "Only this task (default: all)");
}

// `jobs` lists this many queued runs, the next to start; --all lists every one.
constexpr int kQueuedListed = 100;

void jobs_arguments(CLI::App& sub, Options& o) {
  task_optional(sub, o);
  sub.add_flag("--all", o.all,
               "List every queued run (default: the next " + std::to_string(kQueuedListed) +
                   " to start, and how many more wait)");
}

void cancel_arguments(CLI::App& sub, Options& o) {
  sub.add_option("ID|TASK", o.task,
                 "A run (migrate#12), or a task: all its queued and running runs")
      ->required();
}

void schedules_arguments(CLI::App& sub, Options& o) {
  task_optional(sub, o);
  sub.add_option("-n,--count", o.count, "How many fires of each task (1 to 100, default 5)")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            bool digits = !value.empty() && value.size() <= 3 &&
                          value.find_first_not_of("0123456789") == std::string::npos;
            if (digits && std::stoi(value) >= 1 && std::stoi(value) <= 100) return {};
            return "not a number of fires: " + value + " (1 to 100)";
          },
          ""));
}

// ---- Requests ----

using RequestError = std::optional<std::string>;

void add_names(const Options& o, Invocation& inv) {
  if (!o.names.empty()) inv.args["names"] = o.names;
}

void add_timeout(Invocation& inv) {
  if (inv.timeout) inv.args["timeout_ms"] = inv.timeout->count();
}

RequestError no_request_args(const Options&, Invocation&) {
  return std::nullopt;
}

RequestError status_request(const Options& o, Invocation& inv) {
  add_names(o, inv);
  // Counting walks /proc: only when asked, and for --json (scripts read the field).
  if (inv.json || o.processes) inv.args["processes"] = true;
  return std::nullopt;
}

RequestError action_request(const Options& o, Invocation& inv) {
  add_names(o, inv);
  if (o.no_wait) inv.args["wait"] = false;
  add_timeout(inv);
  return std::nullopt;
}

RequestError signal_request(const Options& o, Invocation& inv) {
  if (!parse_signal(o.signal))
    return "unknown signal: " + o.signal + " (a name like HUP, SIGTERM or a number)";
  inv.args["signal"] = o.signal;
  add_names(o, inv);
  return std::nullopt;
}

RequestError pid_request(const Options& o, Invocation& inv) {
  // The pids of named instances come from their status: one request for any number of names.
  if (!o.names.empty()) {
    inv.verb = "status";
    inv.pids_only = true;
    add_names(o, inv);
  }
  return std::nullopt;
}

RequestError wait_request(const Options& o, Invocation& inv) {
  add_names(o, inv);
  inv.args["for"] = o.state;
  add_timeout(inv);
  return std::nullopt;
}

// Without NAME the config reload, as it always was; with NAMEs the programs' own reload.
RequestError reload_request(const Options& o, Invocation& inv) {
  if (o.names.empty()) {
    if (o.no_wait || !o.timeout.empty())
      return std::string(o.no_wait ? "--no-wait" : "--timeout") +
             " is for reload NAME... (a config reload answers at once)";
    if (o.dry_run) inv.args["dry_run"] = true;
    return std::nullopt;
  }
  if (o.dry_run)
    return std::string(
        "--dry-run is for the config reload, without NAME (reload NAME... signals "
        "programs)");
  return action_request(o, inv);
}

RequestError shutdown_request(const Options& o, Invocation& inv) {
  inv.wait_for_exit = !o.no_wait;
  return std::nullopt;
}

RequestError logs_request(const Options& o, Invocation& inv) {
  add_names(o, inv);
  if (o.follow) inv.args["follow"] = true;
  if (o.lines >= 0) inv.args["lines"] = o.lines;
  if (!o.stream.empty()) inv.args["stream"] = o.stream;
  inv.timestamps = o.timestamps;
  return std::nullopt;
}

RequestError run_request(const Options& o, Invocation& inv) {
  if (inv.timeout && !o.wait)
    return std::string("--timeout is for --wait (without it, run answers at once)");
  inv.args["task"] = o.task;
  if (!o.run_args.empty()) inv.args["args"] = o.run_args;
  if (o.wait) inv.args["wait"] = true;
  add_timeout(inv);
  return std::nullopt;
}

RequestError task_request(const Options& o, Invocation& inv) {
  if (!o.task.empty()) inv.args["task"] = o.task;
  return std::nullopt;
}

RequestError jobs_request(const Options& o, Invocation& inv) {
  task_request(o, inv);
  if (!o.all) inv.args["queued_limit"] = kQueuedListed;
  return std::nullopt;
}

RequestError cancel_request(const Options& o, Invocation& inv) {
  inv.args["target"] = o.task;
  return std::nullopt;
}

RequestError schedules_request(const Options& o, Invocation& inv) {
  task_request(o, inv);
  if (o.count > 0) inv.args["count"] = o.count;
  return std::nullopt;
}

// ---- Answers ----

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const json* instances_of(const json& result) {
  if (!result.is_object()) return nullptr;
  auto it = result.find("instances");
  return it != result.end() && it->is_array() ? &*it : nullptr;
}

int render_status(const json& result, Printer& p) {
  const json* list = instances_of(result);
  if (!list) return p.malformed("no \"instances\" list");
  std::vector<protocol::InstanceStatus> instances;
  std::string error;
  for (const json& item : *list) {
    auto s = protocol::instance_status_from_json(item, error);
    if (!s) return p.malformed(error);
    instances.push_back(std::move(*s));
  }
  p.out << for_terminal(render_status_table(instances, now_ms()), p.out_terminal);
  return status_exit_code(instances);
}

// start, stop, restart, wait, signal: a line per instance not printed while streaming.
int render_instance_results(const json& result, Printer& p) {
  if (const json* list = instances_of(result)) {
    for (const json& item : *list) p.instance_result(item);
  }
  return kExitOk;
}

void progress_instance_result(const json& result, Printer& p) {
  p.instance_result(result);
}

// `pid`: the daemon's {"pid"}, or one pid per line of {"instances": [{name, pid}...]} (the
// answer of `status` for `pid NAME...`); an instance without a process makes the exit code 1.
int render_pid(const json& result, Printer& p) {
  if (result.is_object() && result.contains("pid")) {
    p.out << result.at("pid").dump() << '\n';
    return kExitOk;
  }
  const json* list = instances_of(result);
  if (!list) return p.malformed("no \"instances\" list");
  int code = kExitOk;
  for (const json& item : *list) {
    if (!item.is_object()) return p.malformed("an instance is not an object");
    auto pid = item.find("pid");
    if (pid == item.end() || !pid->is_number_integer()) {
      p.err << "gardienctl: " << item.value("name", std::string("?")) << " is not running\n";
      code = kExitFailed;
    } else {
      p.out << pid->get<long long>() << '\n';
    }
  }
  return code;
}

int render_reload_answer(const json& result, Printer& p) {
  if (instances_of(result)) return render_instance_results(result, p);  // reload NAME...
  std::string error;
  auto plan = result.is_object() && result.contains("plan")
                  ? protocol::reload_plan_from_json(result.at("plan"), error)
                  : std::nullopt;
  if (!plan) return p.malformed(error.empty() ? "no \"plan\"" : error);
  if (result.contains("warnings") && result.at("warnings").is_array()) {
    for (const json& w : result.at("warnings")) {
      if (w.is_string()) p.err << for_terminal(w.get<std::string>(), p.err_terminal) << '\n';
    }
  }
  p.out << for_terminal(render_reload(*plan, result.value("dry_run", false)), p.out_terminal);
  return kExitOk;
}

int render_version(const json& result, Printer& p) {
  if (!result.is_object()) return p.malformed("not an object");
  p.out << "gardienctl " << GARDIEN_VERSION << '\n';
  p.out << "gardien " << result.value("daemon", std::string("?")) << " (protocol "
        << result.value("protocol", 0) << ")\n";
  return kExitOk;
}

int render_shutdown(const json& result, Printer& p) {
  p.out << "gardien (pid " << daemon_pid_text(result) << ") is shutting down\n" << std::flush;
  return kExitOk;
}

int render_logs(const json& result, Printer& p) {
  p.out << render_log_lines(result, p.invocation.timestamps, p.out_terminal, p.out_terminal)
        << std::flush;
  return kExitOk;
}

void progress_logs(const json& result, Printer& p) {
  render_logs(result, p);
}

int render_reopen_logs(const json& result, Printer& p) {
  p.out << render_reopened(result) << '\n';
  return kExitOk;
}

// The records of `key` in `result` (one object, or an array of them), or the reader's error.
std::optional<std::vector<protocol::JobRecord>> records_of(const json& result, const char* key,
                                                           std::string& error) {
  auto it = result.is_object() ? result.find(key) : result.end();
  if (it == result.end()) {
    error = std::string("no \"") + key + "\"";
    return std::nullopt;
  }
  std::vector<protocol::JobRecord> records;
  for (const json& item : it->is_array() ? *it : json::array({*it})) {
    auto r = protocol::job_record_from_json(item, error);
    if (!r) return std::nullopt;
    records.push_back(std::move(*r));
  }
  return records;
}

// `run`: the id at once ("migrate#12 queued"); with --wait, how it ended, and its exit code.
int render_run(const json& result, Printer& p) {
  std::string error;
  auto records = records_of(result, "job", error);
  if (!records || records->size() != 1)
    return p.malformed(records ? "\"job\" is not one record" : error);
  const protocol::JobRecord& r = records->front();
  bool waited = p.invocation.args.value("wait", false);
  p.out << for_terminal(render_job_line(r), p.out_terminal) << '\n' << std::flush;
  if (!waited) return kExitOk;
  if (r.state != protocol::JobState::finished) return p.malformed(r.id + " has not finished");
  return protocol::exit_code_of(r);
}

void progress_run(const json& result, Printer& p) {
  std::string error;
  if (auto records = records_of(result, "job", error); records && records->size() == 1)
    p.out << for_terminal(render_job_line(records->front()), p.out_terminal) << '\n' << std::flush;
}

int render_jobs(const json& result, Printer& p) {
  std::string error;
  auto records = records_of(result, "jobs", error);
  if (!records) return p.malformed(error);
  p.out << for_terminal(render_jobs_table(*records, now_ms()), p.out_terminal);
  const json& unlisted = result.contains("unlisted_queued") ? result["unlisted_queued"] : json();
  if (unlisted.is_number_unsigned() && unlisted.get<std::uint64_t>() > 0)
    p.out << "... and " << unlisted.get<std::uint64_t>()
          << " more queued runs (gardienctl jobs --all lists every one)\n";
  return kExitOk;
}

int render_cancel(const json& result, Printer& p) {
  std::string error;
  auto records = records_of(result, "jobs", error);
  if (!records) return p.malformed(error);
  for (const protocol::JobRecord& r : *records) {
    // A running run answers before its stop sequence has ended.
    std::string line =
        r.state == protocol::JobState::finished ? render_job_line(r) : r.id + " stopping";
    p.out << for_terminal(line, p.out_terminal) << '\n';
  }
  return kExitOk;
}

int render_schedules(const json& result, Printer& p) {
  auto it = result.is_object() ? result.find("schedules") : result.end();
  if (it == result.end() || !it->is_array()) return p.malformed("no \"schedules\" list");
  std::vector<protocol::TaskSchedule> schedules;
  std::string error;
  for (const json& item : *it) {
    auto s = protocol::task_schedule_from_json(item, error);
    if (!s) return p.malformed(error);
    schedules.push_back(std::move(*s));
  }
  p.out << for_terminal(render_schedules_table(schedules, now_ms()), p.out_terminal);
  return kExitOk;
}

constexpr std::string_view kInterrupted = "interrupted";

constexpr std::array kVerbs = {
    VerbSpec{.name = "status",
             .help = "Show NAME STATE PID UPTIME RESTARTS INFO of instances",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = status_arguments,
             .request = status_request,
             .render = render_status},
    VerbSpec{.name = "start",
             .help = "Start instances; wait until they are ready",
             .wait = Wait::states,
             .on_interrupt = "interrupted; the start goes on in the daemon (gardienctl status "
                             "shows where it is)",
             .arguments = start_arguments,
             .request = action_request,
             .render = render_instance_results,
             .progress = progress_instance_result,
             .default_timeout = kDefaultStartTimeout,
             .on_timeout = "the start goes on in the daemon (gardienctl status shows where it is)"},
    VerbSpec{.name = "stop",
             .help = "Stop instances; wait until they are stopped",
             .wait = Wait::states,
             .on_interrupt = "interrupted; the stop goes on in the daemon (gardienctl status "
                             "shows where it is)",
             .arguments = action_arguments,
             .request = action_request,
             .render = render_instance_results,
             .progress = progress_instance_result,
             .on_timeout = "the stop goes on in the daemon (gardienctl status shows where it is)"},
    VerbSpec{.name = "restart",
             .help = "Stop then start instances; wait until they are ready again",
             .wait = Wait::states,
             .on_interrupt = "interrupted; the restart goes on in the daemon (gardienctl status "
                             "shows where it is)",
             .arguments = start_arguments,
             .request = action_request,
             .render = render_instance_results,
             .progress = progress_instance_result,
             .default_timeout = kDefaultStartTimeout,
             .on_timeout = "the restart goes on in the daemon (gardienctl status shows where it "
                           "is)"},
    VerbSpec{.name = "signal",
             .help = "Send a signal to instances",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = signal_arguments,
             .request = signal_request,
             .render = render_instance_results},
    VerbSpec{.name = "pid",
             .help = "Print the daemon's pid, or the pids of NAME's instances",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = names_optional,
             .request = pid_request,
             .render = render_pid},
    VerbSpec{.name = "wait",
             .help = "Wait until instances are in a state, or ready",
             .wait = Wait::states,
             .on_interrupt = kInterrupted,
             .arguments = wait_arguments,
             .request = wait_request,
             .render = render_instance_results,
             .progress = progress_instance_result},
    VerbSpec{.name = "reload",
             .help = "Re-read the config and apply only the difference; with NAMEs, send them "
                     "their reload-signal and wait until reloaded",
             .wait = Wait::states_when_named,
             .on_interrupt = "interrupted; a reload goes on in the daemon or the program "
                             "(gardienctl status shows where it is)",
             .arguments = reload_arguments,
             .request = reload_request,
             .render = render_reload_answer,
             .progress = progress_instance_result,
             .default_timeout = kDefaultReloadTimeout,
             .on_timeout = "the program may still be reloading (gardienctl status says "
                           "\"running (reloading)\" until its READY=1)"},
    VerbSpec{.name = "shutdown",
             .help = "Stop every program, then the daemon; wait until it is gone",
             .wait = Wait::daemon_exit,
             .on_interrupt = "interrupted; the daemon goes on shutting down",
             .arguments = shutdown_arguments,
             .request = shutdown_request,
             .render = render_shutdown},
    VerbSpec{.name = "version",
             .help = "Print the versions of gardienctl, the daemon and the protocol",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = no_arguments,
             .request = no_request_args,
             .render = render_version},
    VerbSpec{.name = "run",
             .help = "Queue a run of a task and print its id; with --wait, follow it and exit "
                     "with its exit code",
             .wait = Wait::run_end,
             .on_interrupt = "interrupted; the run goes on in the daemon (gardienctl cancel "
                             "stops it)",
             .arguments = run_arguments,
             .request = run_request,
             .render = render_run,
             .progress = progress_run,
             .on_timeout = "the run goes on in the daemon (gardienctl jobs shows where it is)"},
    VerbSpec{.name = "jobs",
             .help = "List the queued, running and finished runs of tasks",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = jobs_arguments,
             .request = jobs_request,
             .render = render_jobs},
    VerbSpec{.name = "cancel",
             .help = "Remove queued runs and stop running ones, of one run or a whole task",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = cancel_arguments,
             .request = cancel_request,
             .render = render_cancel},
    VerbSpec{.name = "schedules",
             .help = "List the next fires of scheduled tasks",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = schedules_arguments,
             .request = schedules_request,
             .render = render_schedules},
    VerbSpec{.name = "logs",
             .help = "Print recent output of instances",
             .wait = Wait::new_lines,
             .on_interrupt = "",  // Ctrl-C is how `logs -f` ends: nothing to say
             .arguments = logs_arguments,
             .request = logs_request,
             .render = render_logs,
             .progress = progress_logs},
    VerbSpec{.name = "reopen-logs",
             .help = "Reopen log files (after an external rotation)",
             .wait = Wait::nothing,
             .on_interrupt = kInterrupted,
             .arguments = no_arguments,
             .request = no_request_args,
             .render = render_reopen_logs},
};

}  // namespace

Printer::Printer(const Invocation& inv, std::ostream& human_out, std::ostream& human_err)
    : invocation(inv),
      out(inv.json ? discard_ : human_out),
      err(inv.json ? discard_ : human_err),
      real_err_(human_err) {
  if (!inv.json) {
    out_terminal = &human_out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
    err_terminal = &human_err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  }
  context_.verb = inv.verb;
  if (auto signo = parse_signal(inv.args.value("signal", std::string())))
    context_.signal_name = signal_name(*signo);
  context_.goal = inv.args.value("for", std::string());
}

void Printer::instance_result(const json& item) {
  std::string error;
  auto result = protocol::instance_result_from_json(item, error);
  if (!result) return;
  if (!printed_.insert(result->name).second) return;
  out << for_terminal(render_instance_result(*result, context_), out_terminal) << '\n'
      << std::flush;
}

int Printer::malformed(const std::string& error) {
  real_err_ << "gardienctl: the daemon's answer is malformed: " << error << '\n';
  return kExitFailed;
}

std::span<const VerbSpec> verb_table() {
  return kVerbs;
}

const VerbSpec* find_verb(std::string_view name) {
  for (const VerbSpec& v : kVerbs) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

std::vector<std::string_view> verb_names() {
  std::vector<std::string_view> names;
  for (const VerbSpec& v : kVerbs) names.push_back(v.name);
  return names;
}

std::vector<std::string> state_names() {
  std::vector<std::string> names;
  for (const auto& [state, name] : protocol::kInstanceStates) names.emplace_back(name);
  return names;
}

std::vector<std::string> wait_goals() {
  std::vector<std::string> goals = state_names();
  goals.emplace_back(protocol::kReadyGoal);
  return goals;
}

}  // namespace gardien::ctl
