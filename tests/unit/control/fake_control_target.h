// A ControlTarget for tests: instances in memory, transitions published like the supervisor's.
// Manual mode: actions make their first transition and the test drives the rest (set_state).
// Auto mode (a loop given): starting -> running and stopping -> stopped follow on a timer.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "supervisord/control/control_target.h"
#include "supervisord/loop/event_loop.h"

namespace gardien::testing {

class FakeControlTarget : public ControlTarget {
 public:
  using State = protocol::InstanceState;

  explicit FakeControlTarget(EventLoop* auto_loop = nullptr) : loop_(auto_loop) {}

  void add(const std::string& program, int count, State state = State::running,
           bool wanted = true) {
    for (int i = 0; i < count; ++i) {
      protocol::InstanceStatus s;
      s.program = program;
      s.name = count == 1 ? program : program + "." + std::to_string(i);
      s.state = state;
      s.wanted = wanted;
      s.ready = state == State::running;  // as the daemon says it
      if (state == State::running) {
        s.pid = next_pid_++;
        s.uptime = std::chrono::seconds(3723);
      }
      instances_.push_back(s);
    }
    sort_instances();
  }

  protocol::InstanceStatus* find(const std::string& name) {
    for (auto& s : instances_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  // Moves an instance and publishes the change, as the supervisor does at each transition.
  void set_state(const std::string& name, State state, std::string info = {}) {
    protocol::InstanceStatus* s = find(name);
    if (!s) return;
    State previous = s->state;
    s->state = state;
    s->ready = state == State::running && !not_ready;
    s->info = std::move(info);
    if (state == State::starting || state == State::running) {
      if (!s->pid) s->pid = next_pid_++;
    } else if (state != State::stopping) {
      s->pid.reset();
      s->uptime.reset();
    }
    hub_.publish(StateChange{*s, previous, false});
  }

  // Its readiness passes (or is lost) without a change of state, published like a transition.
  void set_ready(const std::string& name, bool ready) {
    protocol::InstanceStatus* s = find(name);
    if (!s) return;
    s->ready = ready;
    hub_.publish(StateChange{*s, s->state, false});
  }

  // A running instance says RELOADING=1 or READY=1: published as a notice, like the supervisor.
  void notify(const std::string& name, StateChange::Notice notice) {
    protocol::InstanceStatus* s = find(name);
    if (!s) return;
    s->reloading = notice == StateChange::Notice::reloading;
    StateChange change{*s, s->state, false};
    change.notice = notice;
    hub_.publish(change);
  }

  void remove(const std::string& name) {
    auto it = std::find_if(instances_.begin(), instances_.end(),
                           [&](const auto& s) { return s.name == name; });
    if (it == instances_.end()) return;
    StateChange change{*it, it->state, true};
    instances_.erase(it);
    hub_.publish(change);
  }

  // ---- ControlTarget ----
  std::vector<protocol::InstanceStatus> instances() const override {
    ++instances_calls;
    return instances_;
  }

  void count_processes(std::vector<protocol::InstanceStatus>& statuses) const override {
    for (auto& s : statuses) s.processes = s.pid ? 1 : 0;
  }

  std::vector<protocol::InstanceResult> start(const std::vector<std::string>& names) override {
    calls.push_back("start");
    std::vector<protocol::InstanceResult> out;
    for (const auto& name : names) {
      protocol::InstanceStatus* s = find(name);
      if (refuse == name) {
        out.push_back({name, s->state, s->pid, false, "refused by the fake"});
        continue;
      }
      if (s->state == State::running) {
        out.push_back({name, s->state, s->pid, true, "already running"});
        continue;
      }
      s->wanted = true;
      if (!start_waits_for.empty()) {  // a dependency that does not come: it stays stopped
        set_state(name, State::stopped, "waiting for " + start_waits_for);
        out.push_back(result(name));
        continue;
      }
      set_state(name, State::starting);
      if (spawn_fails) set_state(name, State::fatal, "exec /nope: No such file or directory");
      if (loop_ && auto_run && !spawn_fails)
        later([this, name] { set_state(name, State::running); });
      out.push_back(result(name));
    }
    return out;
  }

  std::vector<protocol::InstanceResult> stop(const std::vector<std::string>& names) override {
    calls.push_back("stop");
    std::vector<protocol::InstanceResult> out;
    for (const auto& name : names) {
      protocol::InstanceStatus* s = find(name);
      s->wanted = false;
      if (s->state == State::running || s->state == State::starting) {
        set_state(name, State::stopping);
        if (stop_is_instant) set_state(name, State::stopped);
        if (loop_ && !stop_is_instant) later([this, name] { set_state(name, State::stopped); });
      } else if (s->state == State::backoff) {
        set_state(name, State::stopped);
      }
      out.push_back(result(name));
    }
    return out;
  }

  std::vector<protocol::InstanceResult> restart(const std::vector<std::string>& names) override {
    calls.push_back("restart");
    std::vector<protocol::InstanceResult> out;
    for (const auto& name : names) {
      protocol::InstanceStatus* s = find(name);
      if (s->state == State::running) set_state(name, State::stopping);
      if (loop_) {
        later([this, name] {
          set_state(name, State::stopped);
          set_state(name, State::starting);
          later([this, name] { set_state(name, State::running); });
        });
      }
      out.push_back(result(name));
    }
    return out;
  }

  std::vector<protocol::InstanceResult> signal(int signo,
                                               const std::vector<std::string>& names) override {
    calls.push_back("signal " + std::to_string(signo));
    std::vector<protocol::InstanceResult> out;
    for (const auto& name : names) {
      protocol::InstanceResult r = result(name);
      if (!r.pid) {
        r.ok = false;
        r.info = "not running";
      }
      out.push_back(r);
    }
    return out;
  }

  std::vector<InstanceReload> reload_instances(const std::vector<std::string>& names) override {
    std::vector<InstanceReload> out;
    for (const auto& name : names) {
      calls.push_back("reload " + name);
      protocol::InstanceStatus* s = find(name);
      InstanceReload r{result(name), false};
      if (s->state != State::running) {
        r.result.ok = false;
        r.result.info = "is " + std::string(protocol::state_name(s->state)) + ": nothing to reload";
      } else if (speaks_notify.count(s->program)) {
        r.result.info = "SIGHUP sent";
        r.awaits_ready = true;
      } else {
        r.result.info = "SIGHUP sent; no readiness protocol to wait for";
      }
      out.push_back(r);
    }
    return out;
  }

  StateChangeHub& state_changes() override { return hub_; }

  ReloadOutcome reload(bool dry_run) override {
    calls.push_back(dry_run ? "reload dry-run" : "reload");
    return reload_outcome;
  }

  void shutdown() override {
    calls.push_back("shutdown");
    shutting_down_ = true;
    if (on_shutdown) on_shutdown();
  }
  bool shutting_down() const override { return shutting_down_; }

  // ---- Tasks: runs in memory; a test moves them on (start_run, finish_run) ----

  // A task: its `status` row (kind task) and, with a schedule, fires every 15 minutes.
  void add_task(const std::string& name, const std::string& schedule = {}) {
    protocol::InstanceStatus s;
    s.name = s.program = name;
    s.kind = protocol::InstanceKind::task;
    if (!schedule.empty()) {
      s.next_fire_ms = kFirstFireMs;
      schedules_.push_back({name, schedule});
    }
    instances_.push_back(s);
    sort_instances();
  }

  JobsAnswer submit_run(const RunRequest& request) override {
    calls.push_back("run " + request.task);
    protocol::InstanceStatus* task = find(request.task);
    if (!task || task->kind != protocol::InstanceKind::task)
      return {{},
              protocol::Error{protocol::ErrorCode::unknown_program,
                              "unknown task " + protocol::quote(request.task), nullptr}};
    if (queue_full)
      return {{}, protocol::Error{protocol::ErrorCode::failed, "the job queue is full", nullptr}};
    protocol::JobRecord r;
    r.number = ++numbers_[request.task];
    r.id = request.task + "#" + std::to_string(r.number);
    r.task = request.task;
    r.uid = request.uid;
    r.args = request.args;
    r.queued_ms = kFirstFireMs + r.number * 1000;
    records_.push_back(r);
    publish_job(r);
    if (runs_at_once) start_run(r.id);
    return {{*job(r.id)}, std::nullopt};
  }

  // A queued run starts: it gets a `status` row (kind run) under its task.
  void start_run(const std::string& id) {
    protocol::JobRecord* r = record(id);
    r->state = protocol::JobState::running;
    r->started_ms = r->queued_ms + 5;
    r->attempts = 1;
    r->pid = next_pid_++;
    protocol::InstanceStatus s;
    s.name = id;
    s.program = r->task;
    s.kind = protocol::InstanceKind::run;
    s.state = State::running;
    s.pid = r->pid;
    s.wanted = true;
    instances_.push_back(s);
    sort_instances();
    publish_job(*r);
  }

  // A run ends with `outcome` (exit code or signal as given); its `status` row goes.
  void finish_run(const std::string& id, protocol::JobOutcome outcome,
                  std::optional<int> exit_code = 0, std::optional<int> signal = std::nullopt) {
    protocol::JobRecord* r = record(id);
    r->state = protocol::JobState::finished;
    r->ended_ms = r->queued_ms + 2000;
    r->pid.reset();
    r->outcome = outcome;
    r->exit_code = exit_code;
    r->signal = signal;
    std::erase_if(instances_, [&](const auto& s) { return s.name == id; });
    publish_job(*r);
  }

  JobsListing jobs(const std::string& task, std::size_t queued_limit) const override {
    JobsListing out;
    std::size_t queued = 0;
    for (const auto& r : records_) {
      if (!task.empty() && r.task != task) continue;
      bool waits = r.state == protocol::JobState::queued;
      if (waits && queued++ >= queued_limit) {
        ++out.unlisted_queued;
        continue;
      }
      out.records.push_back(r);
    }
    return out;
  }
  std::optional<protocol::JobRecord> job(const std::string& id) const override {
    for (const auto& r : records_) {
      if (r.id == id) return r;
    }
    return std::nullopt;
  }
  JobsAnswer cancel(const std::string& target) override {
    calls.push_back("cancel " + target);
    JobsAnswer answer;
    bool known = false;
    for (const auto& r : records_) {
      if (r.id != target && r.task != target) continue;
      known = true;
      if (r.state == protocol::JobState::finished) continue;
      std::string id = r.id;
      finish_run(id, protocol::JobOutcome::cancelled, std::nullopt);
      answer.records.push_back(*job(id));
    }
    if (!known && !find(target))
      answer.error = protocol::Error{protocol::ErrorCode::unknown_program,
                                     "unknown task or run " + protocol::quote(target), nullptr};
    else if (answer.records.empty())
      answer.error =
          protocol::Error{protocol::ErrorCode::failed,
                          protocol::quote(target) + " has no queued or running run", nullptr};
    return answer;
  }
  std::vector<protocol::TaskSchedule> schedules(const std::string& task, int count) const override {
    std::vector<protocol::TaskSchedule> out;
    for (const auto& [name, schedule] : schedules_) {
      if (!task.empty() && name != task) continue;
      protocol::TaskSchedule s{name, schedule, "Europe/Paris", {}};
      for (int i = 0; i < count; ++i) s.next_ms.push_back(kFirstFireMs + i * 15 * 60 * 1000);
      out.push_back(s);
    }
    return out;
  }

  // 2026-06-01T10:15:00Z: the first fire of every fake schedule.
  static constexpr std::int64_t kFirstFireMs = 1'780'308'900'000;

  std::vector<std::string> calls;
  mutable std::size_t instances_calls = 0;  // snapshots taken: what a verb cost
  std::string refuse;                       // an instance name whose actions are refused
  bool spawn_fails = false;                 // start goes starting -> fatal inside the call
  bool stop_is_instant = false;             // stop goes stopping -> stopped inside the call
  bool auto_run = true;                     // with a loop: a start reaches running by itself
  bool not_ready = false;                   // running is not ready until set_ready
  std::string start_waits_for;              // start leaves it stopped, waiting for this
  std::set<std::string> speaks_notify;      // programs with ready = "notify": reload waits
  ReloadOutcome reload_outcome;
  std::function<void()> on_shutdown;
  bool shutting_down_ = false;
  bool queue_full = false;   // submit_run is refused
  bool runs_at_once = true;  // a submitted run starts inside submit_run (a free slot)

 private:
  protocol::JobRecord* record(const std::string& id) {
    for (auto& r : records_) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }

  void publish_job(const protocol::JobRecord& r) {
    StateChange change;
    change.job = r;
    hub_.publish(change);
  }

  void sort_instances() {
    std::sort(instances_.begin(), instances_.end(), [](const auto& a, const auto& b) {
      return a.program < b.program || (a.program == b.program && a.name < b.name);
    });
  }

  protocol::InstanceResult result(const std::string& name) {
    protocol::InstanceStatus* s = find(name);
    return {name, s->state, s->pid, true, {}};
  }

  // Timers live as long as the fake (tests are short), so none is freed inside its own callback.
  void later(std::function<void()> fn) {
    timers_.push_back(std::make_unique<Timer>(*loop_, std::move(fn)));
    timers_.back()->arm(std::chrono::milliseconds(10));
  }

  EventLoop* loop_;
  StateChangeHub hub_;
  std::vector<protocol::InstanceStatus> instances_;
  std::vector<std::unique_ptr<Timer>> timers_;
  pid_t next_pid_ = 4242;
  std::vector<protocol::JobRecord> records_;
  std::map<std::string, std::int64_t> numbers_;
  std::vector<std::pair<std::string, std::string>> schedules_;  // task, schedule
};

}  // namespace gardien::testing
