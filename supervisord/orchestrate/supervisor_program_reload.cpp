// `gardienctl reload NAME`: each running instance's main process gets its reload-signal; the
// RELOADING=1 and READY=1 its checks hear are published so the verb can wait for the end.
#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/supervisor.h"

namespace gardien {

namespace {

// Why an instance in `state` has no process to reload, to read after its name.
std::string nothing_to_reload(State state) {
  switch (state) {
    case State::starting:
      return "is starting: nothing to reload until it is running";
    case State::exited:
      return "has exited: nothing to reload";
    case State::backoff:
      return "is in backoff: nothing to reload";
    case State::stopped:
    case State::stopping:
    case State::fatal:
    case State::running:
      break;
  }
  return "is " + std::string(protocol::state_name(state)) + ": nothing to reload";
}

}  // namespace

std::vector<InstanceReload> Supervisor::reload_instances(const std::vector<std::string>& names) {
  std::vector<InstanceReload> out;
  for (const std::string& name : names) {
    if (Program* p = instance(name)) {
      out.push_back(reload_instance(*p));
    } else {
      out.push_back({{name, State::stopped, std::nullopt, false, "no longer exists"}, false});
    }
  }
  return out;
}

InstanceReload Supervisor::reload_instance(Program& program) {
  if (shutting_down()) return {result_of(program, false, "gardien is shutting down"), false};
  if (program.state() != State::running)
    return {result_of(program, false, nothing_to_reload(program.state())), false};
  const ProgramConfig& config = program.config();
  std::string signal = signal_name(config.reload_signal);
  std::string error;
  // The main process only, as systemd's ExecReload=kill -HUP $MAINPID: its workers are its own.
  if (!program.send_signal(config.reload_signal, false, error))
    return {result_of(program, false, "could not be sent " + signal + ": " + error), false};
  bool notify = config.ready && config.ready->kind == ProbeConfig::Kind::notify;
  log::info("reload signal sent", {{"event", "reload_signal"},
                                   {"program", program.name()},
                                   {"signal", signal},
                                   {"pid", program.pid()}});
  return {
      result_of(program, true,
                notify ? signal + " sent" : signal + " sent; no readiness protocol to wait for"),
      notify};
}

void Supervisor::on_notice(Program& program, InstanceChecks::Notice notice) {
  using Notice = InstanceChecks::Notice;
  if (notice == Notice::ready) {
    log::debug("READY=1 while running", {{"event", "ready_again"}, {"program", program.name()}});
  } else {
    bool reloading = notice == Notice::reloading;
    log::info(reloading ? "reloading" : "reloaded",
              {{"event", reloading ? "reloading" : "reloaded"}, {"program", program.name()}});
  }
  StateChange change;
  change.status = status_of(program, Clock::now(), waiting_for(program));
  change.previous = change.status.state;
  change.notice =
      notice == Notice::reloading ? StateChange::Notice::reloading : StateChange::Notice::ready;
  hub_.publish(change);
}

}  // namespace gardien
