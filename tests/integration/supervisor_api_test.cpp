// The Supervisor API the control socket builds on, in-process with real processes: list, start
// (with dependencies), stop, restart, signal, observers, add/remove, shutdown.
#include "supervisord/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>

#include <functional>
#include <vector>

#include "harness.h"
#include "supervisord/log.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;

ProgramConfig sleeper(const std::string& name) {
  ProgramConfig p;
  p.name = name;
  p.command = {"sleep", "600"};
  p.start_seconds = Duration{0};
  p.backoff = std::chrono::milliseconds(20);
  p.stop_timeout = std::chrono::milliseconds(500);
  return p;
}

// Runs `steps` in order on the loop: each waits (polled every 5 ms) for its condition, then acts.
class Script {
 public:
  struct Step {
    std::function<bool()> ready;
    std::function<void()> act;
  };
  Script(EventLoop& loop, Supervisor& sup, std::vector<Step> steps)
      : steps_(std::move(steps)),
        sup_(sup),
        poll_(loop, [this] { tick(); }),
        deadline_(loop, [this] {
          ADD_FAILURE() << "script stuck at step " << at_;
          sup_.shutdown("test deadline");
          sup_.shutdown("test deadline");
        }) {
    poll_.arm(std::chrono::milliseconds(5));
    deadline_.arm(std::chrono::seconds(20));
  }
  std::size_t at() const { return at_; }

 private:
  void tick() {
    while (at_ < steps_.size() && steps_[at_].ready()) steps_[at_++].act();
    if (at_ < steps_.size()) {
      poll_.arm(std::chrono::milliseconds(5));
    } else {
      deadline_.cancel();
    }
  }
  std::vector<Step> steps_;
  std::size_t at_ = 0;
  Supervisor& sup_;
  Timer poll_;
  Timer deadline_;
};

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
  Subscription sub = sup.subscribe([&](const StateChange& c) { changes.push_back(c); });
  int other_calls = 0;
  {
    Subscription gone = sup.subscribe([&](const StateChange&) { ++other_calls; });
  }  // unsubscribed here

  auto state = [&](const std::string& name) {
    return sup.find(name).value_or(InstanceInfo{}).state;
  };
  auto running = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (state(n) != State::running) return false;
    return true;
  };
  pid_t first_a = 0, b0 = 0;
  bool removed = false;

  Script script(
      loop, sup,
      {
          {[] { return true; },
           [&] {
             auto list = sup.list();
             ASSERT_EQ(list.size(), 3u);
             EXPECT_EQ(list[0].name, "a");
             EXPECT_EQ(list[1].name, "b.0");
             EXPECT_EQ(list[2].state, State::stopped);
             Outcome o = sup.start("b.0");  // pulls in its dependency a
             EXPECT_TRUE(o.ok);
             EXPECT_EQ(o.instances, std::vector<std::string>{"b.0"});
             EXPECT_EQ(sup.find("b.0")->reason, "waiting for a") << "b.0 waits for a";
           }},
          {[&] {
             return running({"a", "b.0"});
           },
           [&] {
             EXPECT_EQ(state("b.1"), State::stopped) << "only the instance asked for";
             EXPECT_TRUE(sup.start("b").ok);
           }},
          {[&] { return running({"b.1"}); },
           [&] {
             auto info = *sup.find("b.0");
             EXPECT_GT(info.pid, 0);
             EXPECT_TRUE(info.uptime);
             b0 = info.pid;
             first_a = sup.find("a")->pid;
             Outcome o = sup.signal("b.0", SIGKILL);
             EXPECT_TRUE(o.ok) << o.message;
           }},
          {[&] { return sup.find("b.0")->restarts == 1 && running({"b.0"}); },
           [&] {
             auto info = *sup.find("b.0");
             EXPECT_NE(info.pid, b0);
             ASSERT_TRUE(info.last_exit);
             EXPECT_EQ(info.last_exit->to_string(), "killed by SIGKILL");
             EXPECT_TRUE(sup.stop("b").ok);
           }},
          {[&] { return state("b.0") == State::stopped && state("b.1") == State::stopped; },
           [&] {
             Outcome unknown = sup.start("nope");
             EXPECT_FALSE(unknown.ok);
             EXPECT_EQ(unknown.code, "unknown-program");
             Outcome down = sup.signal("b.0", SIGTERM);
             EXPECT_FALSE(down.ok);
             EXPECT_EQ(down.code, "not-running");
             EXPECT_TRUE(sup.restart("a").ok);
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
             EXPECT_EQ(sup.start("a").code, "shutting-down");
           }},
      });

  EXPECT_EQ(sup.run(), 0);
  EXPECT_EQ(script.at(), 8u);
  EXPECT_EQ(other_calls, 0);
  auto saw = [&](const std::string& inst, State to) {
    for (const StateChange& c : changes)
      if (c.instance == inst && c.to == to) return true;
    return false;
  };
  EXPECT_TRUE(saw("b.0", State::backoff));
  EXPECT_TRUE(saw("a", State::stopping));
  EXPECT_TRUE(saw("a", State::stopped));
  EXPECT_TRUE(saw("c", State::running));
  for (const InstanceInfo& i : sup.list()) EXPECT_FALSE(has_process(i.state)) << i.name;
  EXPECT_FALSE(Reaper::children_left());
}

}  // namespace
}  // namespace gardien
