#include "supervisord/jobs/task_schedules.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <date/tz.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <algorithm>

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

TaskSchedules::TaskSchedules(EventLoop& loop, Fire fire)
    : loop_(loop), fire_(std::move(fire)), fallback_(loop, [this] { fire_due(); }) {
  open_wake();
  arm();
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
    e.next = next_after(e.schedule, wall_now(), *e.zone).value_or(Instant::max());
    next.emplace(task.name(), std::move(e));
  }
  entries_ = std::move(next);
  arm();
}

void TaskSchedules::stop() {
  stopped_ = true;
  fallback_.cancel();
  wake_event_.reset();
  wake_.reset();
}

namespace {
// With nothing due sooner the timerfd is armed this far ahead: it wakes once a year for nothing,
// and until then reports clock changes.
constexpr auto kFarAhead = std::chrono::hours(24 * 365);

timespec timespec_of(Instant t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}
}  // namespace

void TaskSchedules::open_wake() {
  wake_ = Fd(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!wake_) {
    log::warn(
        "no timerfd for schedules: they fire from a loop timer, to the millisecond, and follow a "
        "changed clock only at their next fire",
        {{"event", "schedule_clock"}, {"error", std::strerror(errno)}});
    return;
  }
  wake_event_ =
      std::make_unique<FdEvent>(loop_, wake_.get(), EV_READ, [this](short) { on_wake(); });
  wake_event_->enable();
}

void TaskSchedules::arm() {
  if (stopped_) return;
  Instant earliest = Instant::max();
  for (const auto& [name, e] : entries_) earliest = std::min(earliest, e.next);
  if (wake_) {
    itimerspec when{};
    when.it_value = timespec_of(std::min(earliest, wall_now() + kFarAhead));
    if (::timerfd_settime(wake_.get(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &when,
                          nullptr) == 0)
      return;
    log::warn("cannot arm the schedules' timerfd: a loop timer stands in",
              {{"event", "schedule_clock"}, {"error", std::strerror(errno)}});
    wake_event_.reset();
    wake_.reset();
  }
  if (earliest == Instant::max()) return fallback_.cancel();
  auto wait = std::chrono::ceil<Duration>(earliest - wall_now());
  fallback_.arm(std::max(wait, Duration{0}));
}

void TaskSchedules::on_wake() {
  std::uint64_t expirations = 0;
  if (::read(wake_.get(), &expirations, sizeof expirations) < 0) {
    if (errno == ECANCELED) return on_clock_set();
    return;  // EAGAIN: a spurious wake-up
  }
  fire_due();
}

// Every entry whose time has come fires once; one late by more than its period (a suspend, a
// clock set forward) fires once and goes on from now.
void TaskSchedules::fire_due() {
  Instant now = wall_now();
  std::vector<std::string> due;
  for (auto& [name, e] : entries_) {
    if (e.next > now) continue;
    Instant was = e.next;
    std::optional<Instant> after = next_after(e.schedule, was, *e.zone);
    if (after && *after <= now) after = next_after(e.schedule, now, *e.zone);
    e.next = after.value_or(Instant::max());
    log::debug("schedule fired",
               {{"event", "schedule_fire"},
                {"task", name},
                {"due", format_instant(was)},
                {"next", e.next == Instant::max() ? "never" : format_instant(e.next)}});
    due.push_back(name);
  }
  arm();
  for (const std::string& task : due) fire_(task);
}

// The wall clock was set: every next fire counts to a time that moved.
void TaskSchedules::on_clock_set() {
  Instant now = wall_now();
  for (auto& [name, e] : entries_)
    e.next = next_after(e.schedule, now, *e.zone).value_or(Instant::max());
  arm();
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
