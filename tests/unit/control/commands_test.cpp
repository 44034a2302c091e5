// The verbs against a fake supervisor, without sockets.
#include "supervisord/control/commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "control/fake_control_target.h"

using namespace gardien;
using namespace std::chrono_literals;
using gardien::testing::FakeControlTarget;
using nlohmann::json;
using protocol::ErrorCode;
using State = protocol::InstanceState;

namespace {

// Records what a handler answers; keeps retired operations alive like the server's graveyard.
class RecordingResponder : public Responder {
 public:
  void reply(const json& result) override {
    if (done()) return;
    this->result = result;
    retire();
  }
  void fail(protocol::Error error) override {
    if (done()) return;
    this->error = std::move(error);
    retire();
  }
  bool progress(const json& result) override {
    if (done()) return false;
    lines.push_back(result);
    return true;
  }
  void keep(std::unique_ptr<PendingCall> pending) override {
    if (done()) {
      retired.push_back(std::move(pending));
      return;
    }
    kept = std::move(pending);
  }
  void linger() override { lingering = true; }
  bool answered() const override { return done(); }
  std::optional<uid_t> peer_uid() const override { return uid; }

  bool done() const { return result.has_value() || error.has_value(); }
  // The client went away: the server destroys what the handler kept.
  void disconnect() { kept.reset(); }

  std::vector<json> lines;
  std::optional<json> result;
  std::optional<protocol::Error> error;
  std::unique_ptr<PendingCall> kept;
  std::vector<std::unique_ptr<PendingCall>> retired;
  bool lingering = false;
  std::optional<uid_t> uid = 1000;  // the peer's credentials

 private:
  void retire() {
    if (kept) retired.push_back(std::move(kept));
  }
};

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() {
    target.add("db", 1);
    target.add("web", 3);
    target.add("worker", 2, State::stopped, false);
  }

  RecordingResponder& call(const std::string& cmd, json args = json::object(),
                           Access access = Access::control) {
    responders_.push_back(std::make_unique<RecordingResponder>());
    commands.dispatch(protocol::Request{++id_, cmd, std::move(args)}, access, *responders_.back());
    return *responders_.back();
  }

  // Runs the loop until `done` or a deadline (the timers of waits live on it).
  bool run_until(const std::function<bool()>& done, Duration limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(loop.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
      if (!done()) ::usleep(1000);
    }
    return true;
  }

  static std::vector<std::string> names_in(const json& list) {
    std::vector<std::string> out;
    for (const json& item : list) out.push_back(item.at("name").get<std::string>());
    return out;
  }

  EventLoop loop;
  FakeControlTarget target;
  Commands commands{loop, &target};

 private:
  std::vector<std::unique_ptr<RecordingResponder>> responders_;
  std::int64_t id_ = 0;
};

}  // namespace

TEST_F(CommandsTest, VersionAndDaemonPidNeedNoSupervisor) {
  Commands bare(loop);
  RecordingResponder r;
  bare.dispatch({1, "version", json::object()}, Access::read, r);
  ASSERT_TRUE(r.result) << r.error->message;
  EXPECT_EQ(*r.result, json({{"daemon", GARDIEN_VERSION}, {"protocol", 1}}));

  RecordingResponder p;
  bare.dispatch({2, "pid", json::object()}, Access::read, p);
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->at("pid"), ::getpid());

  RecordingResponder s;
  bare.dispatch({3, "status", json::object()}, Access::control, s);
  ASSERT_TRUE(s.error);
  EXPECT_EQ(s.error->code, ErrorCode::unavailable);
}

TEST_F(CommandsTest, UnknownVerbListsTheVerbs) {
  auto& r = call("stats");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::unknown_command);
  EXPECT_NE(r.error->message.find("unknown command \"stats\""), std::string::npos)
      << r.error->message;
  for (const char* verb :
       {"status", "start", "stop", "restart", "signal", "pid", "wait", "reload", "shutdown",
        "version", "run", "jobs", "cancel", "schedules", "logs", "reopen-logs"}) {
    EXPECT_NE(r.error->message.find(verb), std::string::npos) << verb;
  }
}

TEST_F(CommandsTest, EveryVerbHasAHelpLine) {
  for (const Verb& v : commands.verbs()) {
    EXPECT_EQ(v.help.rfind(v.name, 0), 0u) << v.name << ": " << v.help;
    EXPECT_TRUE(v.handler) << v.name;
  }
  EXPECT_TRUE(commands.find("status")->read_only);
  EXPECT_TRUE(commands.find("wait")->read_only);
  EXPECT_TRUE(commands.find("version")->read_only);
  EXPECT_TRUE(commands.find("logs")->read_only);
  EXPECT_FALSE(commands.find("stop")->read_only);
  EXPECT_FALSE(commands.find("reload")->read_only);
  EXPECT_FALSE(commands.find("shutdown")->read_only);
}

TEST_F(CommandsTest, ReadersMayReadButNotControl) {
  EXPECT_TRUE(call("status", json::object(), Access::read).result);
  EXPECT_TRUE(call("version", json::object(), Access::read).result);
  auto& stop = call("stop", {{"names", {"web"}}}, Access::read);
  ASSERT_TRUE(stop.error);
  EXPECT_EQ(stop.error->code, ErrorCode::permission_denied);
  EXPECT_NE(stop.error->message.find("stop needs control access"), std::string::npos)
      << stop.error->message;
  EXPECT_TRUE(target.calls.empty());
  auto& none = call("version", json::object(), Access::none);
  ASSERT_TRUE(none.error);
  EXPECT_EQ(none.error->code, ErrorCode::permission_denied);
}

TEST_F(CommandsTest, StatusListsEveryInstanceInOrder) {
  auto& r = call("status");
  ASSERT_TRUE(r.result);
  const json& list = r.result->at("instances");
  EXPECT_EQ(names_in(list),
            (std::vector<std::string>{"db", "web.0", "web.1", "web.2", "worker.0", "worker.1"}));
  EXPECT_EQ(list[1], protocol::to_json(*target.find("web.0")));
}

// Counting an instance's processes walks /proc: only a status that asks for it pays for it.
TEST_F(CommandsTest, StatusCountsProcessesOnlyWhenAsked) {
  auto& plain = call("status", {{"names", {"db"}}});
  ASSERT_TRUE(plain.result);
  EXPECT_TRUE(plain.result->at("instances")[0].at("processes").is_null());
  auto& counted = call("status", {{"names", {"web", "worker.0"}}, {"processes", true}});
  ASSERT_TRUE(counted.result) << counted.error->message;
  const json& list = counted.result->at("instances");
  EXPECT_EQ(names_in(list), (std::vector<std::string>{"web.0", "web.1", "web.2", "worker.0"}));
  EXPECT_EQ(list[0].at("processes"), 1);
  EXPECT_EQ(list[3].at("processes"), 0);
  auto& wrong = call("status", {{"processes", "yes"}});
  ASSERT_TRUE(wrong.error);
  EXPECT_EQ(wrong.error->code, ErrorCode::bad_request);
}

TEST_F(CommandsTest, StatusSelectsByProgramInstanceGlobAndAll) {
  auto names_of = [&](std::vector<std::string> names) {
    auto& r = call("status", {{"names", names}});
    EXPECT_TRUE(r.result) << (r.error ? r.error->message : "");
    return r.result ? names_in(r.result->at("instances")) : std::vector<std::string>{};
  };
  EXPECT_EQ(names_of({"web"}), (std::vector<std::string>{"web.0", "web.1", "web.2"}));
  EXPECT_EQ(names_of({"web.1", "db"}), (std::vector<std::string>{"db", "web.1"}));
  EXPECT_EQ(names_of({"w*"}),
            (std::vector<std::string>{"web.0", "web.1", "web.2", "worker.0", "worker.1"}));
  EXPECT_EQ(names_of({"web.[02]", "web.0"}), (std::vector<std::string>{"web.0", "web.2"}));
  EXPECT_EQ(names_of({"all"}).size(), 6u);
}

TEST_F(CommandsTest, UnknownNamesAreNamed) {
  auto& r = call("status", {{"names", {"web", "nope", "x*"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::unknown_program);
  EXPECT_NE(r.error->message.find("\"nope\""), std::string::npos) << r.error->message;
  EXPECT_NE(r.error->message.find("\"x*\""), std::string::npos) << r.error->message;
  EXPECT_EQ(r.error->details.at("unknown"), json({"nope", "x*"}));

  auto& stop = call("stop", {{"names", {"nope"}}});
  ASSERT_TRUE(stop.error);
  EXPECT_EQ(stop.error->code, ErrorCode::unknown_program);
  EXPECT_TRUE(target.calls.empty());
}

TEST_F(CommandsTest, ArgumentsAreChecked) {
  struct Case {
    std::string cmd;
    json args;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"stop", json::object(), "stop needs at least one NAME"},
      {"stop", {{"names", json::array()}}, "stop needs at least one NAME"},
      {"stop", {{"names", "web"}}, "\"names\" of stop must be an array of strings"},
      {"stop", {{"names", {"web", 3}}}, "must be an array of non-empty strings"},
      {"stop", {{"names", {""}}}, "must be an array of non-empty strings"},
      {"stop", {{"names", {"web"}}, {"wait", "yes"}}, "\"wait\" of stop must be true or false"},
      {"stop",
       {{"names", {"web"}}, {"timeout_ms", -1}},
       "\"timeout_ms\" of stop must be a whole number"},
      {"stop", {{"names", {"web"}}, {"timeout_ms", 1.5}}, "\"timeout_ms\""},
      {"stop",
       {{"names", {"web"}}, {"timeout", 1}},
       "unknown argument \"timeout\" for stop (arguments: names, wait, timeout_ms)"},
      {"version", {{"x", 1}}, "unknown argument \"x\" for version (it takes none)"},
      {"wait", {{"names", {"web"}}}, "wait needs the argument \"for\""},
      {"wait", {{"names", {"web"}}, {"for", "sleeping"}}, "not a state: \"sleeping\""},
      {"signal", {{"names", {"web"}}}, "signal needs the argument \"signal\""},
      {"signal", {{"names", {"web"}}, {"signal", "NOPE"}}, "unknown signal \"NOPE\""},
      {"signal", {{"names", {"web"}}, {"signal", 999}}, "unknown signal \"999\""},
      {"signal", {{"names", {"web"}}, {"signal", true}}, "must be a signal name or number"},
      {"pid", {{"name", 3}}, "\"name\" of pid must be a string"},
      {"reload", {{"dry_run", 1}}, "\"dry_run\" of reload must be true or false"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cmd + " " + c.args.dump());
    auto& r = call(c.cmd, c.args);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, ErrorCode::bad_request);
    EXPECT_NE(r.error->message.find(c.message_part), std::string::npos) << r.error->message;
  }
  EXPECT_TRUE(target.calls.empty());
}

TEST_F(CommandsTest, StartWaitsAndStreamsOneLinePerInstance) {
  auto& r = call("start", {{"names", {"worker"}}});
  EXPECT_EQ(target.calls, std::vector<std::string>{"start"});
  ASSERT_FALSE(r.done());
  ASSERT_TRUE(r.kept);
  EXPECT_TRUE(r.lines.empty());

  target.set_state("worker.1", State::running);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].at("name"), "worker.1");
  EXPECT_EQ(r.lines[0].at("state"), "running");
  EXPECT_EQ(r.lines[0].at("ok"), true);
  EXPECT_FALSE(r.done());

  target.set_state("worker.0", State::running);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(names_in(r.result->at("instances")),
            (std::vector<std::string>{"worker.0", "worker.1"}));
  EXPECT_EQ(target.state_changes().listener_count(), 0u);  // unsubscribed when done
}

TEST_F(CommandsTest, StartOfARunningInstanceAnswersAtOnce) {
  auto& r = call("start", {{"names", {"db"}}});
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(r.kept);
  EXPECT_EQ(r.result->at("instances")[0].at("info"), "already running");
}

TEST_F(CommandsTest, AFailedStartIsAFailure) {
  auto& r = call("start", {{"names", {"worker"}}});
  target.set_state("worker.0", State::running);
  target.set_state("worker.1", State::backoff, "exit code 1, retry in 1s");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
  EXPECT_NE(r.error->message.find(
                "1 of 2 instances did not start: worker.1 (backoff: exit code 1, retry in 1s)"),
            std::string::npos)
      << r.error->message;
  EXPECT_EQ(r.error->details.at("instances").size(), 2u);
  EXPECT_EQ(r.lines.size(), 2u);
}

TEST_F(CommandsTest, ASpawnFailureInsideTheCallIsAFailure) {
  target.spawn_fails = true;
  auto& r = call("start", {{"names", {"worker.0"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
  EXPECT_NE(r.error->message.find("exec /nope"), std::string::npos) << r.error->message;
}

TEST_F(CommandsTest, RefusedInstancesFailWithTheTargetsReason) {
  target.refuse = "worker.1";
  auto& r = call("start", {{"names", {"worker"}}});
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].at("info"), "refused by the fake");
  target.set_state("worker.0", State::running);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
}

TEST_F(CommandsTest, RestartCountsOnlyARunAfterTheRestart) {
  auto& r = call("restart", {{"names", {"db"}}});
  EXPECT_FALSE(r.done());  // db was running: that is not the restart's "running"
  target.set_state("db", State::stopped);
  EXPECT_FALSE(r.done());  // the stop half of a restart is not a failure
  target.set_state("db", State::starting);
  target.set_state("db", State::running);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("instances")[0].at("state"), "running");
}

TEST_F(CommandsTest, StopWaitsForNoProcess) {
  auto& r = call("stop", {{"names", {"web.0", "web.1"}}});
  EXPECT_FALSE(r.done());
  target.set_state("web.0", State::stopped);
  target.set_state("web.1", State::exited, "exit code 0");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.lines.size(), 2u);

  target.stop_is_instant = true;
  auto& instant = call("stop", {{"names", {"web.2"}}});
  ASSERT_TRUE(instant.result);
  EXPECT_FALSE(instant.kept);
}

TEST_F(CommandsTest, NoWaitAnswersWithTheStatesRightAfterTheAction) {
  auto& r = call("stop", {{"names", {"web"}}, {"wait", false}});
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.lines.empty());
  for (const json& item : r.result->at("instances")) EXPECT_EQ(item.at("state"), "stopping");

  target.refuse = "worker.0";
  auto& refused = call("start", {{"names", {"worker"}}, {"wait", false}});
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->code, ErrorCode::failed);
}

TEST_F(CommandsTest, WaitTimesOutAndLetsGo) {
  auto& r = call("wait", {{"names", {"web.0", "db"}}, {"for", "stopped"}, {"timeout_ms", 50}});
  target.set_state("web.0", State::stopped);
  EXPECT_EQ(r.lines.size(), 1u);
  ASSERT_TRUE(run_until([&] { return r.done(); }));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::timeout);
  EXPECT_NE(r.error->message.find("timed out after 50ms waiting for db (running)"),
            std::string::npos)
      << r.error->message;
  EXPECT_EQ(target.state_changes().listener_count(), 0u);
}

TEST_F(CommandsTest, WaitForReadyWantsRunningAndReady) {
  target.not_ready = true;
  target.set_state("web.1", State::running);  // running, its readiness not passed yet
  auto& r = call("wait", {{"names", {"web"}}, {"for", "ready"}}, Access::read);
  EXPECT_EQ(r.lines.size(), 2u) << "web.0 and web.2 are ready already";
  ASSERT_FALSE(r.done());
  target.set_ready("web.1", true);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(names_in(r.result->at("instances")),
            (std::vector<std::string>{"web.0", "web.1", "web.2"}));

  // `all` with a stopped instance: never ready, so it times out naming it.
  auto& all = call("wait", {{"names", {"all"}}, {"for", "ready"}, {"timeout_ms", 20}});
  ASSERT_TRUE(run_until([&] { return all.done(); }));
  ASSERT_TRUE(all.error);
  EXPECT_EQ(all.error->code, ErrorCode::timeout);
  EXPECT_NE(all.error->message.find("worker.0 (stopped)"), std::string::npos) << all.error->message;

  auto& bad = call("wait", {{"names", {"web"}}, {"for", "readyish"}});
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->code, ErrorCode::bad_request);
  EXPECT_NE(bad.error->message.find("; or ready)"), std::string::npos) << bad.error->message;
}

TEST_F(CommandsTest, StartWaitsUntilReadyNotOnlyRunning) {
  target.not_ready = true;
  auto& r = call("start", {{"names", {"worker.0"}}});
  target.set_state("worker.0", State::running);
  EXPECT_FALSE(r.done()) << "running but not ready yet";
  target.set_ready("worker.0", true);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("instances")[0].at("ok"), true);
}

TEST_F(CommandsTest, ATimedOutStartSaysWhatEachInstanceStillWaitsFor) {
  target.start_waits_for = "db (fatal)";
  auto& r = call("start", {{"names", {"worker.0"}}, {"timeout_ms", 20}});
  target.start_waits_for.clear();
  auto& other = call("start", {{"names", {"worker.1"}}, {"timeout_ms", 20}});
  ASSERT_TRUE(run_until([&] { return other.done(); }));
  ASSERT_TRUE(other.error);
  EXPECT_EQ(other.error->details.at("instances")[0].at("info"), "timed out")
      << "nothing more to say of a starting instance";
  ASSERT_TRUE(run_until([&] { return r.done(); }));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::timeout);
  const json& items = r.error->details.at("instances");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("info"), "timed out: waiting for db (fatal)");
  EXPECT_NE(r.error->message.find("timed out after 20ms waiting for worker.0 (stopped)"),
            std::string::npos)
      << r.error->message;
}

TEST_F(CommandsTest, WaitForAStateAlreadyReachedAnswersAtOnce) {
  auto& r = call("wait", {{"names", {"worker"}}, {"for", "stopped"}}, Access::read);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.lines.size(), 2u);
}

TEST_F(CommandsTest, WaitFailsForARemovedInstance) {
  auto& r = call("wait", {{"names", {"worker.1"}}, {"for", "running"}});
  target.remove("worker.1");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
  EXPECT_NE(r.error->message.find("removed by a reload"), std::string::npos) << r.error->message;
}

TEST_F(CommandsTest, AClientLeavingMidWaitUnsubscribes) {
  auto& r = call("wait", {{"names", {"web"}}, {"for", "fatal"}});
  EXPECT_EQ(target.state_changes().listener_count(), 1u);
  r.disconnect();
  EXPECT_EQ(target.state_changes().listener_count(), 0u);
  target.set_state("web.0", State::fatal);  // nothing left to call
}

TEST_F(CommandsTest, SignalReportsPerInstance) {
  auto& r = call("signal", {{"signal", "HUP"}, {"names", {"web"}}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(target.calls, std::vector<std::string>{"signal 1"});
  auto& by_number = call("signal", {{"signal", 10}, {"names", {"db"}}});
  EXPECT_TRUE(by_number.result);
  auto& stopped = call("signal", {{"signal", "SIGTERM"}, {"names", {"worker.0", "db"}}});
  ASSERT_TRUE(stopped.error);
  EXPECT_EQ(stopped.error->code, ErrorCode::failed);
  EXPECT_NE(
      stopped.error->message.find("could not be sent SIGTERM: worker.0 (stopped: not running)"),
      std::string::npos)
      << stopped.error->message;
}

TEST_F(CommandsTest, PidOfInstances) {
  auto& r = call("pid", {{"name", "w*"}}, Access::read);
  ASSERT_TRUE(r.result);
  const json& list = r.result->at("instances");
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0].at("pid"), *target.find("web.0")->pid);
  EXPECT_TRUE(list[3].at("pid").is_null());
  auto& unknown = call("pid", {{"name", "nope"}});
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->code, ErrorCode::unknown_program);
}

TEST_F(CommandsTest, ReloadAnswersThePlanOrTheDiagnostics) {
  protocol::ReloadPlan plan;
  plan.added = {"new"};
  plan.unchanged = {"db"};
  target.reload_outcome =
      ReloadOutcome{plan, {{Diagnostic::Severity::warning, "g.toml", 3, 1, "x", "odd"}}};
  auto& r = call("reload", {{"dry_run", true}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("dry_run"), true);
  EXPECT_EQ(r.result->at("plan"), protocol::to_json(plan));
  EXPECT_EQ(r.result->at("warnings"), json({"g.toml:3:1: warning: x: odd"}));
  EXPECT_EQ(target.calls.back(), "reload dry-run");

  target.reload_outcome = ReloadOutcome{
      std::nullopt,
      {{Diagnostic::Severity::error, "g.toml", 7, 12, "program.web.stop-timeout", "not a duration"},
       {Diagnostic::Severity::error, "g.toml", 9, 1, "", "unknown key"}}};
  auto& bad = call("reload");
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->code, ErrorCode::invalid_config);
  EXPECT_EQ(bad.error->message, "the new config has 2 errors; nothing was changed");
  EXPECT_EQ(
      bad.error->details.at("diagnostics"),
      json({"g.toml:7:12: program.web.stop-timeout: not a duration", "g.toml:9:1: unknown key"}));
}

TEST_F(CommandsTest, ReloadOfNamesWaitsForTheReadyAfterTheSignal) {
  target.speaks_notify = {"web"};
  auto& r = call("reload", {{"names", {"web.0", "db"}}, {"timeout_ms", 5000}});
  // In display order, as every verb selects.
  EXPECT_EQ(target.calls, (std::vector<std::string>{"reload db", "reload web.0"}));
  ASSERT_FALSE(r.done()) << "web.0 speaks notify: done at its READY=1";
  ASSERT_EQ(r.lines.size(), 1u) << "db has no readiness protocol: answered at once";
  EXPECT_EQ(r.lines[0].at("name"), "db");
  EXPECT_EQ(r.lines[0].at("info"), "SIGHUP sent; no readiness protocol to wait for");
  target.notify("web.0", StateChange::Notice::reloading);
  EXPECT_FALSE(r.done()) << "RELOADING=1 is the start of the reload, not its end";
  target.set_ready("web.0", true);  // another published status is not a READY=1 either
  EXPECT_FALSE(r.done());
  target.notify("web.1", StateChange::Notice::ready);
  EXPECT_FALSE(r.done()) << "another instance's READY=1";
  target.notify("web.0", StateChange::Notice::ready);
  ASSERT_TRUE(r.result);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1].at("name"), "web.0");
  EXPECT_EQ(r.lines[1].at("ok"), true);
  EXPECT_EQ(r.lines[1].at("info"), "reloaded (SIGHUP sent, then READY=1)");
  EXPECT_EQ(names_in(r.result->at("instances")), (std::vector<std::string>{"db", "web.0"}));
  EXPECT_EQ(target.calls.size(), 2u) << "a reload of names never re-reads the config";
}

TEST_F(CommandsTest, AReadyWithoutReloadingEndsAReloadToo) {
  target.speaks_notify = {"web"};
  auto& r = call("reload", {{"names", {"web"}}});
  EXPECT_FALSE(r.done());
  target.notify("web.1", StateChange::Notice::ready);
  target.notify("web.0", StateChange::Notice::ready);
  EXPECT_FALSE(r.done());
  target.notify("web.2", StateChange::Notice::ready);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.lines.size(), 3u);
}

TEST_F(CommandsTest, AnInstanceThatExitsDuringItsReloadFailsIt) {
  target.speaks_notify = {"web", "db"};
  auto& r = call("reload", {{"names", {"web.0", "db"}}});
  target.notify("web.0", StateChange::Notice::reloading);
  target.set_state("web.0", State::exited, "exit code 1");
  EXPECT_FALSE(r.done());
  target.set_state("db", State::stopping);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
  EXPECT_EQ(r.error->message,
            "2 of 2 instances did not reload: db began to stop during its reload, web.0 exited "
            "during its reload: exit code 1");
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].at("name"), "web.0");
  EXPECT_EQ(r.lines[0].at("state"), "exited");
  EXPECT_EQ(r.lines[0].at("ok"), false);
}

TEST_F(CommandsTest, ARestartDuringAReloadFailsIt) {
  target.speaks_notify = {"web"};
  auto& r = call("reload", {{"names", {"web.0"}}});
  target.set_state("web.0", State::starting);  // what a crash with restart = always looks like
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "1 of 1 instance did not reload: web.0 restarted during its reload");
}

TEST_F(CommandsTest, AnInstanceNotRunningHasNothingToReload) {
  auto& r = call("reload", {{"names", {"worker.0", "db"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::failed);
  EXPECT_EQ(r.error->message,
            "1 of 2 instances did not reload: worker.0 is stopped: nothing to reload");
  const json& list = r.error->details.at("instances");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("name"), "db");
  EXPECT_EQ(list[0].at("ok"), true) << "db got its signal all the same";
  EXPECT_EQ(list[1].at("ok"), false);
}

TEST_F(CommandsTest, AReloadWithoutItsReadyTimesOut) {
  target.speaks_notify = {"web"};
  auto& r = call("reload", {{"names", {"web.0"}}, {"timeout_ms", 30}});
  target.notify("web.0", StateChange::Notice::reloading);
  ASSERT_TRUE(run_until([&] { return r.done(); }));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::timeout);
  EXPECT_EQ(r.error->message, "timed out after 30ms waiting for web.0 (running)");
  const json& list = r.error->details.at("instances");
  EXPECT_EQ(list[0].at("info"), "timed out: SIGHUP sent, RELOADING=1, no READY=1 since");
  EXPECT_EQ(target.find("web.0")->state, State::running) << "a timeout only stops the waiting";
}

TEST_F(CommandsTest, ReloadWithNoWaitAnswersOnceSignalled) {
  target.speaks_notify = {"web"};
  auto& r = call("reload", {{"names", {"web.1"}}, {"wait", false}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("instances")[0].at("info"), "SIGHUP sent");
  EXPECT_EQ(target.state_changes().listener_count(), 0u);
}

TEST_F(CommandsTest, ReloadArgumentsOfTheOtherFormAreRefusedPlainly) {
  auto& dry = call("reload", {{"names", {"web"}}, {"dry_run", true}});
  ASSERT_TRUE(dry.error);
  EXPECT_EQ(dry.error->code, ErrorCode::bad_request);
  EXPECT_EQ(dry.error->message,
            "argument \"dry_run\" of reload is for the config reload, without \"names\"");
  auto& timeout = call("reload", {{"timeout_ms", 100}});
  ASSERT_TRUE(timeout.error);
  EXPECT_EQ(timeout.error->message,
            "argument \"timeout_ms\" of reload needs \"names\" (without names, reload "
            "re-reads the config)");
  auto& empty = call("reload", {{"names", json::array()}});
  ASSERT_TRUE(empty.error);
  EXPECT_NE(empty.error->message.find("reload needs at least one NAME"), std::string::npos);
  auto& unknown = call("reload", {{"names", {"nope"}}});
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->code, ErrorCode::unknown_program);
  EXPECT_TRUE(target.calls.empty()) << "nothing reloaded, nothing re-read";
}

TEST_F(CommandsTest, ReloadOfNamesIsRefusedDuringAShutdown) {
  target.shutting_down_ = true;
  auto& r = call("reload", {{"names", {"web"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::shutting_down);
  EXPECT_TRUE(target.calls.empty());
}

TEST_F(CommandsTest, NoticesLeaveTheOtherWaitsAsTheyWere) {
  target.add("kv", 1, State::stopped);
  target.auto_run = false;
  auto& r = call("start", {{"names", {"kv"}}});
  target.notify("kv", StateChange::Notice::ready);  // not running: no reload to end
  EXPECT_FALSE(r.done());
  target.set_state("kv", State::running);
  EXPECT_TRUE(r.result);
}

TEST_F(CommandsTest, ShutdownAnswersAndLingers) {
  auto& r = call("shutdown");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("pid"), ::getpid());
  EXPECT_TRUE(r.lingering);
  EXPECT_EQ(target.calls, std::vector<std::string>{"shutdown"});

  auto& start = call("start", {{"names", {"worker"}}});
  ASSERT_TRUE(start.error);
  EXPECT_EQ(start.error->code, ErrorCode::shutting_down);
  auto& reload = call("reload");
  ASSERT_TRUE(reload.error);
  EXPECT_EQ(reload.error->code, ErrorCode::shutting_down);
  target.stop_is_instant = true;
  EXPECT_TRUE(call("stop", {{"names", {"db"}}}).result);  // stopping stays possible
}

TEST_F(CommandsTest, LogsAreNotAvailableYet) {
  auto& r = call("logs", {{"names", {"web"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::unavailable);
}

TEST_F(CommandsTest, AThrowingHandlerBecomesAnInternalError) {
  commands.add({"boom", true, "boom: throws",
                [](const protocol::Request&, Responder&) { throw std::runtime_error("kaboom"); }});
  auto& r = call("boom");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::internal);
  EXPECT_NE(r.error->message.find("kaboom"), std::string::npos);

  commands.add({"version", true, "version: replaced",
                [](const protocol::Request&, Responder& out) { out.reply("replaced"); }});
  EXPECT_EQ(*call("version").result, "replaced");
}

// ---- Tasks: run, jobs, cancel, schedules ----

namespace {

using protocol::JobOutcome;

class JobCommandsTest : public CommandsTest {
 protected:
  JobCommandsTest() {
    target.add_task("migrate");
    target.add_task("backup", "*/15 * * * *");
  }
  static std::vector<std::string> ids_in(const json& list) {
    std::vector<std::string> out;
    for (const json& item : list) out.push_back(item.at("id").get<std::string>());
    return out;
  }
};

}  // namespace

TEST_F(JobCommandsTest, RunQueuesOneRunAndAnswersItsRecord) {
  auto& r = call("run", {{"task", "migrate"}, {"args", {"--to", "v3"}}});
  ASSERT_TRUE(r.result) << r.error->message;
  const json& job = r.result->at("job");
  EXPECT_EQ(job.at("id"), "migrate#1");
  EXPECT_EQ(job.at("state"), "running");
  EXPECT_EQ(job.at("source"), "ctl");
  EXPECT_EQ(job.at("uid"), 1000) << "the submitter is the peer";
  EXPECT_EQ(job.at("args"), json({"--to", "v3"}));
  EXPECT_TRUE(r.lines.empty()) << "without wait, one answer";
  EXPECT_EQ(target.calls, (std::vector<std::string>{"run migrate"}));
}

TEST_F(JobCommandsTest, RunWaitSendsTheIdThenFollowsTheRunToItsEnd) {
  target.runs_at_once = false;
  auto& r = call("run", {{"task", "migrate"}, {"wait", true}});
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].at("job").at("id"), "migrate#1");
  EXPECT_EQ(r.lines[0].at("job").at("state"), "queued");
  ASSERT_FALSE(r.done());
  ASSERT_TRUE(r.kept);

  call("run", {{"task", "migrate"}});  // another run of the same task: not the one followed
  target.start_run("migrate#2");
  target.finish_run("migrate#2", JobOutcome::succeeded);
  target.start_run("migrate#1");
  EXPECT_FALSE(r.done());
  target.finish_run("migrate#1", JobOutcome::failed, 3);
  ASSERT_TRUE(r.result);
  const json& job = r.result->at("job");
  EXPECT_EQ(job.at("id"), "migrate#1");
  EXPECT_EQ(job.at("state"), "finished");
  EXPECT_EQ(job.at("outcome"), "failed");
  EXPECT_EQ(job.at("exit_code"), 3);
  EXPECT_EQ(r.lines.size(), 1u);
}

TEST_F(JobCommandsTest, RunWaitThatEndsInsideTheSubmissionAnswersAtOnce) {
  auto subscription = target.state_changes().subscribe([this](const StateChange& change) {
    if (change.job && change.job->state == protocol::JobState::running)
      target.finish_run(change.job->id, JobOutcome::failed_to_start, std::nullopt);
  });
  auto& r = call("run", {{"task", "migrate"}, {"wait", true}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->at("job").at("outcome"), "failed to start");
  EXPECT_FALSE(r.kept);
}

TEST_F(JobCommandsTest, RunWaitTimeoutAnswersTheRecordAndTheRunGoesOn) {
  target.runs_at_once = false;
  auto& r = call("run", {{"task", "migrate"}, {"wait", true}, {"timeout_ms", 20}});
  target.start_run("migrate#1");
  ASSERT_TRUE(run_until([&] { return r.done(); }));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::timeout);
  EXPECT_NE(r.error->message.find("migrate#1 (running); the run goes on"), std::string::npos)
      << r.error->message;
  EXPECT_EQ(r.error->details.at("job").at("state"), "running");
  EXPECT_EQ(target.calls, (std::vector<std::string>{"run migrate"})) << "nothing cancelled";
  target.finish_run("migrate#1", JobOutcome::succeeded);  // reaches no one
  EXPECT_EQ(r.error->code, ErrorCode::timeout);
}

TEST_F(JobCommandsTest, RunWaitStopsFollowingWhenTheClientLeaves) {
  target.runs_at_once = false;
  auto& r = call("run", {{"task", "migrate"}, {"wait", true}});
  ASSERT_TRUE(r.kept);
  r.disconnect();
  target.start_run("migrate#1");
  target.finish_run("migrate#1", JobOutcome::succeeded);
  EXPECT_FALSE(r.done());
}

TEST_F(JobCommandsTest, RunRefusalsSayWhy) {
  struct Case {
    json args;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {json::object(), ErrorCode::bad_request, "run needs the argument \"task\""},
      {{{"task", 3}}, ErrorCode::bad_request, "argument \"task\" of run must be a string"},
      {{{"task", "migrate"}, {"args", "--to v3"}},
       ErrorCode::bad_request,
       "argument \"args\" of run must be an array of strings"},
      {{{"task", "migrate"}, {"args", {"a", 1}}},
       ErrorCode::bad_request,
       "argument \"args\" of run must be an array of strings"},
      {{{"task", "migrate"}, {"timeout_ms", 100}},
       ErrorCode::bad_request,
       "\"timeout_ms\" of run is for waiting"},
      {{{"task", "migrate"}, {"wait", "yes"}}, ErrorCode::bad_request, "\"wait\""},
      {{{"task", "migrate"}, {"priority", 1}}, ErrorCode::bad_request, "unknown argument"},
      {{{"task", "migrat"}}, ErrorCode::unknown_program, "unknown task \"migrat\""},
      {{{"task", "web"}}, ErrorCode::unknown_program, "unknown task \"web\""},
  };
  for (const Case& c : cases) {
    auto& r = call("run", c.args);
    ASSERT_TRUE(r.error) << c.args.dump();
    EXPECT_EQ(r.error->code, c.code) << c.args.dump();
    EXPECT_NE(r.error->message.find(c.message), std::string::npos) << r.error->message;
  }
  target.queue_full = true;
  auto& full = call("run", {{"task", "migrate"}});
  ASSERT_TRUE(full.error);
  EXPECT_EQ(full.error->code, ErrorCode::failed);
  EXPECT_NE(full.error->message.find("queue is full"), std::string::npos);
  target.queue_full = false;

  target.shutting_down_ = true;
  auto& late = call("run", {{"task", "migrate"}});
  ASSERT_TRUE(late.error);
  EXPECT_EQ(late.error->code, ErrorCode::shutting_down);
}

TEST_F(JobCommandsTest, RunWithoutPeerCredentialsIsRefused) {
  RecordingResponder r;
  r.uid = std::nullopt;
  commands.dispatch({1, "run", {{"task", "migrate"}}}, Access::control, r);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::internal);
  EXPECT_TRUE(target.calls.empty());
}

TEST_F(JobCommandsTest, JobsListsQueuedRunsUpToItsLimitAndCountsTheRest) {
  target.runs_at_once = false;
  for (int i = 0; i < 5; ++i) call("run", {{"task", "migrate"}});
  auto& some = call("jobs", {{"queued_limit", 2}}, Access::read);
  ASSERT_TRUE(some.result) << some.error->message;
  EXPECT_EQ(ids_in(some.result->at("jobs")), (std::vector<std::string>{"migrate#1", "migrate#2"}));
  EXPECT_EQ(some.result->at("unlisted_queued"), 3);
  auto& bad = call("jobs", {{"queued_limit", -1}}, Access::read);
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->code, ErrorCode::bad_request);
}

TEST_F(JobCommandsTest, JobsListsByTaskOrById) {
  call("run", {{"task", "migrate"}});
  call("run", {{"task", "backup"}});
  target.finish_run("migrate#1", JobOutcome::succeeded);
  call("run", {{"task", "migrate"}});

  auto& all = call("jobs", json::object(), Access::read);
  ASSERT_TRUE(all.result) << all.error->message;
  EXPECT_EQ(ids_in(all.result->at("jobs")),
            (std::vector<std::string>{"migrate#1", "backup#1", "migrate#2"}))
      << "in the target's order";
  EXPECT_EQ(all.result->at("unlisted_queued"), 0);
  auto& one_task = call("jobs", {{"task", "migrate"}}, Access::read);
  ASSERT_TRUE(one_task.result);
  EXPECT_EQ(ids_in(one_task.result->at("jobs")),
            (std::vector<std::string>{"migrate#1", "migrate#2"}));
  EXPECT_EQ(one_task.result->at("jobs")[0].at("outcome"), "succeeded");
  auto& by_id = call("jobs", {{"id", "backup#1"}}, Access::read);
  ASSERT_TRUE(by_id.result);
  EXPECT_EQ(ids_in(by_id.result->at("jobs")), (std::vector<std::string>{"backup#1"}));

  auto& typo = call("jobs", {{"task", "migrat"}});
  ASSERT_TRUE(typo.error);
  EXPECT_EQ(typo.error->code, ErrorCode::unknown_program);
  EXPECT_NE(typo.error->message.find("unknown task \"migrat\" (did you mean \"migrate\"?)"),
            std::string::npos)
      << typo.error->message;
  EXPECT_EQ(typo.error->details.at("unknown"), json::array({"migrat"}));
  auto& program = call("jobs", {{"task", "web"}});
  ASSERT_TRUE(program.error) << "a program is not a task";
  EXPECT_EQ(program.error->code, ErrorCode::unknown_program);
  auto& gone = call("jobs", {{"id", "migrate#9"}});
  ASSERT_TRUE(gone.error);
  EXPECT_EQ(gone.error->code, ErrorCode::unknown_program);
  EXPECT_NE(gone.error->message.find("unknown run \"migrate#9\""), std::string::npos);
  auto& mismatch = call("jobs", {{"id", "backup#1"}, {"task", "migrate"}});
  ASSERT_TRUE(mismatch.error);
  auto& bad = call("jobs", {{"task", 1}});
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->code, ErrorCode::bad_request);
}

TEST_F(JobCommandsTest, CancelEndsRunsByIdOrTask) {
  target.runs_at_once = false;
  call("run", {{"task", "migrate"}});
  call("run", {{"task", "migrate"}});
  call("run", {{"task", "backup"}});
  target.start_run("migrate#1");

  auto& one = call("cancel", {{"target", "backup#1"}});
  ASSERT_TRUE(one.result) << one.error->message;
  EXPECT_EQ(ids_in(one.result->at("jobs")), (std::vector<std::string>{"backup#1"}));
  EXPECT_EQ(one.result->at("jobs")[0].at("outcome"), "cancelled");

  auto& task = call("cancel", {{"target", "migrate"}});
  ASSERT_TRUE(task.result) << task.error->message;
  EXPECT_EQ(ids_in(task.result->at("jobs")), (std::vector<std::string>{"migrate#1", "migrate#2"}));

  auto& again = call("cancel", {{"target", "migrate#1"}});
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->code, ErrorCode::failed);
  auto& unknown = call("cancel", {{"target", "nope#3"}});
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->code, ErrorCode::unknown_program);
  for (json args : {json::object(), json{{"target", ""}}, json{{"target", 5}}}) {
    auto& bad = call("cancel", args);
    ASSERT_TRUE(bad.error) << args.dump();
    EXPECT_EQ(bad.error->code, ErrorCode::bad_request) << args.dump();
  }
  target.shutting_down_ = true;
  EXPECT_FALSE(call("cancel", {{"target", "migrate"}}).error->code == ErrorCode::shutting_down)
      << "a cancel only ends work: it is taken during a shutdown";
}

TEST_F(JobCommandsTest, SchedulesListTheNextFires) {
  auto& r = call("schedules", json::object(), Access::read);
  ASSERT_TRUE(r.result) << r.error->message;
  const json& list = r.result->at("schedules");
  ASSERT_EQ(list.size(), 1u) << "only tasks with a schedule";
  EXPECT_EQ(list[0].at("task"), "backup");
  EXPECT_EQ(list[0].at("schedule"), "*/15 * * * *");
  EXPECT_EQ(list[0].at("next_ms").size(), 5u) << "five by default";

  auto& two = call("schedules", {{"task", "backup"}, {"count", 2}});
  ASSERT_TRUE(two.result);
  EXPECT_EQ(two.result->at("schedules")[0].at("next_ms").size(), 2u);
  auto& none = call("schedules", {{"task", "migrate"}});
  ASSERT_TRUE(none.result);
  EXPECT_TRUE(none.result->at("schedules").empty());

  // As a client's line reads: the parser makes non-negative numbers unsigned.
  for (json count : {json::parse("0"), json::parse("101"), json::parse("-1"),
                     json::parse("18446744073709551615"), json(2.5), json("3")}) {
    auto& bad = call("schedules", {{"count", count}});
    ASSERT_TRUE(bad.error) << count.dump();
    EXPECT_EQ(bad.error->code, ErrorCode::bad_request);
    EXPECT_NE(
        bad.error->message.find("\"count\" of schedules must be a whole number from 1 to 100"),
        std::string::npos)
        << bad.error->message;
  }
  auto& unknown = call("schedules", {{"task", "bakup"}});
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->code, ErrorCode::unknown_program);
}

TEST_F(JobCommandsTest, ReadersMayListRunsButNeverRunOrCancel) {
  call("run", {{"task", "migrate"}});
  target.calls.clear();
  EXPECT_TRUE(call("jobs", json::object(), Access::read).result);
  EXPECT_TRUE(call("schedules", json::object(), Access::read).result);
  for (const char* verb : {"run", "cancel"}) {
    auto& r = call(verb, {{"task", "migrate"}, {"target", "migrate"}}, Access::read);
    ASSERT_TRUE(r.error) << verb;
    EXPECT_EQ(r.error->code, ErrorCode::permission_denied) << verb;
  }
  EXPECT_TRUE(target.calls.empty());
}

TEST_F(JobCommandsTest, RunsAreInstancesForStatusAndOtherWaitsIgnoreJobChanges) {
  target.runs_at_once = false;
  auto& waiting = call("wait", {{"names", {"db"}}, {"for", "stopped"}});
  call("run", {{"task", "migrate"}});
  target.start_run("migrate#1");
  EXPECT_FALSE(waiting.done()) << "a job's change is not db's";

  auto& by_id = call("status", {{"names", {"migrate#1"}}});
  ASSERT_TRUE(by_id.result) << by_id.error->message;
  ASSERT_EQ(by_id.result->at("instances").size(), 1u);
  EXPECT_EQ(by_id.result->at("instances")[0].at("kind"), "run");
  auto& by_task = call("status", {{"names", {"migrate"}}});
  ASSERT_TRUE(by_task.result);
  EXPECT_EQ(names_in(by_task.result->at("instances")),
            (std::vector<std::string>{"migrate", "migrate#1"}))
      << "a task's runs are listed under it";
}

TEST_F(JobCommandsTest, ProgramVerbsPassOverTasksAndRefuseThemByName) {
  call("run", {{"task", "migrate"}});
  target.calls.clear();
  auto& all = call("stop", {{"names", {"all"}}, {"wait", false}});
  ASSERT_TRUE(all.result) << all.error->message;
  EXPECT_EQ(names_in(all.result->at("instances")),
            (std::vector<std::string>{"db", "web.0", "web.1", "web.2", "worker.0", "worker.1"}));
  for (const char* verb : {"start", "stop", "restart", "wait", "reload"}) {
    json args = {{"names", {"migrate#1"}}};
    if (std::string(verb) == "wait") args["for"] = "stopped";
    auto& r = call(verb, args);
    ASSERT_TRUE(r.error) << verb;
    EXPECT_EQ(r.error->code, ErrorCode::unknown_program) << verb;
    EXPECT_NE(r.error->message.find("is a run of the task \"migrate\""), std::string::npos)
        << r.error->message;
  }
  auto& signal = call("signal", {{"signal", "HUP"}, {"names", {"migrate"}}});
  ASSERT_TRUE(signal.error);
  EXPECT_NE(signal.error->message.find("\"migrate\" is a task"), std::string::npos);
  EXPECT_EQ(target.calls, (std::vector<std::string>{"stop"})) << "only the programs were stopped";
}
