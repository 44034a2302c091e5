// Drives an in-process Supervisor from a test: steps run in order on its loop, each once its
// condition holds; a stuck script fails the test and shuts the supervisor down.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <vector>

#include "supervisord/loop/event_loop.h"
#include "supervisord/orchestrate/supervisor.h"

namespace gardien {

// Runs `steps` in order on the loop: each waits (polled every 5 ms) for its condition, then acts.
class Script {
 public:
  struct Step {
    std::function<bool()> ready;
    std::function<void()> act;
  };
  Script(EventLoop& loop, Supervisor& sup, std::vector<Step> steps)
      : steps_(std::move(steps)),
        sup_(sup),
        poll_(loop, [this] { tick(); }),
        deadline_(loop, [this] {
          ADD_FAILURE() << "script stuck at step " << at_;
          sup_.shutdown("test deadline");
          sup_.shutdown("test deadline");
        }) {
    poll_.arm(std::chrono::milliseconds(5));
    deadline_.arm(std::chrono::seconds(30));
  }
  std::size_t at() const { return at_; }

 private:
  void tick() {
    while (at_ < steps_.size() && steps_[at_].ready()) steps_[at_++].act();
    if (at_ < steps_.size()) {
      poll_.arm(std::chrono::milliseconds(5));
    } else {
      deadline_.cancel();
    }
  }
  std::vector<Step> steps_;
  std::size_t at_ = 0;
  Supervisor& sup_;
  Timer poll_;
  Timer deadline_;
};

}  // namespace gardien
