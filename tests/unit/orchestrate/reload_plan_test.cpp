#include "supervisord/orchestrate/reload_plan.h"

#include <gtest/gtest.h>

namespace gardien {
namespace {

ProgramConfig program(const std::string& name, int instances = 1) {
  ProgramConfig p;
  p.name = name;
  p.command = {"sleep", "600"};
  p.instances = instances;
  return p;
}

Config config(std::vector<ProgramConfig> programs) {
  Config c;
  c.programs = std::move(programs);  // already sorted by name in these tests
  return c;
}

TEST(ReloadPlan, SameConfigChangesNothing) {
  Config a = config({program("a"), program("b", 3)});
  protocol::ReloadPlan plan = plan_reload(a, a);
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.unchanged, (std::vector<std::string>{"a", "b"}));
}

TEST(ReloadPlan, AddedRemovedChangedScaledUnchanged) {
  ProgramConfig changed = program("c");
  changed.command = {"sleep", "601"};
  Config old = config({program("a"), program("b"), program("c"), program("s", 2)});
  Config next = config({program("a"), changed, program("n"), program("s", 4)});
  protocol::ReloadPlan plan = plan_reload(old, next);
  EXPECT_EQ(plan.added, std::vector<std::string>{"n"});
  EXPECT_EQ(plan.removed, std::vector<std::string>{"b"});
  EXPECT_EQ(plan.changed, std::vector<std::string>{"c"});
  ASSERT_EQ(plan.scaled.size(), 1u);
  EXPECT_EQ(plan.scaled[0], (protocol::ScaleChange{"s", 2, 4}));
  EXPECT_EQ(plan.unchanged, std::vector<std::string>{"a"});
  EXPECT_TRUE(plan.supervisor.empty());
}

TEST(ReloadPlan, ScalingIsAScaleFromAndToOneToo) {
  Config old = config({program("one"), program("s", 3), program("t", 2)});
  Config next = config({program("one", 2), program("s", 2), program("t", 1)});
  protocol::ReloadPlan plan = plan_reload(old, next);
  EXPECT_TRUE(plan.changed.empty()) << "web <-> web.0 is renamed in place, never restarted";
  ASSERT_EQ(plan.scaled.size(), 3u);
  EXPECT_EQ(plan.scaled[0], (protocol::ScaleChange{"one", 1, 2}));
  EXPECT_EQ(plan.scaled[1], (protocol::ScaleChange{"s", 3, 2}));
  EXPECT_EQ(plan.scaled[2], (protocol::ScaleChange{"t", 2, 1}));
}

TEST(ReloadPlan, AChangeBesidesInstancesIsARestart) {
  ProgramConfig b = program("s", 4);
  b.stop_signal = 2;
  protocol::ReloadPlan plan = plan_reload(config({program("s", 2)}), config({b}));
  EXPECT_EQ(plan.changed, std::vector<std::string>{"s"});
  EXPECT_TRUE(plan.scaled.empty());
}

TEST(ReloadPlan, SupervisorChangesSayWhichNeedARestart) {
  Config old = config({program("a")});
  Config next = old;
  next.supervisor.log_level = LogLevel::debug;
  next.supervisor.socket = "/tmp/other.sock";
  protocol::ReloadPlan plan = plan_reload(old, next);
  ASSERT_EQ(plan.supervisor.size(), 2u);
  EXPECT_EQ(plan.supervisor[0],
            "socket: (default) -> /tmp/other.sock (takes effect when gardien restarts)");
  EXPECT_EQ(plan.supervisor[1], "log-level: info -> debug");
  EXPECT_FALSE(plan.empty());
}

}  // namespace
}  // namespace gardien

namespace gardien {
namespace {

TaskConfig task_named(const std::string& name, Duration timeout = Duration{0}) {
  TaskConfig t;
  t.process.name = name;
  t.process.command = {"/bin/true"};
  t.timeout = timeout;
  return t;
}

TEST(ReloadPlan, TasksAreAddedChangedFromTheirNextRunAndRemoved) {
  Config before;
  before.tasks = {task_named("keep"), task_named("migrate"), task_named("old")};
  Config after;
  after.tasks = {task_named("backup"), task_named("keep"),
                 task_named("migrate", std::chrono::seconds(5))};
  protocol::ReloadPlan plan = plan_reload(before, after);
  EXPECT_EQ(plan.tasks, (std::vector<std::string>{
                            "remove task old (its queued runs are cancelled, running ones finish)",
                            "add task backup", "change task migrate (from its next run)"}));
  EXPECT_FALSE(plan.empty());
  EXPECT_TRUE(plan.added.empty()) << "programs only";
  EXPECT_TRUE(plan_reload(after, after).empty());
}

}  // namespace
}  // namespace gardien
