// The Supervisor's task verbs: runs through the job queue (supervisord/jobs/).
#include "supervisord/orchestrate/supervisor.h"

namespace gardien {

namespace {
protocol::Error not_yet() {
  return {protocol::ErrorCode::unavailable, "this daemon runs no tasks yet", nullptr};
}
}  // namespace

JobsAnswer Supervisor::submit_run(const RunRequest&) { return {{}, not_yet()}; }
std::vector<protocol::JobRecord> Supervisor::jobs(const std::string&) const { return {}; }
std::optional<protocol::JobRecord> Supervisor::job(const std::string&) const {
  return std::nullopt;
}
JobsAnswer Supervisor::cancel(const std::string&) { return {{}, not_yet()}; }
std::vector<protocol::TaskSchedule> Supervisor::schedules(const std::string&, int) const {
  return {};
}

}  // namespace gardien
