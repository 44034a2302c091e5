// A ProcessHost that creates no process: the clock moves only when the test says, and each
// spawn, exit, leftover and signal is scripted and recorded.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "supervisord/process/process_host.h"

namespace gardien::process_testing {

using namespace std::chrono_literals;

class FakeHost;

class FakeTimer final : public HostTimer {
 public:
  FakeTimer(FakeHost& host, std::function<void()> on_fire);
  ~FakeTimer() override;
  void arm(Duration after) override;
  void cancel() noexcept override { due_.reset(); }
  bool armed() const noexcept override { return due_.has_value(); }
  std::optional<TimePoint> due() const { return due_; }
  void fire() {
    due_.reset();
    on_fire_();
  }

 private:
  FakeHost& host_;
  std::function<void()> on_fire_;
  std::optional<TimePoint> due_;
};

class FakeHost final : public ProcessHost {
 public:
  TimePoint now() override { return now_; }
  std::unique_ptr<HostTimer> make_timer(std::function<void()> on_fire) override {
    return std::make_unique<FakeTimer>(*this, std::move(on_fire));
  }
  std::optional<SpawnedProcess> spawn(const SpawnPlan& plan, std::string& error) override {
    if (spawn_error) {
      error = *spawn_error;
      errno = spawn_errno;
      return std::nullopt;
    }
    plans.push_back(plan);
    if (on_spawn) on_spawn(plan);
    SpawnedProcess child;
    child.pid = next_pid++;
    groups[child.pid] = {child.pid};
    return child;
  }
  int kill(pid_t target, int signo) override {
    if (signo != 0) signals.emplace_back(target, signo);
    bool exists = target < 0 ? groups.count(-target) && !groups[-target].empty()
                             : std::any_of(groups.begin(), groups.end(), [&](const auto& g) {
                                 return g.second.count(target) > 0;
                               });
    if (exists) return 0;
    errno = ESRCH;
    return -1;
  }
  bool has_exited(pid_t pid) override { return dead_unreaped.count(pid) > 0; }
  void watch(pid_t pid, std::function<void(int)> on_exit) override {
    watched[pid] = std::move(on_exit);
  }
  void forget(pid_t pid) override { watched.erase(pid); }

  // Moves the clock by `d`, firing each timer due on the way, in order.
  void advance(Duration d) {
    TimePoint end = now_ + d;
    for (;;) {
      FakeTimer* next = nullptr;
      for (FakeTimer* t : timers)
        if (t->due() && *t->due() <= end && (!next || *t->due() < *next->due())) next = t;
      if (!next) break;
      now_ = *next->due();
      next->fire();
    }
    now_ = end;
  }
  // `pid` dies (it leaves its group) and is reaped with `wait_status`.
  void reap(pid_t pid, int wait_status) {
    die(pid);
    auto it = watched.find(pid);
    ASSERT_NE(it, watched.end()) << "nobody watches pid " << pid;
    auto on_exit = std::move(it->second);
    watched.erase(it);
    on_exit(wait_status);
  }
  void die(pid_t pid) {
    for (auto& [pgid, members] : groups) members.erase(pid);
    dead_unreaped.insert(pid);
  }
  bool got(pid_t target, int signo) const {
    return std::find(signals.begin(), signals.end(), std::pair{target, signo}) != signals.end();
  }

  TimePoint now_ = TimePoint{} + 1h;
  std::vector<FakeTimer*> timers;
  pid_t next_pid = 1000;
  std::optional<std::string> spawn_error;
  int spawn_errno = ENOENT;
  std::vector<SpawnPlan> plans;
  std::function<void(const SpawnPlan&)> on_spawn;  // what the child would do at once
  std::map<pid_t, std::set<pid_t>> groups;         // pgid -> its live processes
  std::set<pid_t> dead_unreaped;
  std::map<pid_t, std::function<void(int)>> watched;
  std::vector<std::pair<pid_t, int>> signals;  // (target, signal), probes left out
};

inline FakeTimer::FakeTimer(FakeHost& host, std::function<void()> on_fire)
    : host_(host), on_fire_(std::move(on_fire)) {
  host_.timers.push_back(this);
}
inline FakeTimer::~FakeTimer() {
  std::erase(host_.timers, this);
}
inline void FakeTimer::arm(Duration after) {
  due_ = host_.now() + after;
}

}  // namespace gardien::process_testing
