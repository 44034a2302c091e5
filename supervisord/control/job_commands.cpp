#include "supervisord/control/job_commands.h"

#include <limits>

#include "common/suggest.h"
#include "supervisord/control/arg_reader.h"

namespace gardien::job_verbs {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;
using protocol::JobRecord;
using protocol::JobState;

namespace {

// `schedules` lists at most this many fires per task.
constexpr std::int64_t kMaxFires = 100;
constexpr std::int64_t kDefaultFires = 5;

json records_json(const std::vector<JobRecord>& records) {
  json list = json::array();
  for (const JobRecord& r : records) list.push_back(protocol::to_json(r));
  return list;
}

Error unknown(const char* what, const std::string& name, std::string hint) {
  std::string message = "unknown ";
  message += what;
  message += ' ';
  message += protocol::quote(name);
  message += ' ';
  message += hint;
  return Error{ErrorCode::unknown_program, std::move(message), {{"unknown", {name}}}};
}

// The unknown_program error for a name that is not a task (a `status` row of kind task), with
// the closest task's name when one is near; nullopt when it is a task.
std::optional<Error> not_a_task(ControlTarget& target, const std::string& name) {
  std::vector<protocol::InstanceStatus> rows = target.instances();
  std::vector<std::string_view> tasks;
  for (const protocol::InstanceStatus& s : rows) {
    if (s.kind != protocol::InstanceKind::task) continue;
    if (s.name == name) return std::nullopt;
    tasks.push_back(s.name);
  }
  std::string_view guess = closest(name, tasks);
  if (!guess.empty())
    return unknown("task", name, "(did you mean " + protocol::quote(guess) + "?)");
  return unknown("task", name, "(gardienctl status lists the tasks)");
}

// Follows one run through the published changes until it has finished, then answers with its
// final record; on `timeout` answers a timeout error with the record as it was (the run goes on).
class RunFollower final : public PendingCall {
 public:
  RunFollower(EventLoop& loop, Responder& responder, JobRecord record)
      : responder_(responder), last_(std::move(record)), timer_(loop, [this] { on_timeout(); }) {}

  // `now`: the record as the target has it after the submission (a run may end inside it).
  void watch(StateChangeHub& hub, const std::optional<JobRecord>& now,
             std::optional<Duration> timeout) {
    if (now) observe(*now);
    if (finished_) return;
    subscription_ = hub.subscribe([this](const StateChange& change) {
      if (change.job && change.job->id == last_.id) observe(*change.job);
    });
    timeout_ = timeout;
    if (timeout) timer_.arm(*timeout);
  }

  bool finished() const { return finished_; }

 private:
  void observe(const JobRecord& record) {
    if (finished_) return;
    last_ = record;
    if (record.state != JobState::finished) return;
    finish();
    responder_.reply({{"job", protocol::to_json(last_)}});
  }

  void on_timeout() {
    if (finished_) return;
    finish();
    std::string message = "timed out after ";
    message += format_duration(*timeout_);
    message += " waiting for ";
    message += last_.id;
    message += " (";
    message += protocol::job_state_name(last_.state);
    message += "); the run goes on";
    responder_.fail(
        Error{ErrorCode::timeout, std::move(message), {{"job", protocol::to_json(last_)}}});
  }

  // Stops listening before answering: nothing reaches a finished follower.
  void finish() {
    finished_ = true;
    subscription_.reset();
    timer_.cancel();
  }

  Responder& responder_;
  JobRecord last_;
  StateChangeHub::Subscription subscription_;
  std::optional<Duration> timeout_;
  Timer timer_;
  bool finished_ = false;
};

}  // namespace

void run(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"task", "args", "wait", "timeout_ms"});
  std::optional<std::string> task = args.string("task", true);
  std::vector<std::string> extra = args.strings("args");
  bool wait = args.boolean("wait", false);
  std::optional<Duration> timeout = args.timeout();
  if (!args.ok()) return responder.fail(args.error());
  if (timeout && !wait)
    return responder.fail(
        bad_request("argument \"timeout_ms\" of run is for waiting: add \"wait\": true"));
  // The submitter is recorded: without a known peer there is no one to record.
  std::optional<uid_t> uid = responder.peer_uid();
  if (!uid)
    return responder.fail(
        Error{ErrorCode::internal, "run: this connection has no peer credentials", nullptr});
  ControlTarget* target = commands.target_for(responder, true);
  if (!target) return;

  JobsAnswer answer = target->submit_run(RunRequest{*task, std::move(extra), *uid});
  if (answer.error) return responder.fail(std::move(*answer.error));
  if (answer.records.empty())
    return responder.fail(
        Error{ErrorCode::internal, "run queued nothing and said not why", nullptr});
  const JobRecord& record = answer.records.front();
  if (!wait) return responder.reply({{"job", protocol::to_json(record)}});
  if (!responder.progress({{"job", protocol::to_json(record)}})) return;  // the client left
  auto follower = std::make_unique<RunFollower>(commands.loop(), responder, record);
  follower->watch(target->state_changes(), target->job(record.id), timeout);
  if (!follower->finished()) responder.keep(std::move(follower));
}

void jobs(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"task", "id", "queued_limit"});
  std::optional<std::string> task = args.string("task", false);
  std::optional<std::string> id = args.string("id", false);
  auto queued_limit = static_cast<std::size_t>(
      args.integer("queued_limit", 0, std::numeric_limits<std::int64_t>::max(),
                   std::numeric_limits<std::int64_t>::max()));
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  if (id) {
    std::optional<JobRecord> record = target->job(*id);
    if (!record || (task && record->task != *task))
      return responder.fail(unknown("run", *id,
                                    "(finished runs leave the history after their task's "
                                    "`history`; gardienctl jobs lists those kept)"));
    return responder.reply({{"jobs", records_json({*record})}});
  }
  if (task) {
    if (auto error = not_a_task(*target, *task)) return responder.fail(std::move(*error));
  }
  JobsListing listing = target->jobs(task.value_or(std::string()), queued_limit);
  json answer = json::object();
  answer["jobs"] = records_json(listing.records);
  answer["unlisted_queued"] = listing.unlisted_queued;
  responder.reply(answer);
}

void cancel(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"target"});
  std::optional<std::string> what = args.string("target", true);
  if (!args.ok()) return responder.fail(args.error());
  if (what->empty())
    return responder.fail(
        bad_request("argument \"target\" of cancel must be a run id (migrate#12) or a task name"));
  // Like stop, a cancel is not refused during a shutdown: it only ends work.
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  JobsAnswer answer = target->cancel(*what);
  if (answer.error) {
    if (answer.error->details.is_null() && !answer.records.empty())
      answer.error->details = {{"jobs", records_json(answer.records)}};
    return responder.fail(std::move(*answer.error));
  }
  responder.reply({{"jobs", records_json(answer.records)}});
}

void schedules(Commands& commands, const protocol::Request& request, Responder& responder) {
  ArgReader args(request, {"task", "count"});
  std::optional<std::string> task = args.string("task", false);
  auto count = static_cast<int>(args.integer("count", 1, kMaxFires, kDefaultFires));
  if (!args.ok()) return responder.fail(args.error());
  ControlTarget* target = commands.target_for(responder);
  if (!target) return;
  if (task) {
    if (auto error = not_a_task(*target, *task)) return responder.fail(std::move(*error));
  }
  json list = json::array();
  for (const protocol::TaskSchedule& s : target->schedules(task.value_or(std::string()), count))
    list.push_back(protocol::to_json(s));
  responder.reply({{"schedules", std::move(list)}});
}

}  // namespace gardien::job_verbs
