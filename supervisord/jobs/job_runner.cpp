#include "supervisord/jobs/job_runner.h"

#include <unistd.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "supervisord/loop/log.h"

namespace gardien {

using protocol::Error;
using protocol::ErrorCode;
using protocol::JobRecord;
using protocol::JobState;

namespace {
JobQueue::Limits limits_of(const SupervisorConfig& s) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::size_t slots = s.max_concurrent_jobs > 0 ? static_cast<std::size_t>(s.max_concurrent_jobs)
                                                : static_cast<std::size_t>(std::max(cpus, 1L));
  return {slots, static_cast<std::size_t>(std::max(s.max_queued_jobs, 0))};
}
JobsAnswer refusal(ErrorCode code, std::string message) {
  return {{}, Error{code, std::move(message), nullptr}};
}
}  // namespace

JobRunner::JobRunner(EventLoop& loop, Reaper& reaper, const Config& config, Callbacks callbacks)
    : loop_(loop),
      reaper_(reaper),
      tasks_(config.tasks),
      callbacks_(std::move(callbacks)),
      queue_(limits_of(config.supervisor)),
      pump_timer_(loop, [this] { pump(); }),
      pump_now_(loop, [this] { pump(); }),
      schedules_(loop, [this](const std::string& task) { fire(task); }) {
  schedules_.set(tasks_);
}

JobRunner::~JobRunner() = default;

void JobRunner::restore(const LoadedHistory& loaded) {
  for (const auto& [task, number] : loaded.last_number) {
    TaskState& st = state_[task];
    st.last_number = std::max(st.last_number, number);
  }
  for (const auto& [task, runs] : loaded.finished) {
    TaskState& st = state_[task];
    st.history.insert(st.history.begin(), runs.begin(), runs.end());
  }
}

void JobRunner::set_config(const Config& config) {
  tasks_ = config.tasks;
  queue_.set_limits(limits_of(config.supervisor));
  std::vector<std::string> gone;
  for (const auto& [id, record] : queued_) {
    if (!task_config(record.task)) gone.push_back(id);
  }
  for (const std::string& id : gone) take_queued(id, "cancelled: the task was removed");
  if (!shutting_down_) schedules_.set(tasks_);
  pump_soon();
}

const TaskConfig* JobRunner::task_config(const std::string& task) const {
  for (const TaskConfig& t : tasks_) {
    if (t.name() == task) return &t;
  }
  return nullptr;
}

std::size_t JobRunner::task_limit(const std::string& task) const {
  const TaskConfig* t = task_config(task);
  return t ? static_cast<std::size_t>(std::max(t->max_concurrent, 1)) : 0;
}

JobsAnswer JobRunner::submit(const std::string& task, std::vector<std::string> args,
                             protocol::JobSource source, std::optional<std::int64_t> uid,
                             bool beside_active) {
  const TaskConfig* config = task_config(task);
  if (!config) return refusal(ErrorCode::unknown_program, "no task named " + protocol::quote(task));
  if (shutting_down_)
    return refusal(ErrorCode::shutting_down, "the daemon is shutting down: no new runs");
  if (!args.empty() && !config->args)
    return refusal(ErrorCode::bad_request,
                   "task " + task + " takes no arguments (it sets args = false): run it without");
  TaskState& st = state_[task];
  JobRecord record;
  record.task = task;
  record.number = st.last_number + 1;
  record.id = task + "#" + std::to_string(record.number);
  record.source = source;
  record.uid = uid;
  record.args = std::move(args);
  record.queued_ms = wall_clock_ms();
  auto priority =
      source == protocol::JobSource::start ? JobQueue::Priority::start : JobQueue::Priority::normal;
  if (!queue_.push(record.id, task, priority, beside_active))
    return refusal(ErrorCode::failed,
                   "the job queue is full: " + std::to_string(queue_.limits().max_queued) +
                       " runs wait already (max-queued-jobs); try again later or raise it");
  st.last_number = record.number;
  queued_.emplace(record.id, record);
  if (callbacks_.changed) callbacks_.changed(record);
  pump_soon();
  return {{std::move(record)}, std::nullopt};
}

void JobRunner::pump_soon() {
  if (!pump_timer_.armed()) pump_timer_.arm(Duration{0});
}

void JobRunner::pump_this_turn() {
  pump_now_.request();
}

void JobRunner::pump() {
  pump_timer_.cancel();
  pump_now_.cancel();
  done_.clear();
  if (shutting_down_) return;
  for (JobQueue::Waiting& w :
       queue_.admit([this](const std::string& t) { return task_limit(t); })) {
    auto it = queued_.find(w.id);
    if (it == queued_.end()) continue;
    JobRecord record = std::move(it->second);
    queued_.erase(it);
    start(std::move(record));
  }
}

void JobRunner::start(JobRecord record) {
  const TaskConfig* config = task_config(record.task);
  if (!config) {  // removed by a reload since it was admitted
    queue_.finished(record.task);
    record.state = JobState::finished;
    record.outcome = protocol::JobOutcome::cancelled;
    record.info = "cancelled: the task was removed";
    record.ended_ms = wall_clock_ms();
    return remember(record);
  }
  TaskRun::Callbacks cb;
  cb.prepare = callbacks_.prepare;
  cb.changed = [this](TaskRun& run) {
    if (callbacks_.changed) callbacks_.changed(run.record());
  };
  cb.ended = [this](TaskRun& run) { on_ended(run); };
  auto run = std::make_unique<TaskRun>(loop_, reaper_, *config, std::move(record), std::move(cb));
  TaskRun& ref = *run;
  runs_.emplace(ref.id(), std::move(run));
  ref.begin();
}

void JobRunner::on_ended(TaskRun& run) {
  auto it = runs_.find(run.id());
  if (it == runs_.end()) return;
  std::unique_ptr<TaskRun> owned = std::move(it->second);
  runs_.erase(it);
  queue_.finished(owned->task());
  JobRecord record = owned->record();
  done_.push_back(std::move(owned));  // its Program is on the stack: destroyed on the next pump
  remember(record);
  pump_this_turn();
}

void JobRunner::remember(const JobRecord& record) {
  log::info("task run ended",
            {{"event", "job_end"},
             {"job", record.id},
             {"outcome", std::string(protocol::job_outcome_name(*record.outcome))},
             {"info", record.info}});
  TaskState& st = state_[record.task];
  st.last_in_life = record;
  st.history.push_back(record);
  const TaskConfig* config = task_config(record.task);
  std::size_t keep = config ? static_cast<std::size_t>(std::max(config->history, 0)) : 0;
  while (st.history.size() > keep) {
    std::string id = st.history.front().id;
    st.history.pop_front();
    if (callbacks_.forgotten) callbacks_.forgotten(id);
  }
  if (callbacks_.changed) callbacks_.changed(record);
  if (callbacks_.finished) loop_.defer([this, record] { callbacks_.finished(record); });
}

std::optional<JobRecord> JobRunner::take_queued(const std::string& id, const std::string& why) {
  auto it = queued_.find(id);
  if (it == queued_.end()) return std::nullopt;
  queue_.remove(id);
  JobRecord record = std::move(it->second);
  queued_.erase(it);
  record.state = JobState::finished;
  record.outcome = protocol::JobOutcome::cancelled;
  record.info = why;
  record.ended_ms = wall_clock_ms();
  remember(record);
  return record;
}

JobsAnswer JobRunner::cancel(const std::string& target, const std::string& why) {
  JobsAnswer answer;
  std::vector<std::string> queued_ids;
  std::vector<TaskRun*> running;
  if (auto it = queued_.find(target); it != queued_.end()) queued_ids.push_back(target);
  if (auto it = runs_.find(target); it != runs_.end()) running.push_back(it->second.get());
  if (queued_ids.empty() && running.empty()) {
    if (!task_config(target) && !state_.count(target)) {
      if (find(target))
        return refusal(ErrorCode::failed, target + " has finished already: nothing to cancel");
      return refusal(ErrorCode::unknown_program, "no task or run named " + protocol::quote(target) +
                                                     " (a run is TASK#N, see gardienctl jobs)");
    }
    queued_ids = queue_.waiting(target);
    for (auto& [id, run] : runs_) {
      if (run->task() == target) running.push_back(run.get());
    }
  }
  for (const std::string& id : queued_ids) {
    if (auto record = take_queued(id, why)) answer.records.push_back(std::move(*record));
  }
  for (TaskRun* run : running) {
    std::string id = run->id();
    run->cancel(why);  // may end it at once (between attempts)
    answer.records.push_back(find(id).value_or(JobRecord{}));
  }
  return answer;
}

void JobRunner::fire(const std::string& task) {
  const TaskConfig* config = task_config(task);
  if (!config || shutting_down_) return;
  TaskActivity now = activity(task);
  bool active = now.queued + now.running > 0;
  if (active && config->concurrency == ScheduleConcurrency::forbid) {
    log::info("scheduled run skipped: a run of the task is active (concurrency = \"forbid\")",
              {{"event", "schedule_skip"}, {"task", task}});
    return;
  }
  if (active && config->concurrency == ScheduleConcurrency::replace)
    cancel(task, "cancelled: replaced by a scheduled run");
  JobsAnswer answer = submit(task, {}, protocol::JobSource::schedule, std::nullopt,
                             config->concurrency == ScheduleConcurrency::allow);
  pump_this_turn();  // no one waits for an answer: the run starts on the fire's turn
  if (answer.error)
    log::warn("scheduled run refused",
              {{"event", "schedule_refused"}, {"task", task}, {"error", answer.error->message}});
}

std::vector<protocol::TaskSchedule> JobRunner::schedules(const std::string& task, int count) const {
  std::vector<protocol::TaskSchedule> out;
  for (const std::string& name : schedules_.tasks()) {
    if (!task.empty() && name != task) continue;
    const TaskConfig* config = task_config(name);
    protocol::TaskSchedule s;
    s.task = name;
    s.schedule = config ? config->schedule : std::string();
    s.time_zone = schedules_.zone_name(name);
    for (Instant t : schedules_.next_fires(name, count))
      s.next_ms.push_back(
          std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
    out.push_back(std::move(s));
  }
  return out;
}

JobsListing JobRunner::list(const std::string& task, std::size_t queued_limit) const {
  JobsListing listing;
  std::vector<JobRecord>& out = listing.records;
  for (const auto& [name, st] : state_) {
    if (!task.empty() && name != task) continue;
    out.insert(out.end(), st.history.begin(), st.history.end());
  }
  std::vector<std::string> next = queue_.waiting(task, queued_limit);
  for (const std::string& id : next) {
    if (auto it = queued_.find(id); it != queued_.end()) out.push_back(it->second);
  }
  std::size_t queued = task.empty() ? queue_.queued() : queue_.queued_of(task);
  listing.unlisted_queued = queued - std::min(queued, next.size());
  for (const auto& [id, run] : runs_) {
    if (task.empty() || run->task() == task) out.push_back(run->record());
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) {
    return std::tie(a.task, a.number) < std::tie(b.task, b.number);
  });
  return listing;
}

std::optional<JobRecord> JobRunner::find(const std::string& id) const {
  if (auto it = runs_.find(id); it != runs_.end()) return it->second->record();
  if (auto it = queued_.find(id); it != queued_.end()) return it->second;
  auto hash = id.rfind('#');
  if (hash == std::string::npos) return std::nullopt;
  auto st = state_.find(id.substr(0, hash));
  if (st == state_.end()) return std::nullopt;
  for (const JobRecord& r : st->second.history) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

TaskActivity JobRunner::activity(const std::string& task) const {
  TaskActivity a;
  a.queued = queue_.queued_of(task);
  for (const auto& [id, run] : runs_) {
    if (run->task() == task) ++a.running;
  }
  if (auto it = state_.find(task); it != state_.end()) a.last = it->second.last_in_life;
  return a;
}

std::vector<const TaskRun*> JobRunner::active() const {
  std::vector<const TaskRun*> out;
  for (const auto& [id, run] : runs_) out.push_back(run.get());
  return out;
}

void JobRunner::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  schedules_.stop();
  for (const JobQueue::Waiting& w : queue_.clear()) take_queued(w.id, "cancelled: shutdown");
  std::vector<TaskRun*> running;
  for (auto& [id, run] : runs_) running.push_back(run.get());
  for (TaskRun* run : running) {
    run->hold();
    run->cancel("cancelled: shutdown");
  }
}

void JobRunner::kill_all() {
  for (auto& [id, run] : runs_) run->kill();
}

bool JobRunner::any_process() const {
  return std::any_of(runs_.begin(), runs_.end(),
                     [](const auto& entry) { return entry.second->has_process(); });
}

}  // namespace gardien

namespace gardien {

void JobRunner::recheck_groups() {
  std::vector<TaskRun*> running;
  for (auto& [id, run] : runs_) running.push_back(run.get());
  for (TaskRun* run : running) run->recheck_group();
}

}  // namespace gardien
