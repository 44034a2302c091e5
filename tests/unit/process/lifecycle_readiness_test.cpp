// Readiness, health and the watchdog in the pure lifecycle: a fake clock, no processes.
#include <gtest/gtest.h>

#include "process/lifecycle_driver.h"
#include "supervisord/process/lifecycle.h"

namespace gardien {
namespace {

using namespace lifecycle_testing;

ProgramConfig with_ready(ProbeConfig::Kind kind = ProbeConfig::Kind::notify) {
  ProgramConfig c = test_config();
  ProbeConfig probe;
  probe.kind = kind;
  c.ready = probe;
  c.ready_timeout = 60s;
  return c;
}

struct ReadyDriver : Driver {
  ReadyDriver() { config = with_ready(); }
  void bring_up_ready() {
    feed(ev(Kind::start));
    ASSERT_EQ(status.state, State::starting);
    feed(ev(Kind::ready));
    ASSERT_EQ(status.state, State::running);
  }
};

TEST(LifecycleReadiness, StaysStartingUntilReadyWhateverStartSeconds) {
  ReadyDriver d;
  d.feed(ev(Kind::start));
  EXPECT_EQ(d.status.state, State::starting);
  EXPECT_FALSE(d.armed.count(TimerKind::start)) << "start-seconds does not apply with `ready`";
  ASSERT_TRUE(d.armed.count(TimerKind::ready));
  EXPECT_EQ(d.armed[TimerKind::ready], d.now + 60s);
  d.advance(30s);
  d.feed(ev(Kind::ready));
  EXPECT_EQ(d.status.state, State::running);
  EXPECT_FALSE(d.armed.count(TimerKind::ready)) << "leaving starting cancels the ready-timeout";
  EXPECT_EQ(d.status.failed_starts, 0);
}

TEST(LifecycleReadiness, ReadyWithoutAReadyCheckChangesNothing) {
  Driver d;  // start-seconds decides
  d.feed(ev(Kind::start));
  d.feed(ev(Kind::ready));
  EXPECT_EQ(d.status.state, State::starting);
  d.fire_timer();
  EXPECT_EQ(d.status.state, State::running);
}

TEST(LifecycleReadiness, ReadyTimeoutStopsTheProcessThenCountsAsAFailedStart) {
  ReadyDriver d;
  d.config.start_retries = 1;
  d.feed(ev(Kind::start));
  d.fire(TimerKind::ready);
  EXPECT_EQ(d.status.state, State::stopping);
  EXPECT_EQ(d.signals, std::vector<Act>{Act::signal_stop});
  EXPECT_NE(d.status.reason.find("not ready after 1m"), std::string::npos) << d.status.reason;
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::backoff);
  EXPECT_EQ(d.status.reason, "not ready after 1m");
  EXPECT_EQ(d.status.last_run, RunOutcome::failed_to_start);
  EXPECT_EQ(d.status.failed_starts, 1);
  d.fire_timer();  // backoff over: the second attempt
  d.fire(TimerKind::ready);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::fatal);
  EXPECT_NE(d.status.reason.find("not ready after 1m; gave up after 2 failed starts"),
            std::string::npos)
      << d.status.reason;
}

TEST(LifecycleReadiness, AReadyTimeoutOfZeroWaitsForever) {
  ReadyDriver d;
  d.config.ready_timeout = Duration{0};
  d.feed(ev(Kind::start));
  EXPECT_FALSE(d.armed.count(TimerKind::ready));
  EXPECT_EQ(d.status.state, State::starting);
}

TEST(LifecycleReadiness, AnExitBeforeReadyIsAFailedStart) {
  ReadyDriver d;
  d.feed(ev(Kind::start));
  d.feed(exited(ExitStatus::exited(1)));
  EXPECT_EQ(d.status.state, State::backoff);
  EXPECT_EQ(d.status.failed_starts, 1);
}

TEST(LifecycleReadiness, ExtendTimeoutPushesTheReadyTimeoutOutButNeverIn) {
  ReadyDriver d;
  d.feed(ev(Kind::start));
  d.advance(50s);  // 10 s left
  d.feed(LifecycleEvent::extend_by(30s));
  EXPECT_EQ(d.armed[TimerKind::ready], d.now + 30s);
  d.feed(LifecycleEvent::extend_by(5s));
  EXPECT_EQ(d.armed[TimerKind::ready], d.now + 30s) << "a shorter extension changes nothing";
}

TEST(LifecycleReadiness, ExtendTimeoutPushesTheStopTimeoutOut) {
  ReadyDriver d;
  d.bring_up_ready();
  d.feed(ev(Kind::stop));
  TimePoint due = d.armed[TimerKind::grace];
  d.feed(LifecycleEvent::extend_by(20s));
  EXPECT_EQ(d.armed[TimerKind::grace], d.now + 20s);
  EXPECT_GT(d.armed[TimerKind::grace], due);
}

TEST(LifecycleHealth, UnhealthyRestartsTheInstanceAndSaysWhy) {
  ReadyDriver d;
  d.bring_up_ready();
  d.feed(LifecycleEvent::unhealthy_because("HTTP 503"));
  EXPECT_EQ(d.status.state, State::stopping);
  EXPECT_EQ(d.status.reason, "unhealthy: HTTP 503");
  EXPECT_EQ(d.status.restarts, 1);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::starting) << "started again at once";
  EXPECT_EQ(d.status.last_run, RunOutcome::unhealthy);
  EXPECT_EQ(d.spawns, 2);
}

TEST(LifecycleHealth, UnhealthyOutsideRunningIsIgnored) {
  ReadyDriver d;
  d.feed(ev(Kind::start));
  d.feed(LifecycleEvent::unhealthy_because("HTTP 503"));
  EXPECT_EQ(d.status.state, State::starting);
}

TEST(LifecycleHealth, AFlappingCheckGoesFatalOnceTheBudgetIsSpent) {
  ReadyDriver d;
  d.config.health_restarts = 2;
  d.config.backoff_max = 30s;
  for (int i = 0; i < 2; ++i) {
    d.bring_up_ready();
    d.feed(LifecycleEvent::unhealthy_because("exit code 1"));
    d.feed(exited(ExitStatus::killed(SIGTERM)));
    d.feed(ev(Kind::ready));
    ASSERT_EQ(d.status.state, State::running);
    d.advance(1s);
    d.feed(ev(Kind::stop));  // reset for bring_up_ready
    d.feed(exited(ExitStatus::killed(SIGTERM)));
  }
  d.bring_up_ready();
  d.feed(LifecycleEvent::unhealthy_because("exit code 1"));
  EXPECT_EQ(d.status.state, State::stopping);
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::fatal);
  EXPECT_NE(d.status.reason.find("unhealthy: exit code 1; gave up after 2 health restarts"),
            std::string::npos)
      << d.status.reason;
  EXPECT_EQ(d.status.last_run, RunOutcome::fatal);
}

TEST(LifecycleHealth, TheBudgetIsPerBackoffMaxWindow) {
  ReadyDriver d;
  d.config.health_restarts = 1;
  d.config.backoff_max = 30s;
  d.bring_up_ready();
  d.feed(LifecycleEvent::unhealthy_because("a"));
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  d.feed(ev(Kind::ready));
  d.advance(31s);  // the first restart left the window
  d.feed(LifecycleEvent::unhealthy_because("b"));
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::starting);
}

TEST(LifecycleHealth, AnOperatorStopDuringAHealthRestartEndsStopped) {
  ReadyDriver d;
  d.bring_up_ready();
  d.feed(LifecycleEvent::unhealthy_because("HTTP 500"));
  d.feed(ev(Kind::stop));
  d.feed(exited(ExitStatus::killed(SIGTERM)));
  EXPECT_EQ(d.status.state, State::stopped);
}

TEST(LifecycleWatchdog, ArmedOnceRunningAndRestartedByEachPing) {
  ReadyDriver d;
  d.config.watchdog = 10s;
  d.feed(ev(Kind::start));
  EXPECT_FALSE(d.armed.count(TimerKind::watchdog)) << "the watchdog starts once it is ready";
  d.feed(ev(Kind::ready));
  ASSERT_TRUE(d.armed.count(TimerKind::watchdog));
  d.advance(8s);
  d.feed(ev(Kind::watchdog_ping));
  EXPECT_EQ(d.armed[TimerKind::watchdog], d.now + 10s);
  d.fire(TimerKind::watchdog);
  EXPECT_EQ(d.status.state, State::stopping);
  EXPECT_EQ(d.status.reason, "watchdog timeout");
  EXPECT_FALSE(d.armed.count(TimerKind::watchdog)) << "cancelled when it leaves running";
}

TEST(LifecycleWatchdog, AMissedPingOfAProcessThatAlreadyExitedWaitsForItsExit) {
  ReadyDriver d;
  d.config.watchdog = 10s;
  d.bring_up_ready();
  d.fire(TimerKind::watchdog, /*main_exited=*/true);
  EXPECT_EQ(d.status.state, State::running);
}

TEST(LifecycleWatchdog, WithoutAWatchdogAPingIsIgnoredAndItsTimerIllegal) {
  ReadyDriver d;
  d.bring_up_ready();
  d.feed(ev(Kind::watchdog_ping));
  EXPECT_FALSE(d.armed.count(TimerKind::watchdog));
  LifecycleDecision decision =
      decide(d.status, LifecycleEvent::timer_fired(TimerKind::watchdog), d.config, d.now);
  EXPECT_FALSE(decision.legal);
}

}  // namespace
}  // namespace gardien
