// What one instance needs from the system: the clock, timers, spawning, signals and reaping.
// Program runs on the real one; its tests run it on a fake that creates no process.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/duration.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/reaper.h"
#include "supervisord/process/spawn.h"

namespace gardien {

// A one-shot timer: arm() (re-)starts it, cancel() stops it, destruction cancels it.
class HostTimer {
 public:
  virtual ~HostTimer() = default;
  virtual void arm(Duration after) = 0;
  virtual void cancel() noexcept = 0;
  virtual bool armed() const noexcept = 0;
};

class ProcessHost {
 public:
  virtual ~ProcessHost() = default;
  virtual TimePoint now() = 0;
  virtual std::unique_ptr<HostTimer> make_timer(std::function<void()> on_fire) = 0;
  // spawn_process: nullopt with `error` (and errno) set when no process could be created.
  virtual std::optional<SpawnedProcess> spawn(const SpawnPlan& plan, std::string& error) = 0;
  // kill(2): `target` is a pid, or -pgid for a process group. 0, or -1 with errno set.
  virtual int kill(pid_t target, int signo) = 0;
  // `pid` (a child not reaped yet) has exited: its reaping is still to come.
  virtual bool has_exited(pid_t pid) = 0;
  // `on_exit` gets waitpid's status once `pid` is reaped; at most once.
  virtual void watch(pid_t pid, std::function<void(int wait_status)> on_exit) = 0;
  virtual void forget(pid_t pid) = 0;
};

// The real system: the steady clock, the loop's timers, spawn_process, kill(2), the reaper.
class SystemProcessHost final : public ProcessHost {
 public:
  SystemProcessHost(EventLoop& loop, Reaper& reaper) : loop_(loop), reaper_(reaper) {}
  TimePoint now() override { return Clock::now(); }
  std::unique_ptr<HostTimer> make_timer(std::function<void()> on_fire) override;
  std::optional<SpawnedProcess> spawn(const SpawnPlan& plan, std::string& error) override {
    return spawn_process(plan, error);
  }
  int kill(pid_t target, int signo) override;
  bool has_exited(pid_t pid) override;
  void watch(pid_t pid, std::function<void(int)> on_exit) override {
    reaper_.watch(pid, std::move(on_exit));
  }
  void forget(pid_t pid) override { reaper_.forget(pid); }

 private:
  EventLoop& loop_;
  Reaper& reaper_;
};

}  // namespace gardien
