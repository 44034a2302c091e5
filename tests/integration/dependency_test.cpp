// Dependency conditions with real processes, through the in-process Supervisor: a one-shot
// `migrate` that web needs `completed` runs once before web, is not rerun when web starts
// again, and when it fails web waits and says why.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>

#include <functional>
#include <vector>

#include "harness.h"
#include "supervisor_script.h"
#include "supervisord/loop/log.h"
#include "supervisord/orchestrate/supervisor.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using protocol::InstanceState;

// migrate appends a line to `runs` each time it runs, and exits 0 once `ok` exists (3 before);
// web refuses to run (exit 7) unless migrate ran first.
Config migrate_then_web(const test::TempDir& dir, bool ok_at_first) {
  if (ok_at_first) test::write_file(dir / "ok", "");
  std::string runs = (dir / "runs").string();
  std::string ok = (dir / "ok").string();
  ProgramConfig migrate;
  migrate.name = "migrate";
  migrate.command = {"/bin/sh", "-c",
                     "echo ran >> '" + runs + "'; test -f '" + ok + "' && exit 0; exit 3"};
  migrate.restart = RestartPolicy::never;
  migrate.start_seconds = Duration{0};
  migrate.stop_timeout = 500ms;
  ProgramConfig web;
  web.name = "web";
  web.command = {"/bin/sh", "-c", "test -f '" + runs + "' || exit 7; exec sleep 600"};
  web.restart = RestartPolicy::never;
  web.start_seconds = Duration{0};
  web.stop_timeout = 500ms;
  web.depends_on = {"migrate"};
  web.dependency_conditions["migrate"] = DependencyCondition::completed;
  Config config;
  config.supervisor.shutdown_timeout = 5s;
  config.programs = {migrate, web};
  return config;
}

std::size_t runs_of(const test::TempDir& dir) {
  std::string text = test::read_file(dir / "runs");
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

int run_keeping_the_signal_mask(Supervisor& sup) {
  // run() leaves every signal blocked; the next test's children must not inherit that.
  sigset_t mask;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  int code = sup.run();
  ::pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  return code;
}

TEST(Dependencies, ACompletedOneShotRunsOnceBeforeItsDependent) {
  test::TempDir dir;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  log::configure(LogLevel::warn, LogFormat::text);
  EventLoop loop;
  Supervisor sup(loop, migrate_then_web(dir, true), dir / "gardien.toml");
  auto state = [&](const char* name) { return sup.find(name)->state; };
  pid_t first_web = 0;
  Script steps(loop, sup,
              {
                  {[&] { return state("web") == InstanceState::running; },
                   [&] {
                     EXPECT_EQ(state("migrate"), InstanceState::exited);
                     EXPECT_EQ(runs_of(dir), 1u);
                     EXPECT_FALSE(sup.find("migrate")->wanted) << "a finished one-shot";
                     first_web = *sup.find("web")->pid;
                     EXPECT_TRUE(sup.stop({"web"})[0].ok);
                   }},
                  {[&] { return state("web") == InstanceState::stopped; },
                   [&] {
                     auto o = sup.start({"web"});
                     EXPECT_TRUE(o[0].ok);
                     EXPECT_EQ(o[0].info, "") << "nothing to wait for: migrate completed";
                   }},
                  {[&] {
                     return state("web") == InstanceState::running &&
                            sup.find("web")->pid != first_web;
                   },
                   [&] {
                     EXPECT_EQ(runs_of(dir), 1u) << "a completed dependency is not rerun";
                     EXPECT_EQ(state("migrate"), InstanceState::exited);
                     sup.shutdown("test");
                   }},
              });
  EXPECT_EQ(run_keeping_the_signal_mask(sup), 0);
  EXPECT_EQ(steps.at(), 3u);
  EXPECT_FALSE(Reaper::children_left());
}

TEST(Dependencies, AFailedOneShotLeavesItsDependentWaitingUntilItIsRerun) {
  test::TempDir dir;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  log::configure(LogLevel::warn, LogFormat::text);
  EventLoop loop;
  Supervisor sup(loop, migrate_then_web(dir, false), dir / "gardien.toml");
  auto state = [&](const char* name) { return sup.find(name)->state; };
  Script steps(loop, sup,
              {
                  {[&] { return state("migrate") == InstanceState::exited; },
                   [&] {
                     EXPECT_EQ(state("web"), InstanceState::stopped);
                     EXPECT_EQ(sup.find("web")->info,
                               "waiting for migrate, which failed: exit code 3");
                     EXPECT_TRUE(sup.find("web")->wanted);
                     test::write_file(dir / "ok", "");
                     auto o = sup.start({"web"});  // reruns the failed dependency
                     EXPECT_TRUE(o[0].ok);
                     EXPECT_EQ(o[0].info, "waiting for migrate");
                   }},
                  {[&] { return state("web") == InstanceState::running; },
                   [&] {
                     EXPECT_EQ(runs_of(dir), 2u);
                     EXPECT_EQ(state("migrate"), InstanceState::exited);
                     sup.shutdown("test");
                   }},
              });
  EXPECT_EQ(run_keeping_the_signal_mask(sup), 0);
  EXPECT_EQ(steps.at(), 2u);
  EXPECT_FALSE(Reaper::children_left());
}

// The table form, end to end through the real daemon: web waits for migrate to complete.
TEST(Dependencies, ATableOfConditionsOrdersTheRealDaemon) {
  test::TempDir dir;
  test::Daemon d(dir);
  d.write_config(test::program("migrate", {"sh", "-c", "sleep 0.2"},
                               "restart = \"never\"\nstart-seconds = \"0\"\n") +
                 test::program("web", {"sleep", "600"},
                               "depends-on = { migrate = \"completed\" }\n"
                               "start-seconds = \"0\"\n"));
  d.start();
  auto web_running = d.wait_state("web", "running", 10s);
  ASSERT_TRUE(web_running) << d.log();
  auto migrate_exited = d.states("migrate", "exited");
  ASSERT_EQ(migrate_exited.size(), 1u) << d.log();
  auto web_spawn = d.events("spawn", "web");
  ASSERT_EQ(web_spawn.size(), 1u);
  EXPECT_GE(test::event_ms(web_spawn[0]), test::event_ms(migrate_exited[0]))
      << "web started before migrate completed";
  EXPECT_EQ(d.events("spawn", "migrate").size(), 1u);
  EXPECT_EQ(d.ctl({"shutdown"}).status, 0);
  EXPECT_EQ(d.wait_exit(10s), 0);
}

}  // namespace
}  // namespace gardien
