#include "supervisord/loop/event_loop.h"

#include <signal.h>

#include <cstdlib>
#include <exception>
#include <memory>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

timeval to_timeval(Duration d) {
  auto ms = d.count() < 0 ? 0 : d.count();
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// No exception may unwind through libevent's C frames.
template <typename Fn>
void guarded(const char* what, Fn&& fn) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    log::error(std::string("unexpected exception in ") + what + " callback", {{"error", e.what()}});
  } catch (...) {
    log::error(std::string("unexpected exception in ") + what + " callback");
  }
}

event* checked(event* ev) {
  if (!ev) {
    log::error("libevent could not allocate an event");
    std::abort();
  }
  return ev;
}

}  // namespace

EventLoop::EventLoop() : base_(event_base_new()) {
  if (!base_) {
    log::error("libevent could not create an event base");
    std::abort();
  }
  // The one place SIGPIPE is ignored: a write to a vanished reader (a control client, a pipe)
  // must fail with EPIPE, not kill the daemon. Children get it back (spawn resets dispositions).
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    ::signal(SIGPIPE, SIG_IGN);
}

EventLoop::~EventLoop() {
  event_base_free(base_);
}

void EventLoop::run() {
  event_base_dispatch(base_);
}

void EventLoop::exit() {
  event_base_loopexit(base_, nullptr);
}

void EventLoop::defer(std::function<void()> fn) {
  auto* heap = new std::function<void()>(std::move(fn));
  timeval zero{0, 0};
  auto cb = [](evutil_socket_t, short, void* arg) noexcept {
    std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(arg));
    guarded("deferred", [&] { (*f)(); });
  };
  if (event_base_once(base_, -1, EV_TIMEOUT, cb, heap, &zero) != 0) {
    delete heap;
    log::error("libevent could not schedule a deferred call");
    std::abort();
  }
}

Timer::Timer(EventLoop& loop, std::function<void()> on_fire)
    : on_fire_(std::move(on_fire)), ev_(checked(evtimer_new(loop.base(), trampoline, this))) {}

Timer::~Timer() {
  event_del(ev_);
  event_free(ev_);
}

void Timer::arm(Duration after) {
  timeval tv = to_timeval(after);
  evtimer_add(ev_, &tv);
}

void Timer::cancel() noexcept {
  evtimer_del(ev_);
}

bool Timer::armed() const noexcept {
  return evtimer_pending(ev_, nullptr) != 0;
}

void Timer::trampoline(evutil_socket_t, short, void* self) noexcept {
  guarded("timer", [self] { static_cast<Timer*>(self)->on_fire_(); });
}

SameTurnCall::SameTurnCall(EventLoop& loop, std::function<void()> on_run)
    : on_run_(std::move(on_run)), ev_(checked(event_new(loop.base(), -1, 0, trampoline, this))) {}

SameTurnCall::~SameTurnCall() {
  event_del(ev_);
  event_free(ev_);
}

// An active event runs in the pass of the loop that is processing callbacks now.
void SameTurnCall::request() noexcept {
  event_active(ev_, EV_TIMEOUT, 1);
}

void SameTurnCall::cancel() noexcept {
  event_del(ev_);
}

bool SameTurnCall::requested() const noexcept {
  return event_pending(ev_, EV_TIMEOUT, nullptr) != 0;
}

void SameTurnCall::trampoline(evutil_socket_t, short, void* self) noexcept {
  guarded("same-turn", [self] { static_cast<SameTurnCall*>(self)->on_run_(); });
}

SignalEvent::SignalEvent(EventLoop& loop, int signo, std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)),
      signo_(signo),
      ev_(checked(evsignal_new(loop.base(), signo, trampoline, this))) {
  evsignal_add(ev_, nullptr);
}

SignalEvent::~SignalEvent() {
  event_del(ev_);
  event_free(ev_);
}

void SignalEvent::trampoline(evutil_socket_t, short, void* self) noexcept {
  auto* s = static_cast<SignalEvent*>(self);
  guarded("signal", [s] { s->on_signal_(s->signo_); });
}

FdEvent::FdEvent(EventLoop& loop, int fd, short what, std::function<void(short)> on_ready)
    : on_ready_(std::move(on_ready)),
      ev_(checked(
          event_new(loop.base(), fd, static_cast<short>(what | EV_PERSIST), trampoline, this))) {}

FdEvent::~FdEvent() {
  event_del(ev_);
  event_free(ev_);
}

void FdEvent::enable(std::optional<Duration> timeout) {
  if (timeout) {
    timeval tv = to_timeval(*timeout);
    event_add(ev_, &tv);
  } else {
    event_add(ev_, nullptr);
  }
}

void FdEvent::disable() noexcept {
  event_del(ev_);
}

bool FdEvent::enabled() const noexcept {
  return event_pending(ev_, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr) != 0;
}

void FdEvent::trampoline(evutil_socket_t, short what, void* self) noexcept {
  auto* f = static_cast<FdEvent*>(self);
  guarded("fd", [f, what] { f->on_ready_(what); });
}

}  // namespace gardien
