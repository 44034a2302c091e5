// The Supervisor as the control socket's ControlTarget, in-process with real processes:
// instances, start (with dependencies), stop, restart, signal, the state-change hub,
// add/remove, shutdown.
#include "supervisord/orchestrate/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>

#include <functional>
#include <vector>

#include "harness.h"
#include "supervisor_script.h"
#include "supervisord/control/instance_selector.h"
#include "supervisord/loop/log.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using protocol::InstanceState;
using Names = std::vector<std::string>;

ProgramConfig sleeper(const std::string& name) {
  ProgramConfig p;
  p.name = name;
  p.command = {"sleep", "600"};
  p.start_seconds = Duration{0};
  p.backoff = std::chrono::milliseconds(20);
  p.stop_timeout = std::chrono::milliseconds(500);
  return p;
}

TEST(SupervisorApi, ControlVerbsObserversAndShutdown) {
  test::TempDir dir;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  log::configure(LogLevel::warn, LogFormat::text);
  Config config;
  config.supervisor.shutdown_timeout = std::chrono::seconds(5);
  ProgramConfig a = sleeper("a");
  ProgramConfig b = sleeper("b");
  b.instances = 2;
  b.autostart = false;
  b.depends_on = {"a"};
  a.autostart = false;
  a.start_seconds = std::chrono::milliseconds(100);  // so that b.0 has to wait for it
  config.programs = {a, b};

  EventLoop loop;
  Supervisor sup(loop, config, dir / "gardien.toml");
  std::vector<StateChange> changes;
  StateChangeHub::Subscription sub =
      sup.state_changes().subscribe([&](const StateChange& c) { changes.push_back(c); });
  int other_calls = 0;
  {
    StateChangeHub::Subscription gone =
        sup.state_changes().subscribe([&](const StateChange&) { ++other_calls; });
  }  // unsubscribed here

  auto state = [&](const std::string& name) {
    return sup.find(name).value_or(protocol::InstanceStatus{}).state;
  };
  auto running = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (state(n) != InstanceState::running) return false;
    return true;
  };
  auto select = [&](Names names) {
    auto selected = select_instances(sup.instances(), names);
    return std::get<Names>(selected);
  };
  pid_t first_a = 0, b0 = 0;
  bool removed = false;

  Script script(
      loop, sup,
      {
          {[] { return true; },
           [&] {
             auto list = sup.instances();
             ASSERT_EQ(list.size(), 3u);
             EXPECT_EQ(list[0].name, "a");
             EXPECT_EQ(list[1].name, "b.0");
             EXPECT_EQ(list[2].state, InstanceState::stopped);
             EXPECT_FALSE(list[2].wanted) << "autostart = false: not kept up";
             auto o = sup.start({"b.0"});  // pulls in its dependency a
             ASSERT_EQ(o.size(), 1u);
             EXPECT_TRUE(o[0].ok);
             EXPECT_EQ(o[0].name, "b.0");
             EXPECT_EQ(sup.find("b.0")->info, "waiting for a") << "b.0 waits for a";
             EXPECT_TRUE(sup.find("b.0")->wanted);
             EXPECT_TRUE(sup.find("a")->wanted) << "a dependency started for it is kept up";
           }},
          {[&] {
             return running({"a", "b.0"});
           },
           [&] {
             EXPECT_EQ(state("b.1"), InstanceState::stopped) << "only the instance asked for";
             auto o = sup.start(select({"b"}));
             ASSERT_EQ(o.size(), 2u);
             EXPECT_EQ(o[0].info, "already running");
             EXPECT_TRUE(o[1].ok);
           }},
          {[&] { return running({"b.1"}); },
           [&] {
             auto info = *sup.find("b.0");
             ASSERT_TRUE(info.pid);
             EXPECT_TRUE(info.uptime);
             b0 = *info.pid;
             first_a = *sup.find("a")->pid;
             auto o = sup.signal(SIGKILL, {"b.0"});
             EXPECT_TRUE(o[0].ok) << o[0].info;
           }},
          {[&] { return sup.find("b.0")->restarts == 1 && running({"b.0"}); },
           [&] {
             auto info = *sup.find("b.0");
             EXPECT_NE(info.pid, b0);
             EXPECT_EQ(info.info, "") << "running: its predecessor's exit is history";
             EXPECT_TRUE(sup.stop(select({"b*"}))[1].ok);
           }},
          {[&] {
             return state("b.0") == InstanceState::stopped &&
                    state("b.1") == InstanceState::stopped;
           },
           [&] {
             EXPECT_FALSE(sup.find("b.0")->wanted) << "stopped on purpose";
             auto unknown = select_instances(sup.instances(), {"nope"});
             ASSERT_TRUE(std::holds_alternative<protocol::Error>(unknown));
             EXPECT_EQ(std::get<protocol::Error>(unknown).code,
                       protocol::ErrorCode::unknown_program);
             EXPECT_FALSE(sup.start({"nope"})[0].ok);
             auto down = sup.signal(SIGTERM, {"b.0"});
             EXPECT_FALSE(down[0].ok);
             EXPECT_NE(down[0].info.find("has no process"), std::string::npos) << down[0].info;
             EXPECT_TRUE(sup.restart({"a"})[0].ok);
           }},
          {[&] { return running({"a"}) && sup.find("a")->pid != first_a; },
           [&] {
             EXPECT_TRUE(sup.add_program(sleeper("a"))) << "a duplicate is refused";
             ProgramConfig c = sleeper("c");
             EXPECT_EQ(sup.add_program(c), std::nullopt);
           }},
          {[&] { return running({"c"}); },
           [&] { EXPECT_TRUE(sup.remove_program("c", [&] { removed = true; })); }},
          {[&] { return removed; },
           [&] {
             EXPECT_FALSE(sup.find("c"));
             EXPECT_EQ(sup.config().find("c"), nullptr);
             sup.shutdown("test");
             EXPECT_TRUE(sup.shutting_down());
             auto refused = sup.start({"a"});
             EXPECT_FALSE(refused[0].ok);
             EXPECT_EQ(refused[0].info, "gardien is shutting down");
           }},
      });

  sigset_t mask;  // run() leaves every signal blocked; the next test's children must not inherit it
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sup.run(), 0);
  ::pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  EXPECT_EQ(script.at(), 8u);
  EXPECT_EQ(other_calls, 0);
  auto saw = [&](const std::string& inst, InstanceState to, bool removed = false) {
    for (const StateChange& c : changes)
      if (c.status.name == inst && c.status.state == to && c.removed == removed) return true;
    return false;
  };
  EXPECT_TRUE(saw("b.0", InstanceState::backoff));
  for (const StateChange& c : changes) {
    if (c.status.name == "b.0" && c.status.state == InstanceState::backoff) {
      EXPECT_EQ(c.status.info.rfind("killed by SIGKILL, retry in ", 0), 0u) << c.status.info;
    }
  }
  EXPECT_TRUE(saw("a", InstanceState::stopping));
  EXPECT_TRUE(saw("a", InstanceState::stopped));
  EXPECT_TRUE(saw("c", InstanceState::running));
  EXPECT_TRUE(saw("c", InstanceState::stopped, true)) << "removal is published";
  for (const auto& i : sup.instances()) EXPECT_FALSE(i.pid) << i.name;
  EXPECT_FALSE(Reaper::children_left());
}

}  // namespace
}  // namespace gardien

namespace gardien {
namespace {

TEST(SupervisorApi, ManyProgramsStartInBatchesThatLeaveTheLoopItsTurns) {
  test::TempDir dir;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  log::configure(LogLevel::warn, LogFormat::text);
  Config config;
  config.supervisor.shutdown_timeout = std::chrono::seconds(10);
  ProgramConfig many = sleeper("many");
  many.instances = 200;
  config.programs = {many};
  EventLoop loop;
  Supervisor sup(loop, config, dir / "gardien.toml");
  auto with_process = [&] {
    std::size_t n = 0;
    for (const auto& i : sup.instances()) n += i.pid.has_value();
    return n;
  };
  std::vector<std::size_t> seen;  // instances with a process at each of the first turns
  std::function<void()> look;
  Timer turn(loop, [&] { look(); });
  look = [&] {
    seen.push_back(with_process());
    if (seen.size() < 3) turn.arm(Duration{0});
  };
  turn.arm(Duration{0});  // before run(): the first turn of the loop
  Script script(loop, sup,
                {{[&] { return with_process() == 200; }, [&] { sup.shutdown("test"); }}});
  sigset_t mask;  // as above
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sup.run(), 0);
  ::pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_LT(seen[0], 200u) << "not all in one turn";
  EXPECT_GT(seen[0], 0u);
  EXPECT_LE(seen[1] - seen[0], 64u);
  EXPECT_EQ(script.at(), 1u);
}

}  // namespace
}  // namespace gardien
