// Runs an EventLoop's turns until `done` or `limit`: for tests that drive a server in-process.
#pragma once

#include <event2/event.h>
#include <poll.h>

#include <chrono>
#include <functional>

#include "supervisord/loop/event_loop.h"

namespace gardien::testing {

inline bool pump_until(EventLoop& loop, const std::function<bool()>& done, Duration limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    event_base_loop(loop.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::poll(nullptr, 0, 1);
  }
}

}  // namespace gardien::testing
