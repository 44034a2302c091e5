// The Supervisor's tasks: the task verbs go to the JobRunner; tasks take part in orchestration
// as facts (a run on its way, how the latest ended), so a program's `completed` dependency on a
// task and an on-start task's own dependencies are decided with everything else.
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/supervisor.h"
#include "supervisord/output/output_hub.h"

namespace gardien {

using protocol::JobRecord;

void Supervisor::make_job_runner() {
  JobRunner::Callbacks cb;
  cb.prepare = [this](Program& program) {
    program.set_output_hub(output_);
    program.use_cgroups(cgroups_for(program.config()));
  };
  cb.changed = [this](const JobRecord& record) { on_job_change(record); };
  cb.finished = [this](const JobRecord&) { evaluate_soon(); };
  cb.forgotten = [this](const std::string& id) {
    if (output_) output_->forget(id);
  };
  jobs_ = std::make_unique<JobRunner>(loop_, reaper_, config_, std::move(cb));
}

void Supervisor::keep_task_history(const std::string& default_dir) {
  history_dir_ = default_dir;
  open_task_history();
}

void Supervisor::open_task_history() {
  if (history_) return history_->set_keep(history_keep(config_.tasks));
  if (config_.tasks.empty() || history_dir_.empty()) return;
  const std::string& dir =
      config_.supervisor.state_dir.empty() ? history_dir_ : config_.supervisor.state_dir;
  history_ = std::make_unique<RunHistoryFile>(loop_, dir, history_keep(config_.tasks));
  jobs_->restore(history_->loaded());
}

void Supervisor::on_job_change(const JobRecord& record) {
  if (run_record_) run_record_->mark_changed();
  if (history_ && record.state == protocol::JobState::finished) history_->ended(record);
  // Once its first attempt has a process: a run recorded as started and never ended was lost.
  if (history_ && record.state == protocol::JobState::running && record.attempts == 1 && record.pid)
    history_->started(record);
  StateChange change;
  change.job = record;
  hub_.publish(change);
  evaluate_soon();
}

JobsAnswer Supervisor::submit_run(const RunRequest& request) {
  if (shutting_down())
    return {{},
            protocol::Error{protocol::ErrorCode::shutting_down,
                            "gardien is shutting down: no new runs", nullptr}};
  return jobs_->submit(request.task, request.args, protocol::JobSource::ctl, request.uid);
}

JobsListing Supervisor::jobs(const std::string& task, std::size_t queued_limit) const {
  return jobs_->list(task, queued_limit);
}

std::optional<JobRecord> Supervisor::job(const std::string& id) const {
  return jobs_->find(id);
}

JobsAnswer Supervisor::cancel(const std::string& target) {
  return jobs_->cancel(target, "cancelled by an operator");
}

std::vector<protocol::TaskSchedule> Supervisor::schedules(const std::string& task,
                                                          int count) const {
  return jobs_->schedules(task, count);
}

namespace {

// A task as the orchestrator sees it: running while a run is, starting while one is queued,
// exited once a run of this daemon's life ended (completed when it succeeded), else stopped.
InstanceFacts task_facts(const TaskConfig& task, const TaskActivity& activity) {
  InstanceFacts f;
  f.name = task.name();
  f.program = task.name();
  if (activity.running > 0) {
    f.state = State::running;
    f.started = true;
  } else if (activity.queued > 0) {
    f.state = State::starting;
  } else if (activity.last) {
    const JobRecord& last = *activity.last;
    f.state = State::exited;
    f.completed = last.outcome == protocol::JobOutcome::succeeded;
    f.ended = last.info;
    if (last.exit_code) f.last_exit = ExitStatus::exited(*last.exit_code);
    if (last.signal) f.last_exit = ExitStatus::killed(*last.signal);
  }
  return f;
}

}  // namespace

void Supervisor::add_task_facts(std::vector<InstanceFacts>& facts) const {
  for (const TaskConfig& t : config_.tasks) {
    InstanceFacts f = task_facts(t, jobs_->activity(t.name()));
    f.start_requested = tasks_requested_.count(t.name()) > 0;
    facts.push_back(std::move(f));
  }
}

void Supervisor::add_task_statuses(std::vector<protocol::InstanceStatus>& out) const {
  TimePoint now = Clock::now();
  std::vector<const TaskRun*> active = jobs_->active();
  for (const TaskConfig& t : config_.tasks) {
    TaskActivity activity = jobs_->activity(t.name());
    InstanceFacts f = task_facts(t, activity);
    protocol::InstanceStatus s;
    s.name = t.name();
    s.program = t.name();
    s.kind = protocol::InstanceKind::task;
    s.state = f.state;
    std::vector<std::string> info;
    if (activity.queued > 0) info.push_back(std::to_string(activity.queued) + " queued");
    if (activity.last) {
      const JobRecord& last = *activity.last;
      info.push_back("last " + last.id + ": " +
                     std::string(protocol::job_outcome_name(*last.outcome)) +
                     (last.info.empty() ? "" : ", " + last.info));
      s.exit_code = last.exit_code;
      s.signal = last.signal;
    }
    if (auto next = jobs_->next_fire(t.name())) {
      std::int64_t ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(next->time_since_epoch()).count();
      s.next_fire_ms = ms;  // gardienctl shows it in the local time of its reader
    }
    if (tasks_requested_.count(t.name()) && mode_ == DaemonMode::running) {
      std::vector<InstanceFacts> all = snapshot();
      for (const InstanceFacts& g : all) {
        if (g.name != t.name()) continue;
        std::string waiting = gardien::waiting_for(all, config_, g);
        if (!waiting.empty()) info.push_back("waiting for " + waiting);
      }
    }
    for (const std::string& part : info) s.info += (s.info.empty() ? "" : "; ") + part;
    out.push_back(std::move(s));
    for (const TaskRun* run : active) {
      if (run->task() != t.name()) continue;
      protocol::InstanceStatus r = status_of(run->program(), now, {});
      r.kind = protocol::InstanceKind::run;
      r.program = t.name();
      if (!run->record().info.empty()) r.info = run->record().info;
      out.push_back(std::move(r));
    }
  }
}

bool Supervisor::start_task(const std::string& name) {
  if (!config_.find_task(name)) return false;
  tasks_requested_.erase(name);
  JobsAnswer answer = jobs_->submit(name, {}, protocol::JobSource::start);
  if (answer.error)
    log::warn("a task run needed at start was refused",
              {{"event", "job_refused"}, {"task", name}, {"error", answer.error->message}});
  return true;
}

bool Supervisor::stop_task(const std::string& name, bool forceful) {
  if (!config_.find_task(name)) return false;
  if (forceful) {
    jobs_->kill_all();
  } else {
    jobs_->cancel(name, "cancelled: shutdown");
  }
  return true;
}

std::optional<protocol::InstanceResult> Supervisor::task_result(const std::string& name,
                                                                bool stopping) {
  bool is_task = config_.find_task(name) != nullptr;
  std::optional<JobRecord> run = is_task ? std::nullopt : jobs_->find(name);
  if (!is_task && !run) return std::nullopt;
  protocol::InstanceResult r;
  r.name = name;
  if (!stopping) {
    r.ok = false;
    r.info = is_task ? "is a task: run it with `gardienctl run " + name + "`"
                     : "is a task run: see `gardienctl jobs`";
    return r;
  }
  JobsAnswer answer = jobs_->cancel(name, "cancelled by an operator");
  r.ok = !answer.error;
  r.info = answer.error ? answer.error->message
           : answer.records.empty()
               ? "nothing to cancel"
               : "cancelled " + std::to_string(answer.records.size()) + " runs";
  return r;
}

}  // namespace gardien
