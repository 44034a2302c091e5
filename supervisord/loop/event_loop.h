// The one libevent loop and RAII handles for its events.
// Handles are neither copyable nor movable: libevent keeps `this` as the callback argument.
#pragma once

#include <event2/event.h>

#include <functional>
#include <optional>

#include "common/duration.h"

namespace gardien {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const noexcept { return base_; }
  // Runs until exit() is called or no event is left.
  void run();
  // Ends run() after the current callbacks; call only once nothing is left to do.
  void exit();
  // Runs `fn` on the next loop turn, outside the current callback (deferred deletion).
  void defer(std::function<void()> fn);

 private:
  event_base* base_;
};

// A one-shot timer: arm() (re-)starts it, cancel() stops it, destruction cancels it.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(Duration after);
  void cancel() noexcept;
  bool armed() const noexcept;

 private:
  static void trampoline(evutil_socket_t, short, void* self) noexcept;
  std::function<void()> on_fire_;
  event* ev_;
};

// A signal delivered through the loop (never in a raw handler). Persistent.
class SignalEvent {
 public:
  SignalEvent(EventLoop& loop, int signo, std::function<void(int)> on_signal);
  ~SignalEvent();
  SignalEvent(const SignalEvent&) = delete;
  SignalEvent& operator=(const SignalEvent&) = delete;

 private:
  static void trampoline(evutil_socket_t, short, void* self) noexcept;
  std::function<void(int)> on_signal_;
  int signo_;
  event* ev_;
};

// A callback run later in this turn of the loop: after the current callback returns, before the
// loop waits for events again. Soon, yet never inside its caller. Once however often it is asked.
class SameTurnCall {
 public:
  SameTurnCall(EventLoop& loop, std::function<void()> on_run);
  ~SameTurnCall();
  SameTurnCall(const SameTurnCall&) = delete;
  SameTurnCall& operator=(const SameTurnCall&) = delete;

  void request() noexcept;
  void cancel() noexcept;
  bool requested() const noexcept;

 private:
  static void trampoline(evutil_socket_t, short, void* self) noexcept;
  std::function<void()> on_run_;
  event* ev_;
};

// Readiness of an fd the caller owns. Persistent while enabled.
class FdEvent {
 public:
  // `what` is EV_READ, EV_WRITE or both; the callback gets the ready flags.
  FdEvent(EventLoop& loop, int fd, short what, std::function<void(short)> on_ready);
  ~FdEvent();
  FdEvent(const FdEvent&) = delete;
  FdEvent& operator=(const FdEvent&) = delete;

  void enable(std::optional<Duration> timeout = std::nullopt);
  void disable() noexcept;
  bool enabled() const noexcept;

 private:
  static void trampoline(evutil_socket_t, short, void* self) noexcept;
  std::function<void(short)> on_ready_;
  event* ev_;
};

}  // namespace gardien
