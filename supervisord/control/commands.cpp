#include "supervisord/control/commands.h"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <unordered_map>

#include "common/signals.h"
#include "supervisord/control/arg_reader.h"
#include "supervisord/control/instance_selector.h"
#include "supervisord/control/job_commands.h"

namespace gardien {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;
using protocol::InstanceResult;
using protocol::InstanceState;
using protocol::InstanceStatus;
using protocol::kReadyGoal;

namespace {

json instances_json(const std::vector<InstanceResult>& results) {
  json list = json::array();
  for (const InstanceResult& r : results) list.push_back(protocol::to_json(r));
  return list;
}

// `reason_after_name`: the info reads after the name ("web is stopped: nothing to reload").
std::string describe(const InstanceResult& r, bool reason_after_name) {
  if (reason_after_name && !r.info.empty()) return r.name + " " + r.info;
  std::string text = r.name;
  text += " (";
  text += protocol::state_name(r.state);
  if (!r.info.empty()) {
    text += ": ";
    text += r.info;
  }
  text += ")";
  return text;
}

// "N of M instances VERB: a (state: info), b (...)"; at most 8 named.
std::string summarize_failures(const std::vector<InstanceResult>& results, const char* what,
                               bool reason_after_name) {
  std::vector<const InstanceResult*> failed;
  for (const InstanceResult& r : results) {
    if (!r.ok) failed.push_back(&r);
  }
  std::string message = std::to_string(failed.size());
  message += " of ";
  message += std::to_string(results.size());
  message += results.size() == 1 ? " instance " : " instances ";
  message += what;
  message += ": ";
  for (std::size_t i = 0; i < failed.size() && i < 8; ++i) {
    if (i > 0) message += ", ";
    message += describe(*failed[i], reason_after_name);
  }
  if (failed.size() > 8) message += ", ...";
  return message;
}

const char* failure_verb(WaitGoal goal) {
  switch (goal) {
    case WaitGoal::start:
      return "did not start";
    case WaitGoal::restart:
      return "did not restart";
    case WaitGoal::stop:
      return "did not stop";
    case WaitGoal::reload:
      return "did not reload";
    case WaitGoal::reach:
    case WaitGoal::ready:
      return "did not get there";
  }
  return "failed";
}

void answer_results(Responder& responder, const std::vector<InstanceResult>& results,
                    const char* what, bool reason_after_name = false) {
  bool all_ok =
      std::all_of(results.begin(), results.end(), [](const InstanceResult& r) { return r.ok; });
  if (all_ok) return responder.reply({{"instances", instances_json(results)}});
  responder.fail(Error{ErrorCode::failed,
                       summarize_failures(results, what, reason_after_name),
                       {{"instances", instances_json(results)}}});
}

InstanceResult result_of(const InstanceStatus& s, bool ok, std::string info) {
  return InstanceResult{s.name, s.state, s.pid, ok, info.empty() ? s.info : std::move(info)};
}

// Why a reload ended without its READY=1, to read after the name: "exited during its reload:
// exit code 1".
std::string reload_interrupted(const InstanceStatus& s) {
  std::string why;
  switch (s.state) {
    case InstanceState::starting:
      why = "restarted during its reload";
      break;
    case InstanceState::stopping:
      why = "began to stop during its reload";
      break;
    case InstanceState::stopped:
      why = "was stopped during its reload";
      break;
    case InstanceState::backoff:
    case InstanceState::exited:
    case InstanceState::fatal:
    case InstanceState::running:
      why = "exited during its reload";
      break;
  }
  if (!s.info.empty()) why += ": " + s.info;
  return why;
}

// Follows instances through published state changes until each got where `goal` says, streams
// one line per instance as it gets there, then gives the final answer (or a timeout).
class WaitOperation final : public PendingCall {
 public:
  WaitOperation(EventLoop& loop, Responder& responder, WaitGoal goal, InstanceState target)
      : responder_(responder),
        reason_after_name_(goal == WaitGoal::reload),
        goal_(goal),
        target_(target),
        timer_(loop, [this] { on_timeout(); }) {}

  // Before the action, so no transition it causes is missed.
  void watch(StateChangeHub& hub, const std::vector<std::string>& names,
             std::optional<Duration> timeout) {
    for (const std::string& name : names) {
      index_.emplace(name, tracked_.size());
      tracked_.push_back(Tracked{name, StateWait(goal_, target_), false, {}, {}, {}});
    }
    subscription_ = hub.subscribe([this](const StateChange& change) { on_change(change); });
    timeout_ = timeout;
    if (timeout) timer_.arm(*timeout);
  }

  // An instance the action itself settled, with nothing to wait for (a reload without a
  // readiness protocol): its result is the action's. Before settle().
  void settled_by_action(const InstanceResult& result) {
    auto it = index_.find(result.name);
    if (it != index_.end() && !tracked_[it->second].done) conclude(tracked_[it->second], result);
  }

  // After the action: its per-instance results (null for `wait`) and the states right after it.
  void settle(const std::vector<InstanceResult>* action_results,
              const std::vector<InstanceStatus>& now) {
    if (finished_) return;
    std::unordered_map<std::string, std::string> notes;
    if (action_results) {
      for (const InstanceResult& r : *action_results) {
        auto it = index_.find(r.name);
        if (it == index_.end() || tracked_[it->second].done) continue;
        if (!r.ok) {
          conclude(tracked_[it->second], r);
        } else if (!r.info.empty()) {
          notes[r.name] = r.info;
          tracked_[it->second].note = r.info;
        }
      }
    }
    for (const InstanceStatus& s : now) {
      auto it = index_.find(s.name);
      if (it == index_.end() || tracked_[it->second].done) continue;
      Tracked& t = tracked_[it->second];
      t.last = s;
      WaitVerdict verdict = t.wait.observe(s, false);
      if (verdict != WaitVerdict::pending)
        conclude(t, result_of(s, verdict == WaitVerdict::reached, notes[s.name]));
    }
    // An instance that vanished between the selection and now cannot get anywhere.
    for (Tracked& t : tracked_) {
      if (!t.done && t.last.name.empty()) {
        InstanceResult gone{t.name, InstanceState::stopped, std::nullopt, false,
                            "no longer exists"};
        conclude(t, gone);
      }
    }
    finish_if_done();
  }

  bool finished() const { return finished_; }

 private:
  struct Tracked {
    std::string name;
    StateWait wait;
    bool done = false;
    InstanceStatus last;
    InstanceResult result;
    std::string note;  // what the action said of it ("SIGHUP sent")
  };

  void on_change(const StateChange& change) {
    if (finished_ || change.job) return;
    auto it = index_.find(change.status.name);
    if (it == index_.end()) return;
    Tracked& t = tracked_[it->second];
    if (t.done) return;
    t.last = change.status;
    if (change.removed) {
      conclude(t, result_of(change.status, false, "removed by a reload"));
    } else {
      WaitVerdict verdict = change.notice == StateChange::Notice::ready
                                ? t.wait.observe_ready_notice(change.status)
                                : t.wait.observe(change.status, true);
      if (verdict == WaitVerdict::pending) return;
      bool reached = verdict == WaitVerdict::reached;
      conclude(t, result_of(change.status, reached, outcome_note(t, change.status, reached)));
    }
    finish_if_done();
  }

  // What a result says beside the status's info: only a reload has its own words.
  std::string outcome_note(const Tracked& t, const InstanceStatus& s, bool reached) const {
    if (goal_ != WaitGoal::reload) return {};
    if (!reached) return reload_interrupted(s);
    return t.note.empty() ? "reloaded" : "reloaded (" + t.note + ", then READY=1)";
  }

  void conclude(Tracked& t, InstanceResult result) {
    t.done = true;
    t.result = std::move(result);
    responder_.progress(protocol::to_json(t.result));
  }

  void finish_if_done() {
    if (finished_) return;
    if (!std::all_of(tracked_.begin(), tracked_.end(), [](const Tracked& t) { return t.done; }))
      return;
    finish();
    answer_results(responder_, results(), failure_verb(goal_), reason_after_name_);
  }

  void on_timeout() {
    if (finished_) return;
    finish();
    std::string message = "timed out after ";
    message += format_duration(*timeout_);
    message += " waiting for ";
    std::size_t named = 0;
    for (Tracked& t : tracked_) {
      if (t.done) continue;
      if (named == 8) {
        message += ", ...";
        break;
      }
      if (named++ > 0) message += ", ";
      message += t.name;
      if (!t.last.name.empty()) {
        message += " (";
        message += protocol::state_name(t.last.state);
        message += ")";
      }
      InstanceStatus last = t.last;
      if (last.name.empty()) last.name = t.name;
      // What it is still at ("waiting for db", "retry in 2s") says why it is late.
      std::string still = goal_ == WaitGoal::reload ? reload_pending(t) : last.info;
      t.result = result_of(last, false, still.empty() ? "timed out" : "timed out: " + still);
    }
    responder_.fail(
        Error{ErrorCode::timeout, std::move(message), {{"instances", instances_json(results())}}});
  }

  // "SIGHUP sent, RELOADING=1, no READY=1 since": how far a late reload got.
  static std::string reload_pending(const Tracked& t) {
    std::string text = t.note.empty() ? "signalled" : t.note;
    if (t.last.reloading) text += ", RELOADING=1";
    return text + ", no READY=1 since";
  }

  // Stops listening before answering: nothing reaches a finished operation.
  void finish() {
    finished_ = true;
    subscription_.reset();
    timer_.cancel();
  }

  std::vector<InstanceResult> results() const {
    std::vector<InstanceResult> out;
    for (const Tracked& t : tracked_) out.push_back(t.result);
    return out;
  }

  Responder& responder_;
  bool reason_after_name_;
  WaitGoal goal_;
  InstanceState target_;
  std::vector<Tracked> tracked_;
  std::unordered_map<std::string, std::size_t> index_;
  StateChangeHub::Subscription subscription_;
  std::optional<Duration> timeout_;
  Timer timer_;
  bool finished_ = false;
};

// The built-in verbs' handlers (named in the table of Commands::Commands).
namespace handlers {

using Action =
    std::vector<protocol::InstanceResult> (ControlTarget::*)(const std::vector<std::string>&);

void status(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"names", "processes"});
  std::vector<std::string> names = args.names(false);
  bool processes = args.boolean("processes", false);
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  std::vector<InstanceStatus> all = target->instances();
  if (!names.empty()) {
    auto selected = select_instances(all, names);
    if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
    const auto& wanted = std::get<std::vector<std::string>>(selected);
    std::size_t next = 0;  // both lists are in display order
    std::erase_if(all, [&](const InstanceStatus& s) {
      if (next < wanted.size() && wanted[next] == s.name) {
        ++next;
        return false;
      }
      return true;
    });
  }
  if (processes) target->count_processes(all);
  json list = json::array();
  for (const InstanceStatus& s : all) list.push_back(protocol::to_json(s));
  responder.reply({{"instances", std::move(list)}});
}

void act(Commands& commands, const protocol::Request& request, Responder& responder, Action action,
         WaitGoal goal) {
  ArgReader args(request, {"names", "wait", "timeout_ms"});
  std::vector<std::string> names = args.names(true);
  bool wait = args.boolean("wait", true);
  std::optional<Duration> timeout = args.timeout();
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder, goal != WaitGoal::stop);
  if (!target) return;
  auto selected = select_program_instances(target->instances(), names);
  if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
  const auto& instance_names = std::get<std::vector<std::string>>(selected);

  if (!wait)
    return answer_results(responder, (target->*action)(instance_names), failure_verb(goal));
  auto operation =
      std::make_unique<WaitOperation>(commands.loop(), responder, goal, InstanceState::running);
  operation->watch(target->state_changes(), instance_names, timeout);
  std::vector<InstanceResult> results = (target->*action)(instance_names);
  operation->settle(&results, target->instances());
  if (!operation->finished()) responder.keep(std::move(operation));
}

void start(Commands& commands, const protocol::Request& request, Responder& responder) {
  act(commands, request, responder, &ControlTarget::start, WaitGoal::start);
}

void stop(Commands& commands, const protocol::Request& request, Responder& responder) {
  act(commands, request, responder, &ControlTarget::stop, WaitGoal::stop);
}

void restart(Commands& commands, const protocol::Request& request, Responder& responder) {
  act(commands, request, responder, &ControlTarget::restart, WaitGoal::restart);
}

void signal(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"signal", "names"});
  std::optional<int> signo = args.signal();
  std::vector<std::string> names = args.names(true);
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  auto selected = select_program_instances(target->instances(), names);
  if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
  std::string what = "could not be sent ";
  what += signal_name(*signo);
  answer_results(responder, target->signal(*signo, std::get<std::vector<std::string>>(selected)),
                 what.c_str());
}

void pid(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"name"});
  std::optional<std::string> name = args.string("name", false);
  if (!args.ok()) return responder.fail(args.error());
  if (!name) return responder.reply({{"pid", ::getpid()}});
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  std::vector<InstanceStatus> all = target->instances();
  auto selected = select_instances(all, {*name});
  if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
  const auto& wanted = std::get<std::vector<std::string>>(selected);
  json list = json::array();
  for (const InstanceStatus& s : all) {
    if (std::find(wanted.begin(), wanted.end(), s.name) == wanted.end()) continue;
    list.push_back({{"name", s.name}, {"pid", s.pid ? json(*s.pid) : json(nullptr)}});
  }
  responder.reply({{"instances", std::move(list)}});
}

void wait(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"names", "for", "timeout_ms"});
  std::vector<std::string> names = args.names(true);
  std::optional<std::string> state_text = args.string("for", true);
  std::optional<Duration> timeout = args.timeout();
  if (!args.ok()) return responder.fail(args.error());
  bool for_ready = *state_text == kReadyGoal;
  std::optional<InstanceState> state =
      for_ready ? InstanceState::running : protocol::parse_state(*state_text);
  if (!state) {
    std::string message = "argument \"for\" of wait is not a state: ";
    message += protocol::quote(*state_text);
    message += " (states:";
    for (const auto& [known, name] : protocol::kInstanceStates) {
      message += known == protocol::kInstanceStates.front().first ? " " : ", ";
      message += name;
    }
    message += "; or ";
    message += kReadyGoal;
    message += ")";
    return responder.fail(bad_request(std::move(message)));
  }
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  std::vector<InstanceStatus> all = target->instances();
  auto selected = select_program_instances(all, names);
  if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
  auto operation = std::make_unique<WaitOperation>(
      commands.loop(), responder, for_ready ? WaitGoal::ready : WaitGoal::reach, *state);
  operation->watch(target->state_changes(), std::get<std::vector<std::string>>(selected), timeout);
  operation->settle(nullptr, all);
  if (!operation->finished()) responder.keep(std::move(operation));
}

// `reload NAME...`: each instance's reload-signal; a notify instance is done at its next READY=1.
void reload_instances(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"names", "wait", "timeout_ms"});
  std::vector<std::string> names = args.names(true);
  bool wait = args.boolean("wait", true);
  std::optional<Duration> timeout = args.timeout();
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder, true);
  if (!target) return;
  auto selected = select_program_instances(target->instances(), names);
  if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
  const auto& instance_names = std::get<std::vector<std::string>>(selected);

  auto results_of = [](const std::vector<InstanceReload>& reloads) {
    std::vector<InstanceResult> out;
    for (const InstanceReload& r : reloads) out.push_back(r.result);
    return out;
  };
  const char* what = failure_verb(WaitGoal::reload);
  if (!wait)
    return answer_results(responder, results_of(target->reload_instances(instance_names)), what,
                          true);
  auto operation = std::make_unique<WaitOperation>(commands.loop(), responder, WaitGoal::reload,
                                                   InstanceState::running);
  operation->watch(target->state_changes(), instance_names, timeout);
  std::vector<InstanceReload> reloads = target->reload_instances(instance_names);
  for (const InstanceReload& r : reloads) {
    if (r.result.ok && !r.awaits_ready) operation->settled_by_action(r.result);
  }
  std::vector<InstanceResult> results = results_of(reloads);
  operation->settle(&results, target->instances());
  if (!operation->finished()) responder.keep(std::move(operation));
}

// The arguments of one form of `reload` given to the other: said plainly, not as unknown.
std::optional<Error> reload_form_mismatch(const protocol::Request& request) {
  if (!request.args.is_object()) return std::nullopt;
  bool named = request.args.contains("names");
  for (const char* key : {"wait", "timeout_ms", "dry_run"}) {
    bool for_names = std::string_view(key) != "dry_run";
    if (!request.args.contains(key) || for_names == named) continue;
    std::string message = "argument \"";
    message += key;
    message += for_names
                   ? "\" of reload needs \"names\" (without names, reload re-reads the config)"
                   : "\" of reload is for the config reload, without \"names\"";
    return bad_request(std::move(message));
  }
  return std::nullopt;
}

// `reload`: re-reads the config; with "names", reloads those programs instead.
void reload(Commands& commands, const protocol::Request& request, Responder& responder) {
  if (auto mismatch = reload_form_mismatch(request)) return responder.fail(std::move(*mismatch));
  if (request.args.is_object() && request.args.contains("names"))
    return reload_instances(commands, request, responder);
  ArgReader args(request, {"dry_run"});
  bool dry_run = args.boolean("dry_run", false);
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder, true);
  if (!target) return;
  ReloadOutcome outcome = target->reload(dry_run);
  json errors = json::array();
  json warnings = json::array();
  for (const Diagnostic& d : outcome.diagnostics) {
    (d.severity == Diagnostic::Severity::error ? errors : warnings).push_back(d.to_string());
  }
  if (!outcome.plan) {
    std::string message = "the new config has ";
    message += std::to_string(errors.size());
    message += errors.size() == 1 ? " error" : " errors";
    message += "; nothing was changed";
    return responder.fail(Error{ErrorCode::invalid_config,
                                std::move(message),
                                {{"diagnostics", errors}, {"warnings", warnings}}});
  }
  responder.reply(
      {{"dry_run", dry_run}, {"plan", protocol::to_json(*outcome.plan)}, {"warnings", warnings}});
}

void shutdown(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {});
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  target->shutdown();
  responder.reply({{"pid", ::getpid()}});
  responder.linger();
}

void version(Commands&, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {});
  if (!args.ok()) return responder.fail(args.error());
  responder.reply({{"daemon", GARDIEN_VERSION}, {"protocol", protocol::kVersion}});
}

void not_yet(Commands&, const protocol::Request& request, Responder& responder) {
  std::string message = request.cmd;
  message += " is not available in this version of gardien";
  responder.fail(Error{ErrorCode::unavailable, std::move(message), nullptr});
}

}  // namespace handlers

}  // namespace

Commands::Commands(EventLoop& loop, ControlTarget* target) : loop_(loop), target_(target) {
  auto bind = [this](void (*fn)(Commands&, const protocol::Request&, Responder&)) {
    return [this, fn](const protocol::Request& request, Responder& responder) {
      fn(*this, request, responder);
    };
  };
  verbs_ = {
      {"status", true,
       "status [NAME...]: state, pid, uptime, restarts and info of each instance (and with "
       "\"processes\", the size of its process tree)",
       bind(&handlers::status)},
      {"start", false, "start NAME...: start instances and wait until they are ready",
       bind(&handlers::start)},
      {"stop", false, "stop NAME...: stop instances and wait until they are stopped",
       bind(&handlers::stop)},
      {"restart", false, "restart NAME...: stop then start instances and wait until they are ready",
       bind(&handlers::restart)},
      {"signal", false, "signal SIG NAME...: send a signal to instances", bind(&handlers::signal)},
      {"pid", true, "pid [NAME]: the daemon's pid, or the pids of instances", bind(&handlers::pid)},
      {"wait", true, "wait NAME... --for STATE|ready: wait until instances are in STATE, or ready",
       bind(&handlers::wait)},
      {"reload", false,
       "reload [--dry-run]: re-read the config and apply the difference; reload NAME...: send "
       "instances their reload-signal and wait for the READY=1 of those that speak notify",
       bind(&handlers::reload)},
      {"shutdown", false, "shutdown: stop every program and exit", bind(&handlers::shutdown)},
      {"version", true, "version: the daemon's and the protocol's versions",
       bind(&handlers::version)},
      {"run", false,
       "run TASK [ARGS...]: queue a run of a task; with \"wait\", follow it until it ends",
       bind(&job_verbs::run)},
      {"jobs", true, "jobs [TASK]: the queued, running and finished runs of tasks",
       bind(&job_verbs::jobs)},
      {"cancel", false, "cancel ID|TASK: remove queued runs, stop running ones",
       bind(&job_verbs::cancel)},
      {"schedules", true, "schedules [TASK]: the next fires of scheduled tasks",
       bind(&job_verbs::schedules)},
      {"logs", true, "logs NAME...: recent output of instances", bind(&handlers::not_yet)},
      {"reopen-logs", false, "reopen-logs: reopen the log files (after an external rotation)",
       bind(&handlers::not_yet)},
  };
}

void Commands::add(Verb verb) {
  for (Verb& v : verbs_) {
    if (v.name == verb.name) {
      v = std::move(verb);
      return;
    }
  }
  verbs_.push_back(std::move(verb));
}

const Verb* Commands::find(std::string_view name) const noexcept {
  for (const Verb& v : verbs_) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

void Commands::dispatch(const protocol::Request& request, Access access,
                        Responder& responder) noexcept {
  try {
    const Verb* verb = find(request.cmd);
    if (!verb) {
      std::vector<std::string> names;
      for (const Verb& v : verbs_) names.push_back(v.name);
      std::sort(names.begin(), names.end());
      std::string message = "unknown command ";
      message += protocol::quote(request.cmd);
      message += "; commands: ";
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) message += ", ";
        message += names[i];
      }
      return responder.fail(
          Error{ErrorCode::unknown_command, std::move(message), {{"commands", names}}});
    }
    if (access == Access::none || (!verb->read_only && access != Access::control)) {
      std::string message = "permission denied: ";
      message += verb->name;
      message += " needs control access; this connection may only use ";
      bool first = true;
      for (const Verb& v : verbs_) {
        if (!v.read_only) continue;
        if (!first) message += ", ";
        message += v.name;
        first = false;
      }
      return responder.fail(Error{ErrorCode::permission_denied, std::move(message), nullptr});
    }
    verb->handler(request, responder);
  } catch (const std::exception& e) {
    if (!responder.answered()) {
      std::string message = request.cmd;
      message += " failed unexpectedly: ";
      message += e.what();
      responder.fail(Error{ErrorCode::internal, std::move(message), nullptr});
    }
  } catch (...) {
    if (!responder.answered())
      responder.fail(Error{ErrorCode::internal, request.cmd + " failed unexpectedly", nullptr});
  }
}

ControlTarget* Commands::target_for(Responder& responder, bool refuse_when_shutting_down) {
  if (!target_) {
    responder.fail(
        Error{ErrorCode::unavailable, "no supervisor is attached to this control socket", nullptr});
    return nullptr;
  }
  if (refuse_when_shutting_down && target_->shutting_down()) {
    responder.fail(Error{ErrorCode::shutting_down,
                         "the daemon is shutting down and accepts no new work", nullptr});
    return nullptr;
  }
  return target_;
}

}  // namespace gardien
