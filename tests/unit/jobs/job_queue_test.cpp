#include "supervisord/jobs/job_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gardien {
namespace {

std::vector<std::string> ids(const std::vector<JobQueue::Waiting>& runs) {
  std::vector<std::string> out;
  for (const auto& w : runs) out.push_back(w.id);
  return out;
}

// "t#3" (GCC 12 warns falsely on `"literal" + std::string`).
std::string name(const char* prefix, int i) {
  std::string out = prefix;
  out += std::to_string(i);
  return out;
}

JobQueue::TaskLimit limit(std::size_t n) {
  return [n](const std::string&) { return n; };
}

TEST(JobQueue, AdmitsInSubmissionOrderUpToTheSlots) {
  JobQueue q({2, 10});
  ASSERT_TRUE(q.push("a#1", "a"));
  ASSERT_TRUE(q.push("b#1", "b"));
  ASSERT_TRUE(q.push("c#1", "c"));
  EXPECT_EQ(ids(q.admit(limit(5))), (std::vector<std::string>{"a#1", "b#1"}));
  EXPECT_EQ(q.running(), 2u);
  EXPECT_EQ(q.queued(), 1u);
  EXPECT_TRUE(q.admit(limit(5)).empty());  // no slot
  q.finished("a");
  EXPECT_EQ(ids(q.admit(limit(5))), (std::vector<std::string>{"c#1"}));
}

TEST(JobQueue, RefusesBeyondMaxQueuedAndCountsOnlyWaitingRuns) {
  JobQueue q({1, 2});
  ASSERT_TRUE(q.push("a#1", "a"));
  ASSERT_TRUE(q.push("a#2", "a"));
  EXPECT_FALSE(q.push("a#3", "a"));  // two wait already
  EXPECT_EQ(q.admit(limit(1)).size(), 1u);
  EXPECT_TRUE(q.push("a#3", "a"));  // the running one does not count
  EXPECT_EQ(q.queued(), 2u);
}

TEST(JobQueue, ZeroMaxQueuedRefusesEverySubmission) {
  JobQueue q({4, 0});
  EXPECT_FALSE(q.push("a#1", "a"));
  EXPECT_EQ(q.queued(), 0u);
}

TEST(JobQueue, ATaskAtItsLimitIsPassedOverAndOthersGo) {
  JobQueue q({4, 10});
  q.push("a#1", "a");
  q.push("a#2", "a");
  q.push("b#1", "b");
  EXPECT_EQ(ids(q.admit(limit(1))), (std::vector<std::string>{"a#1", "b#1"}));
  EXPECT_EQ(q.running_of("a"), 1u);
  EXPECT_EQ(q.queued_of("a"), 1u);
  q.finished("a");
  EXPECT_EQ(ids(q.admit(limit(1))), (std::vector<std::string>{"a#2"}));
}

TEST(JobQueue, StartRunsGoBeforeNormalOnesFifoWithinEach) {
  JobQueue q({1, 10});
  q.push("a#1", "a");
  q.push("b#1", "b", JobQueue::Priority::start);
  q.push("c#1", "c");
  q.push("d#1", "d", JobQueue::Priority::start);
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto admitted = q.admit(limit(1));
    ASSERT_EQ(admitted.size(), 1u);
    order.push_back(admitted[0].id);
    q.finished(admitted[0].task);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"b#1", "d#1", "a#1", "c#1"}));
}

TEST(JobQueue, ARunBesideTheTaskLimitStartsWhileItsTaskRuns) {
  JobQueue q({4, 10});
  q.push("a#1", "a");
  EXPECT_EQ(q.admit(limit(1)).size(), 1u);
  q.push("a#2", "a", JobQueue::Priority::normal, true);
  EXPECT_EQ(ids(q.admit(limit(1))), (std::vector<std::string>{"a#2"}));
  EXPECT_EQ(q.running_of("a"), 2u);
}

TEST(JobQueue, ListsTheFirstWaitingRunsInTheOrderTheyWouldStart) {
  JobQueue q({1, 10});
  q.push("a#1", "a");
  q.push("b#1", "b");
  q.push("a#2", "a");
  q.push("c#1", "c", JobQueue::Priority::start);
  EXPECT_EQ(q.waiting(), (std::vector<std::string>{"c#1", "a#1", "b#1", "a#2"}))
      << "a run the daemon's start needs goes first";
  EXPECT_EQ(q.waiting({}, 2), (std::vector<std::string>{"c#1", "a#1"}));
  EXPECT_EQ(q.waiting("a", 1), (std::vector<std::string>{"a#1"}));
  EXPECT_TRUE(q.waiting({}, 0).empty());
}

TEST(JobQueue, RemovesQueuedRunsByIdByTaskAndAll) {
  JobQueue q({1, 10});
  q.push("a#1", "a");
  q.push("a#2", "a");
  q.push("b#1", "b");
  q.push("b#2", "b");
  EXPECT_TRUE(q.remove("a#2"));
  EXPECT_FALSE(q.remove("a#2"));
  EXPECT_EQ(q.waiting(), (std::vector<std::string>{"a#1", "b#1", "b#2"}));
  EXPECT_EQ(q.remove_task("b"), (std::vector<std::string>{"b#1", "b#2"}));
  EXPECT_EQ(q.queued(), 1u);
  EXPECT_EQ(ids(q.clear()), (std::vector<std::string>{"a#1"}));
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_TRUE(q.admit(limit(1)).empty());
}

TEST(JobQueue, FinishedOfAnUnknownTaskChangesNothing) {
  JobQueue q({1, 10});
  q.finished("nope");
  EXPECT_EQ(q.running(), 0u);
}

TEST(JobQueue, ShrinkingTheSlotsKeepsAdmittedRunsAndWaitsForThem) {
  JobQueue q({3, 10});
  for (int i = 1; i <= 4; ++i) q.push(name("t#", i), name("t", i));
  EXPECT_EQ(q.admit(limit(1)).size(), 3u);
  q.set_limits({1, 10});
  q.finished("t1");
  EXPECT_TRUE(q.admit(limit(1)).empty());  // two still run, one slot
  q.finished("t2");
  q.finished("t3");
  EXPECT_EQ(ids(q.admit(limit(1))), (std::vector<std::string>{"t#4"}));
}

TEST(JobQueue, TenThousandWaitingRunsOfOneTaskAdmitOneAtATime) {
  JobQueue q({4, 10000});
  for (int i = 1; i <= 10000; ++i) ASSERT_TRUE(q.push(name("t#", i), "t"));
  int admitted = 0;
  while (q.queued() > 0) {
    auto runs = q.admit(limit(1));
    ASSERT_EQ(runs.size(), 1u);
    ++admitted;
    q.finished("t");
  }
  EXPECT_EQ(admitted, 10000);
}

}  // namespace
}  // namespace gardien
