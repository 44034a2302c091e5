// When each scheduled task fires next, on the wall clock of its time zone: one timerfd on the wall
// clock (CLOCK_REALTIME), armed to the earliest next fire as an absolute time, so it wakes to the
// microsecond and never polls; the kernel cancels it when the clock is set
// (TFD_TIMER_CANCEL_ON_SET), which re-computes every next fire. Without a timerfd (no fd left), a
// loop timer armed to the earliest fire stands in, re-armed at each fire.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/fd.h"
#include "common/schedule.h"
#include "common/time_zone.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

class TaskSchedules {
 public:
  using Fire = std::function<void(const std::string& task)>;
  TaskSchedules(EventLoop& loop, Fire fire);
  ~TaskSchedules();
  TaskSchedules(const TaskSchedules&) = delete;
  TaskSchedules& operator=(const TaskSchedules&) = delete;

  // The tasks' schedules (a reload's too): a task whose schedule and zone did not change keeps
  // its next fire; @reboot and tasks without a schedule have none.
  void set(const std::vector<TaskConfig>& tasks);
  // Nothing fires any more (shutdown).
  void stop();

  std::optional<Instant> next_fire(const std::string& task) const;
  // The next `count` fires from now, earliest first.
  std::vector<Instant> next_fires(const std::string& task, int count) const;
  // The zone's name as the task fires in it ("Europe/Paris").
  std::string zone_name(const std::string& task) const;
  std::vector<std::string> tasks() const;

 private:
  struct Entry {
    std::string text;       // the schedule as written
    std::string zone_text;  // as written; empty: local
    Schedule schedule;
    const date::time_zone* zone = nullptr;
    Instant next{};  // Instant::max(): never
  };
  // Arms the wake-up to the earliest next fire (or, with none, to a far time: it still reports
  // clock changes).
  void arm();
  void on_wake();
  void fire_due();
  void open_wake();
  void on_clock_set();

  EventLoop& loop_;
  Fire fire_;
  std::map<std::string, Entry> entries_;
  Fd wake_;  // the timerfd
  std::unique_ptr<FdEvent> wake_event_;
  Timer fallback_;  // without a timerfd
  bool stopped_ = false;
};

}  // namespace gardien
