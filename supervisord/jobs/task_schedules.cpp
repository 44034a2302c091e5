#include "supervisord/jobs/task_schedules.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <date/tz.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {
Instant wall_now() {
  return std::chrono::system_clock::now();
}

std::string format_instant(Instant t) {
  return date::format("%FT%TZ", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

// The zone a task fires in; the daemon's local one when it names none (or one that vanished).
const date::time_zone* zone_of(const TaskConfig& task) {
  if (!task.time_zone.empty()) {
    TimeZoneLookup found = find_time_zone(task.time_zone);
    if (found.zone) return found.zone;
  }
  return local_time_zone().zone;
}
}  // namespace

TaskSchedules::TaskSchedules(EventLoop& loop, Fire fire) : loop_(loop), fire_(std::move(fire)) {
  watch_clock();
}

TaskSchedules::~TaskSchedules() = default;

void TaskSchedules::set(const std::vector<TaskConfig>& tasks) {
  std::map<std::string, Entry> next;
  for (const TaskConfig& task : tasks) {
    if (task.schedule.empty()) continue;
    ScheduleParse parsed = parse_schedule(task.schedule);
    if (!parsed.schedule || parsed.schedule->kind == ScheduleKind::reboot) continue;
    auto old = entries_.find(task.name());
    if (old != entries_.end() && old->second.text == task.schedule &&
        old->second.zone_text == task.time_zone) {
      next.emplace(task.name(), std::move(old->second));
      continue;
    }
    Entry e;
    e.text = task.schedule;
    e.zone_text = task.time_zone;
    e.schedule = *parsed.schedule;
    e.zone = zone_of(task);
    std::string name = task.name();
    e.timer = std::make_unique<Timer>(loop_, [this, name] { on_timer(name); });
    e.next = next_after(e.schedule, wall_now(), *e.zone).value_or(Instant::max());
    auto [it, inserted] = next.emplace(name, std::move(e));
    arm(it->second);
  }
  entries_ = std::move(next);
}

void TaskSchedules::stop() {
  for (auto& [name, e] : entries_) e.timer->cancel();
  clock_event_.reset();
}

void TaskSchedules::arm(Entry& e) {
  if (e.next == Instant::max()) return e.timer->cancel();
  auto wait = std::chrono::ceil<Duration>(e.next - wall_now());
  e.timer->arm(std::max(wait, Duration{0}));
}

void TaskSchedules::on_timer(const std::string& task) {
  auto it = entries_.find(task);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  Instant now = wall_now();
  if (now < e.next) return arm(e);  // early: the clock was set back since it was armed
  Instant due = e.next;
  // Late by more than one period (a suspend, a clock set forward): the next fire after now, once.
  std::optional<Instant> after = next_after(e.schedule, due, *e.zone);
  if (after && *after <= now) after = next_after(e.schedule, now, *e.zone);
  e.next = after.value_or(Instant::max());
  arm(e);
  log::debug("schedule fired",
             {{"event", "schedule_fire"},
              {"task", task},
              {"due", format_instant(due)},
              {"next", e.next == Instant::max() ? "never" : format_instant(e.next)}});
  fire_(task);
}

namespace {
// Armed far in the future: it never expires by itself, only the kernel's cancellation on a clock
// change wakes it.
bool arm_clock_watch(int fd) {
  itimerspec far{};
  far.it_value.tv_sec = std::numeric_limits<std::int32_t>::max();
  return ::timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, nullptr) == 0;
}
}  // namespace

void TaskSchedules::watch_clock() {
  clock_watch_ = Fd(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!clock_watch_ || !arm_clock_watch(clock_watch_.get())) {
    log::warn(
        "cannot watch the wall clock for changes: schedules follow a changed clock only at "
        "their next fire",
        {{"event", "schedule_clock"}, {"error", std::strerror(errno)}});
    clock_watch_.reset();
    return;
  }
  clock_event_ = std::make_unique<FdEvent>(loop_, clock_watch_.get(), EV_READ,
                                           [this](short) { on_clock_set(); });
  clock_event_->enable();
}

// The wall clock was set: every timer counts to a time that moved.
void TaskSchedules::on_clock_set() {
  std::uint64_t expirations = 0;
  if (::read(clock_watch_.get(), &expirations, sizeof expirations) < 0 && errno == EAGAIN) return;
  arm_clock_watch(clock_watch_.get());  // the cancellation is reported once per setting
  Instant now = wall_now();
  for (auto& [name, e] : entries_) {
    e.next = next_after(e.schedule, now, *e.zone).value_or(Instant::max());
    arm(e);
  }
  log::info("the wall clock was set: schedules re-armed", {{"event", "schedule_clock"}});
}

std::optional<Instant> TaskSchedules::next_fire(const std::string& task) const {
  auto it = entries_.find(task);
  if (it == entries_.end() || it->second.next == Instant::max()) return std::nullopt;
  return it->second.next;
}

std::vector<Instant> TaskSchedules::next_fires(const std::string& task, int count) const {
  std::vector<Instant> out;
  auto it = entries_.find(task);
  if (it == entries_.end()) return out;
  const Entry& e = it->second;
  Instant t = e.next;
  while (static_cast<int>(out.size()) < count && t != Instant::max()) {
    out.push_back(t);
    t = next_after(e.schedule, t, *e.zone).value_or(Instant::max());
  }
  return out;
}

std::string TaskSchedules::zone_name(const std::string& task) const {
  auto it = entries_.find(task);
  return it == entries_.end() || !it->second.zone ? std::string() : it->second.zone->name();
}

std::vector<std::string> TaskSchedules::tasks() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

}  // namespace gardien
