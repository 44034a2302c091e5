// The schedule of a polled check, on a fake clock: when polls are due, what each result means
// for readiness and for health, start-period, failure-threshold, pause and begin again.
#include "supervisord/readiness/probe_schedule.h"

#include <gtest/gtest.h>

namespace gardien {
namespace {

using namespace std::chrono_literals;
using Verdict = ProbeSchedule::Verdict;
using Role = ProbeSchedule::Role;
using protocol::Health;

const TimePoint t0 = TimePoint{} + 1000s;

ProbeConfig probe(Duration period = 1s, int threshold = 3, Duration start_period = 0s) {
  ProbeConfig config;
  config.kind = ProbeConfig::Kind::http;
  config.target = "http://127.0.0.1:8080/healthz";
  config.period = period;
  config.failure_threshold = threshold;
  config.start_period = start_period;
  return config;
}

// One poll at `at`, with its result coming `took` later.
Verdict poll(ProbeSchedule& s, TimePoint at, bool ok, Duration took = 10ms) {
  s.poll_started(at);
  return s.poll_finished(ok, ok ? "" : "HTTP 503", at + took);
}

TEST(ProbeSchedule, NothingIsDueBeforeBegin) {
  ProbeSchedule s(Role::readiness, probe());
  EXPECT_FALSE(s.active());
  EXPECT_EQ(s.next_due(), std::nullopt);
}

TEST(ProbeSchedule, TheFirstPollIsDueAtBegin) {
  for (Role role : {Role::readiness, Role::health}) {
    ProbeSchedule s(role, probe(5s));
    s.begin(t0);
    EXPECT_TRUE(s.active());
    EXPECT_EQ(s.next_due(), t0);
  }
}

TEST(ProbeSchedule, NothingIsDueWhileAPollIsInFlight) {
  ProbeSchedule s(Role::health, probe());
  s.begin(t0);
  s.poll_started(t0);
  EXPECT_EQ(s.next_due(), std::nullopt);
}

TEST(ProbeSchedule, ReadinessPollsEveryPeriodAfterEachResultUntilASuccess) {
  ProbeSchedule s(Role::readiness, probe(2s));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, false, 300ms), Verdict::none);
  EXPECT_EQ(s.next_due(), t0 + 300ms + 2s);
  EXPECT_EQ(s.last_failure(), "HTTP 503");
  EXPECT_EQ(poll(s, t0 + 2300ms, false), Verdict::none);
  EXPECT_EQ(s.next_due(), t0 + 2310ms + 2s);
  EXPECT_EQ(poll(s, t0 + 4310ms, true), Verdict::ready);
  EXPECT_FALSE(s.active());
  EXPECT_EQ(s.next_due(), std::nullopt);
}

TEST(ProbeSchedule, ReadinessHasNoThresholdAndNoHealth) {
  ProbeSchedule s(Role::readiness, probe(1s, 2));
  s.begin(t0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(poll(s, t0 + i * 1s, false), Verdict::none);
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.health(), Health::none);
  EXPECT_EQ(s.threshold(), 0);
}

TEST(ProbeSchedule, HealthIsNoneUntilTheFirstResultThenHealthy) {
  ProbeSchedule s(Role::health, probe(10s));
  s.begin(t0);
  EXPECT_EQ(s.health(), Health::none);
  EXPECT_EQ(poll(s, t0, true), Verdict::healthy);
  EXPECT_EQ(s.health(), Health::healthy);
  EXPECT_EQ(s.next_due(), t0 + 10ms + 10s);
  EXPECT_EQ(poll(s, t0 + 10s, true), Verdict::none);  // healthy already
  EXPECT_TRUE(s.active());
}

TEST(ProbeSchedule, ThresholdFailuresInARowMakeItUnhealthyThenInactive) {
  ProbeSchedule s(Role::health, probe(1s, 3));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, true), Verdict::healthy);
  EXPECT_EQ(poll(s, t0 + 1s, false), Verdict::none);
  EXPECT_EQ(s.health(), Health::unhealthy);  // failing, below the threshold: "(unhealthy 1/3)"
  EXPECT_EQ(s.failures(), 1);
  EXPECT_EQ(s.threshold(), 3);
  EXPECT_EQ(poll(s, t0 + 2s, false), Verdict::none);
  EXPECT_EQ(s.failures(), 2);
  EXPECT_EQ(poll(s, t0 + 3s, false), Verdict::unhealthy);
  EXPECT_EQ(s.failures(), 3);
  EXPECT_EQ(s.health(), Health::unhealthy);
  EXPECT_EQ(s.last_failure(), "HTTP 503");
  EXPECT_FALSE(s.active());
  EXPECT_EQ(s.next_due(), std::nullopt);
}

TEST(ProbeSchedule, FailuresBeforeTheFirstSuccessCountToo) {
  ProbeSchedule s(Role::health, probe(1s, 2));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, false), Verdict::none);
  EXPECT_EQ(s.health(), Health::unhealthy);
  EXPECT_EQ(poll(s, t0 + 1s, false), Verdict::unhealthy);
}

TEST(ProbeSchedule, ASuccessAfterFailuresIsHealthyAgainAndResetsTheCount) {
  ProbeSchedule s(Role::health, probe(1s, 3));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, true), Verdict::healthy);
  EXPECT_EQ(poll(s, t0 + 1s, false), Verdict::none);
  EXPECT_EQ(poll(s, t0 + 2s, false), Verdict::none);
  EXPECT_EQ(poll(s, t0 + 3s, true), Verdict::healthy);
  EXPECT_EQ(s.failures(), 0);
  EXPECT_EQ(s.health(), Health::healthy);
  // Not in a row: two more failures stay below three.
  EXPECT_EQ(poll(s, t0 + 4s, false), Verdict::none);
  EXPECT_EQ(poll(s, t0 + 5s, false), Verdict::none);
  EXPECT_TRUE(s.active());
}

TEST(ProbeSchedule, FailuresDuringStartPeriodAreNotCounted) {
  ProbeSchedule s(Role::health, probe(1s, 2, 30s));
  s.begin(t0);
  for (int i = 0; i < 29; ++i) EXPECT_EQ(poll(s, t0 + i * 1s, false), Verdict::none) << i;
  EXPECT_EQ(s.failures(), 0);
  EXPECT_EQ(s.health(), Health::none);
  EXPECT_EQ(s.last_failure(), "HTTP 503");  // still there for the logs
  // The result that comes at 30s counts (start-period is measured from begin to the result).
  EXPECT_EQ(poll(s, t0 + 29s, false, 1s), Verdict::none);
  EXPECT_EQ(s.failures(), 1);
  EXPECT_EQ(poll(s, t0 + 31s, false), Verdict::unhealthy);
}

TEST(ProbeSchedule, ASuccessDuringStartPeriodIsHealthy) {
  ProbeSchedule s(Role::health, probe(1s, 2, 30s));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, false), Verdict::none);
  EXPECT_EQ(poll(s, t0 + 1s, true), Verdict::healthy);
}

TEST(ProbeSchedule, AThresholdBelowOneCountsAsOne) {
  ProbeSchedule s(Role::health, probe(1s, 0));
  s.begin(t0);
  EXPECT_EQ(s.threshold(), 1);
  EXPECT_EQ(poll(s, t0, false), Verdict::unhealthy);
}

TEST(ProbeSchedule, PauseStopsPollsAndDropsTheResultInFlight) {
  ProbeSchedule s(Role::health, probe(1s, 1));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0, true), Verdict::healthy);
  s.poll_started(t0 + 1s);
  s.pause();
  EXPECT_FALSE(s.active());
  EXPECT_EQ(s.next_due(), std::nullopt);
  EXPECT_EQ(s.poll_finished(false, "HTTP 503", t0 + 1100ms), Verdict::none);  // stale
  EXPECT_EQ(s.failures(), 0);
  s.poll_started(t0 + 2s);  // ignored while paused
  EXPECT_EQ(s.poll_finished(false, "HTTP 503", t0 + 2s), Verdict::none);
  EXPECT_EQ(s.failures(), 0);
}

TEST(ProbeSchedule, BeginStartsOverAfterPauseOrAVerdict) {
  ProbeSchedule s(Role::health, probe(1s, 2, 5s));
  s.begin(t0);
  EXPECT_EQ(poll(s, t0 + 6s, false), Verdict::none);
  EXPECT_EQ(poll(s, t0 + 7s, false), Verdict::unhealthy);
  TimePoint again = t0 + 60s;
  s.begin(again);
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.next_due(), again);
  EXPECT_EQ(s.failures(), 0);
  EXPECT_EQ(s.health(), Health::none);
  EXPECT_EQ(s.last_failure(), "");
  // start-period runs from the new begin.
  EXPECT_EQ(poll(s, again + 1s, false), Verdict::none);
  EXPECT_EQ(s.failures(), 0);

  ProbeSchedule r(Role::readiness, probe());
  r.begin(t0);
  EXPECT_EQ(poll(r, t0, true), Verdict::ready);
  r.begin(again);
  EXPECT_EQ(r.next_due(), again);
  EXPECT_EQ(poll(r, again, true), Verdict::ready);
}

}  // namespace
}  // namespace gardien
