#include <gtest/gtest.h>

#include "supervisord/jobs/job_runner.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/reaper.h"

using namespace gardien;
using protocol::JobOutcome;
using protocol::JobRecord;

namespace {

JobRecord finished_run(const std::string& task, std::int64_t number, JobOutcome outcome) {
  JobRecord r;
  r.task = task;
  r.number = number;
  r.id = task + "#" + std::to_string(number);
  r.state = protocol::JobState::finished;
  r.outcome = outcome;
  return r;
}

Config one_task(const std::string& name) {
  Config config;
  TaskConfig task;
  task.process.name = name;
  task.process.command = {"/bin/true"};
  config.tasks.push_back(task);
  return config;
}

}  // namespace

TEST(JobRunnerRestore, RunsReadBackAreListedAndNumberingGoesOnAfterThem) {
  EventLoop loop;
  Reaper reaper(loop);
  JobRunner runner(loop, reaper, one_task("migrate"), {});
  LoadedHistory loaded;
  loaded.finished["migrate"] = {finished_run("migrate", 11, JobOutcome::succeeded),
                                finished_run("migrate", 12, JobOutcome::lost)};
  loaded.last_number["migrate"] = 12;
  loaded.last_number["gone"] = 4;
  runner.restore(loaded);

  std::vector<JobRecord> listed = runner.list("migrate", 100).records;
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(runner.find("migrate#12"));
  // A run of a past life never satisfies a dependency on the task.
  EXPECT_FALSE(runner.activity("migrate").last);

  JobsAnswer answer = runner.submit("migrate", {}, protocol::JobSource::ctl);
  ASSERT_FALSE(answer.error) << answer.error->message;
  ASSERT_EQ(answer.records.size(), 1u);
  EXPECT_EQ(answer.records[0].id, "migrate#13");
  runner.cancel("migrate#13", "test over");
}
