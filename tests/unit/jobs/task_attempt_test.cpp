#include "supervisord/jobs/task_attempt.h"

#include <gtest/gtest.h>

namespace gardien {
namespace {

using protocol::JobOutcome;
using std::chrono::seconds;

TaskConfig task(int retries = 0) {
  TaskConfig t;
  t.process.name = "migrate";
  t.process.restart = RestartPolicy::never;
  t.process.start_seconds = Duration{0};
  t.process.backoff = seconds(1);
  t.process.backoff_max = seconds(4);
  t.retries = retries;
  return t;
}

LifecycleStatus rest(State state, std::optional<ExitStatus> exit, std::optional<RunOutcome> run,
                     std::string reason = {}) {
  LifecycleStatus s;
  s.state = state;
  s.last_exit = exit;
  s.last_run = run;
  s.reason = std::move(reason);
  return s;
}

TEST(AttemptEnd, ReadsEachWayAnAttemptEnds) {
  TaskConfig t = task();
  t.timeout = seconds(5);
  EXPECT_EQ(
      attempt_end(rest(State::exited, ExitStatus::exited(0), RunOutcome::exited), t, {}).outcome,
      JobOutcome::succeeded);
  AttemptEnd failed =
      attempt_end(rest(State::exited, ExitStatus::exited(3), RunOutcome::exited), t, {});
  EXPECT_EQ(failed.outcome, JobOutcome::failed);
  EXPECT_EQ(failed.info, "exit code 3");
  AttemptEnd killed =
      attempt_end(rest(State::exited, ExitStatus::killed(9), RunOutcome::exited), t, {});
  EXPECT_EQ(killed.outcome, JobOutcome::failed);
  ASSERT_TRUE(killed.exit);
  EXPECT_TRUE(killed.exit->signaled);
  AttemptEnd timed_out = attempt_end(
      rest(State::exited, ExitStatus::killed(15), RunOutcome::timed_out, "timed out"), t, {});
  EXPECT_EQ(timed_out.outcome, JobOutcome::timed_out);
  EXPECT_EQ(timed_out.info, "timed out after 5s");
  AttemptEnd cancelled =
      attempt_end(rest(State::stopped, ExitStatus::killed(15), RunOutcome::stopped_by_operator), t,
                  std::string("cancelled by an operator"));
  EXPECT_EQ(cancelled.outcome, JobOutcome::cancelled);
  EXPECT_EQ(cancelled.info, "cancelled by an operator");
  AttemptEnd spawn =
      attempt_end(rest(State::fatal, std::nullopt, RunOutcome::fatal,
                       "exec /nope: No such file or directory; not retried: restart = never"),
                  t, {});
  EXPECT_EQ(spawn.outcome, JobOutcome::failed_to_start);
  EXPECT_EQ(spawn.info, "exec /nope: No such file or directory");
}

TEST(AttemptEnd, SuccessExitCodesDecideSuccess) {
  TaskConfig t = task();
  t.process.success_exit_codes = {0, 2};
  EXPECT_EQ(
      attempt_end(rest(State::exited, ExitStatus::exited(2), RunOutcome::exited), t, {}).outcome,
      JobOutcome::succeeded);
}

AttemptEnd ended(JobOutcome outcome) {
  AttemptEnd e;
  e.outcome = outcome;
  e.info = "exit code 1";
  return e;
}

TEST(AfterAttempt, RetriesFailuresWithBackoffUntilRetriesAreSpent) {
  TaskConfig t = task(2);
  TimePoint t0{};
  AttemptVerdict first = after_attempt(ended(JobOutcome::failed), 1, t, true, t0, t0);
  EXPECT_TRUE(first.retry);
  EXPECT_EQ(first.delay, seconds(1));
  EXPECT_EQ(first.info, "exit code 1; retrying in 1s (attempt 2 of 3)");
  AttemptVerdict second = after_attempt(ended(JobOutcome::timed_out), 2, t, true, t0, t0);
  EXPECT_TRUE(second.retry);
  EXPECT_EQ(second.delay, seconds(2));
  AttemptVerdict third = after_attempt(ended(JobOutcome::failed_to_start), 3, t, true, t0, t0);
  EXPECT_FALSE(third.retry);
  EXPECT_EQ(third.info, "exit code 1; 3 attempts");
}

TEST(AfterAttempt, NeverRetriesSuccessCancelsOrDuringShutdown) {
  TaskConfig t = task(5);
  TimePoint t0{};
  EXPECT_FALSE(after_attempt(ended(JobOutcome::succeeded), 1, t, true, t0, t0).retry);
  EXPECT_FALSE(after_attempt(ended(JobOutcome::cancelled), 1, t, true, t0, t0).retry);
  EXPECT_FALSE(after_attempt(ended(JobOutcome::failed), 1, t, false, t0, t0).retry);
}

TEST(AfterAttempt, NoRetryWhenTheDeadlineComesBeforeTheNextAttempt) {
  TaskConfig t = task(5);
  t.deadline = seconds(10);
  TimePoint t0{};
  EXPECT_TRUE(after_attempt(ended(JobOutcome::failed), 1, t, true, t0, t0 + seconds(8)).retry);
  AttemptVerdict late = after_attempt(ended(JobOutcome::failed), 1, t, true, t0, t0 + seconds(9));
  EXPECT_FALSE(late.retry);
  EXPECT_EQ(late.info, "exit code 1; no retry: the deadline of 10s comes first");
}

}  // namespace
}  // namespace gardien
