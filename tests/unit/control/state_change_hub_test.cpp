// Listeners of instance transitions: publish order, leaving and joining during a publish, and
// subscriptions that outlive the hub.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "supervisord/control/control_target.h"

using namespace gardien;

TEST(StateChangeHub, ListenersMayLeaveDuringAPublish) {
  StateChangeHub hub;
  int a = 0, b = 0, c = 0;
  StateChangeHub::Subscription sa, sb, sc, late;
  sa = hub.subscribe([&](const StateChange&) {
    ++a;
    sa.reset();  // itself
    sb.reset();  // a later one: not called any more
    late = hub.subscribe([&](const StateChange&) { ++c; });
  });
  sb = hub.subscribe([&](const StateChange&) { ++b; });
  sc = hub.subscribe([&](const StateChange&) { ++c; });
  hub.publish({});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(c, 1);  // the one subscribed meanwhile waits for the next change
  EXPECT_EQ(hub.listener_count(), 2u);
  hub.publish({});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(c, 3);
}

TEST(StateChangeHub, SubscriptionsMayOutliveTheHub) {
  StateChangeHub::Subscription s;
  {
    StateChangeHub hub;
    s = hub.subscribe([](const StateChange&) {});
    EXPECT_TRUE(s.active());
  }
  EXPECT_FALSE(s.active());
  s.reset();
}

TEST(StateChangeHub, EveryListenerGetsEachChangeInSubscriptionOrder) {
  StateChangeHub hub;
  std::vector<std::string> calls;
  auto first = hub.subscribe([&](const StateChange& c) { calls.push_back("1:" + c.status.name); });
  auto second = hub.subscribe([&](const StateChange& c) { calls.push_back("2:" + c.status.name); });
  EXPECT_EQ(hub.listener_count(), 2u);
  StateChange change;
  change.status.name = "web.0";
  change.previous = protocol::InstanceState::starting;
  change.status.state = protocol::InstanceState::running;
  hub.publish(change);
  change.status.name = "db";
  hub.publish(change);
  EXPECT_EQ(calls, (std::vector<std::string>{"1:web.0", "2:web.0", "1:db", "2:db"}));
}

TEST(StateChangeHub, TheChangeArrivesAsPublished) {
  StateChangeHub hub;
  std::vector<StateChange> seen;
  auto s = hub.subscribe([&](const StateChange& c) { seen.push_back(c); });
  StateChange removed;
  removed.status.name = "old";
  removed.status.state = protocol::InstanceState::stopped;
  removed.previous = protocol::InstanceState::stopping;
  removed.removed = true;
  hub.publish(removed);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].status.name, "old");
  EXPECT_EQ(seen[0].status.state, protocol::InstanceState::stopped);
  EXPECT_EQ(seen[0].previous, protocol::InstanceState::stopping);
  EXPECT_TRUE(seen[0].removed);
}

TEST(StateChangeHub, ResetOrDestroyedSubscriptionsAreNeverCalledAgain) {
  StateChangeHub hub;
  int a = 0, b = 0;
  auto sa = hub.subscribe([&](const StateChange&) { ++a; });
  {
    auto sb = hub.subscribe([&](const StateChange&) { ++b; });
    hub.publish({});
  }
  EXPECT_EQ(hub.listener_count(), 1u);
  EXPECT_TRUE(sa.active());
  sa.reset();
  EXPECT_FALSE(sa.active());
  sa.reset();  // twice is harmless
  EXPECT_EQ(hub.listener_count(), 0u);
  hub.publish({});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(StateChangeHub, AMovedSubscriptionKeepsTheListenerOnce) {
  StateChangeHub hub;
  int calls = 0;
  StateChangeHub::Subscription moved_to;
  {
    auto original = hub.subscribe([&](const StateChange&) { ++calls; });
    moved_to = std::move(original);
    EXPECT_FALSE(original.active());  // NOLINT(bugprone-use-after-move): moved-from is inert
    original.reset();                 // resetting the moved-from one leaves the listener alone
  }
  EXPECT_TRUE(moved_to.active());
  EXPECT_EQ(hub.listener_count(), 1u);
  hub.publish({});
  EXPECT_EQ(calls, 1);
  // Assigning over an active subscription ends the listener it held.
  moved_to = hub.subscribe([](const StateChange&) {});
  EXPECT_EQ(hub.listener_count(), 1u);
  hub.publish({});
  EXPECT_EQ(calls, 1);
}

TEST(StateChangeHub, AListenerMayPublishFromItsCallback) {
  StateChangeHub hub;
  std::vector<std::string> calls;
  StateChangeHub::Subscription leaving;
  auto nested = hub.subscribe([&](const StateChange& c) {
    calls.push_back("nested:" + c.status.name);
    if (c.status.name == "outer") {
      leaving.reset();  // removed during the nested publish: gone for the rest of the outer one
      StateChange inner;
      inner.status.name = "inner";
      hub.publish(inner);
    }
  });
  leaving =
      hub.subscribe([&](const StateChange& c) { calls.push_back("leaving:" + c.status.name); });
  StateChange outer;
  outer.status.name = "outer";
  hub.publish(outer);
  EXPECT_EQ(calls, (std::vector<std::string>{"nested:outer", "nested:inner"}));
  EXPECT_EQ(hub.listener_count(), 1u);
}
