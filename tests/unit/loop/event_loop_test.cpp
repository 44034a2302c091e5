// The loop's RAII handles against a real libevent base: timers, fd readiness on a pipe, signals
// sent to this process, deferred calls, exit, and exceptions thrown from callbacks.
#include "supervisord/loop/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/fd.h"
#include "supervisord/loop/log.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr Duration kDeadline = 5000ms;

// A loop that ends itself after kDeadline, so a test that waits for an event never hangs.
class Loop : public ::testing::Test {
 protected:
  // Runs the loop until exit() or no event is left; false when the deadline ended it.
  bool run() {
    timed_out_ = false;
    guard_.arm(kDeadline);
    loop_.run();
    guard_.cancel();
    return !timed_out_;
  }

  EventLoop loop_;

 private:
  bool timed_out_ = false;
  Timer guard_{loop_, [this] {
                 timed_out_ = true;
                 loop_.exit();
               }};
};

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  void put(const char* text) const {
    ASSERT_EQ(::write(write_end.get(), text, std::char_traits<char>::length(text)),
              static_cast<ssize_t>(std::char_traits<char>::length(text)));
  }
  std::string drain() const {
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) out.append(buf, n);
    return out;
  }
  Fd read_end, write_end;
};

// Captures the daemon's log lines for the length of a test.
class CapturedLog {
 public:
  CapturedLog() {
    log::set_line_writer([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~CapturedLog() { log::set_line_writer(nullptr); }
  bool has(const std::string& text) const {
    for (const std::string& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> lines;
};

TEST(EventLoop, RunReturnsWhenNoEventIsLeft) {
  EventLoop bare;
  bare.run();  // nothing registered: returns at once
  int fired = 0;
  Timer once(bare, [&] { ++fired; });
  once.arm(0ms);
  bare.run();  // the one-shot timer was the last event
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(once.armed());
}

TEST_F(Loop, TimerFiresOnceAfterItsDelay) {
  int fired = 0;
  Clock::time_point fired_at;
  Timer timer(loop_, [&] {
    ++fired;
    fired_at = Clock::now();
  });
  EXPECT_FALSE(timer.armed());
  auto armed_at = Clock::now();
  timer.arm(50ms);
  EXPECT_TRUE(timer.armed());
  Timer end(loop_, [&] { loop_.exit(); });
  end.arm(120ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  // libevent may read a coarse monotonic clock: a few milliseconds early is its resolution.
  EXPECT_GE(fired_at - armed_at, 40ms);
}

TEST_F(Loop, CancelledTimerNeverFires) {
  int fired = 0;
  Timer timer(loop_, [&] { ++fired; });
  timer.arm(0ms);
  timer.cancel();
  EXPECT_FALSE(timer.armed());
  timer.cancel();  // twice is harmless
  // Timers fire in deadline order: had it stayed armed, it would have fired before this one.
  Timer later(loop_, [&] { loop_.exit(); });
  later.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 0);
}

TEST_F(Loop, ReArmingReplacesTheDeadline) {
  int fired = 0;
  Timer timer(loop_, [&] {
    ++fired;
    loop_.exit();
  });
  timer.arm(kDeadline * 10);
  timer.arm(0ms);  // sooner: fires now, not after the first delay
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 1);

  timer.arm(0ms);
  timer.arm(kDeadline * 10);  // later: does not fire at the first deadline
  Timer later(loop_, [&] { loop_.exit(); });
  later.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(timer.armed());
  timer.cancel();
  EXPECT_FALSE(timer.armed());
}

TEST_F(Loop, TimerMayReArmItselfFromItsCallback) {
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = std::make_unique<Timer>(loop_, [&] {
    EXPECT_FALSE(timer->armed());  // a fired one-shot timer is no longer pending
    if (++fired < 3) {
      timer->arm(1ms);
      EXPECT_TRUE(timer->armed());
    } else {
      loop_.exit();
    }
  });
  timer->arm(0ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 3);
}

TEST_F(Loop, NegativeDelayFiresAtOnce) {
  int fired = 0;
  Timer timer(loop_, [&] {
    ++fired;
    loop_.exit();
  });
  timer.arm(Duration(-1000));
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 1);
}

TEST_F(Loop, DestroyingAnArmedTimerCancelsIt) {
  int fired = 0;
  auto timer = std::make_unique<Timer>(loop_, [&] { ++fired; });
  timer->arm(0ms);
  timer.reset();
  Timer later(loop_, [&] { loop_.exit(); });
  later.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 0);
}

TEST_F(Loop, FdEventReportsReadinessUntilDisabled) {
  Pipe pipe;
  std::vector<short> seen;
  std::string read;
  std::unique_ptr<FdEvent> reader;
  Timer end(loop_, [&] { loop_.exit(); });
  reader = std::make_unique<FdEvent>(loop_, pipe.read_end.get(), EV_READ, [&](short what) {
    seen.push_back(what);
    read += pipe.drain();
    if (seen.size() == 1) {
      pipe.put("second");  // persistent: fires again without enable()
    } else {
      reader->disable();
      EXPECT_FALSE(reader->enabled());
      pipe.put("unread");  // disabled: no third call while the loop keeps turning
      end.arm(20ms);
    }
  });
  EXPECT_FALSE(reader->enabled());
  reader->enable();
  EXPECT_TRUE(reader->enabled());
  pipe.put("first");
  ASSERT_TRUE(run());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0] & EV_READ);
  EXPECT_TRUE(seen[1] & EV_READ);
  EXPECT_EQ(read, "firstsecond");
  EXPECT_EQ(pipe.drain(), "unread");
}

TEST_F(Loop, FdEventTimesOutWhenNothingHappens) {
  Pipe pipe;
  std::vector<short> seen;
  FdEvent reader(loop_, pipe.read_end.get(), EV_READ, [&](short what) {
    seen.push_back(what);
    loop_.exit();
  });
  reader.enable(10ms);
  ASSERT_TRUE(run());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & EV_TIMEOUT);
  EXPECT_FALSE(seen[0] & EV_READ);
}

TEST_F(Loop, FdEventForWritingFiresWhileThePipeHasRoom) {
  Pipe pipe;
  int calls = 0;
  short flags = 0;
  FdEvent writer(loop_, pipe.write_end.get(), EV_WRITE, [&](short what) {
    ++calls;
    flags = what;
    loop_.exit();
  });
  writer.enable();
  ASSERT_TRUE(run());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(flags & EV_WRITE);
}

TEST_F(Loop, DeferRunsOnTheNextTurnInOrder) {
  std::vector<std::string> order;
  Timer timer(loop_, [&] {
    loop_.defer([&] { order.push_back("first deferred"); });
    loop_.defer([&] {
      order.push_back("second deferred");
      loop_.exit();
    });
    order.push_back("timer callback ends");
  });
  timer.arm(0ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(order,
            (std::vector<std::string>{"timer callback ends", "first deferred", "second deferred"}));
}

TEST_F(Loop, DeferMayDestroyTheHandleWhoseCallbackAskedForIt) {
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = std::make_unique<Timer>(loop_, [&] {
    ++fired;
    loop_.defer([&] {
      timer.reset();
      loop_.exit();
    });
  });
  timer->arm(0ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(timer, nullptr);
}

TEST_F(Loop, ExitEndsRunWhileEventsRemain) {
  Pipe pipe;
  int reads = 0;
  FdEvent reader(loop_, pipe.read_end.get(), EV_READ, [&](short) {
    ++reads;
    pipe.drain();
  });
  reader.enable();  // persistent and not ready yet: run() would not return by itself
  Timer stop(loop_, [&] { loop_.exit(); });
  stop.arm(0ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(reads, 0);
  EXPECT_TRUE(reader.enabled());

  // The loop runs again after an exit.
  pipe.put("x");
  Timer again(loop_, [&] { loop_.exit(); });
  again.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(reads, 1);
}

TEST_F(Loop, AnExceptionInACallbackIsLoggedAndTheLoopGoesOn) {
  CapturedLog captured;
  int after = 0;
  Timer thrower(loop_, [] { throw std::runtime_error("timer kaboom"); });
  Timer nonstandard(loop_, [] { throw 42; });
  Pipe pipe;
  FdEvent fd_thrower(loop_, pipe.read_end.get(), EV_READ, [&](short) {
    pipe.drain();
    throw std::runtime_error("fd kaboom");
  });
  Timer next(loop_, [&] {
    ++after;
    loop_.defer([] { throw std::runtime_error("deferred kaboom"); });
    loop_.defer([&] { loop_.exit(); });
  });
  thrower.arm(0ms);
  nonstandard.arm(1ms);
  fd_thrower.enable();
  pipe.put("x");
  next.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(after, 1);
  EXPECT_TRUE(captured.has("unexpected exception in timer callback")) << captured.lines.size();
  EXPECT_TRUE(captured.has("timer kaboom"));
  EXPECT_TRUE(captured.has("fd kaboom"));
  EXPECT_TRUE(captured.has("unexpected exception in deferred callback"));
  EXPECT_TRUE(captured.has("deferred kaboom"));
}

// Saves this process's handler and mask for `signo` and restores both, whatever the test did.
class SignalGuard {
 public:
  explicit SignalGuard(int signo) : signo_(signo) {
    ::sigaction(signo_, nullptr, &old_action_);
    ::sigprocmask(SIG_SETMASK, nullptr, &old_mask_);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo_);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  }
  ~SignalGuard() {
    ::sigaction(signo_, &old_action_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  int signo_;
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

TEST_F(Loop, SignalEventDeliversEachSignalThroughTheLoop) {
  SignalGuard guard(SIGUSR2);
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGUSR2, nullptr, &before), 0);
  std::vector<int> seen;
  {
    SignalEvent usr2(loop_, SIGUSR2, [&](int signo) {
      seen.push_back(signo);
      if (seen.size() == 1)
        ::kill(::getpid(), SIGUSR2);  // persistent: the next one is delivered too
      else
        loop_.exit();
    });
    Timer send(loop_, [] { ::kill(::getpid(), SIGUSR2); });
    send.arm(0ms);
    ASSERT_TRUE(run());
  }
  EXPECT_EQ(seen, (std::vector<int>{SIGUSR2, SIGUSR2}));
  // Destroyed: the handler it installed is gone again.
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGUSR2, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, before.sa_handler);
}

TEST_F(Loop, AnExceptionInASignalCallbackIsLogged) {
  SignalGuard guard(SIGUSR2);
  CapturedLog captured;
  SignalEvent usr2(loop_, SIGUSR2, [&](int) {
    loop_.exit();
    throw std::runtime_error("signal kaboom");
  });
  ::kill(::getpid(), SIGUSR2);
  ASSERT_TRUE(run());
  EXPECT_TRUE(captured.has("unexpected exception in signal callback"));
  EXPECT_TRUE(captured.has("signal kaboom"));
}

TEST(EventLoop, IgnoresSigpipeSoAWriteToAVanishedReaderFails) {
  SignalGuard guard(SIGPIPE);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, nullptr), 0);
  EventLoop loop;
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &now), 0);
  ASSERT_EQ(now.sa_handler, SIG_IGN);  // else the write below would end the test binary
  Pipe pipe;
  pipe.read_end.reset();
  errno = 0;
  EXPECT_EQ(::write(pipe.write_end.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(EventLoop, KeepsAHandlerSomeoneElseInstalledForSigpipe) {
  SignalGuard guard(SIGPIPE);
  struct sigaction handler {};
  handler.sa_handler = [](int) {};
  ASSERT_EQ(::sigaction(SIGPIPE, &handler, nullptr), 0);
  EventLoop loop;
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, handler.sa_handler);
}

// What waits for an instance to be ready is decided in the turn it became ready: before the
// zero-delay timers, which run only after the loop has polled again.
TEST_F(Loop, SameTurnCallRunsBeforeTheNextTurnsTimers) {
  std::vector<std::string> order;
  Timer next_turn(loop_, [&] { order.push_back("timer"); });
  SameTurnCall this_turn(loop_, [&] { order.push_back("same turn"); });
  Timer first(loop_, [&] {
    next_turn.arm(0ms);
    this_turn.request();
    EXPECT_TRUE(this_turn.requested());
    order.push_back("caller");  // the call never runs inside its caller
  });
  first.arm(0ms);
  Timer end(loop_, [&] { loop_.exit(); });
  end.arm(30ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(order, (std::vector<std::string>{"caller", "same turn", "timer"}));
  EXPECT_FALSE(this_turn.requested());
}

TEST_F(Loop, SameTurnCallRunsOnceHoweverOftenRequested) {
  int ran = 0;
  SameTurnCall call(loop_, [&] { ++ran; });
  call.request();
  call.request();
  Timer end(loop_, [&] { loop_.exit(); });
  end.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(ran, 1);
  call.request();  // and again once it ran
  end.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(ran, 2);
}

TEST_F(Loop, CancelledOrDestroyedSameTurnCallNeverRuns) {
  int ran = 0;
  SameTurnCall cancelled(loop_, [&] { ++ran; });
  cancelled.request();
  cancelled.cancel();
  EXPECT_FALSE(cancelled.requested());
  {
    SameTurnCall destroyed(loop_, [&] { ++ran; });
    destroyed.request();
  }
  Timer end(loop_, [&] { loop_.exit(); });
  end.arm(20ms);
  ASSERT_TRUE(run());
  EXPECT_EQ(ran, 0);
}

}  // namespace
}  // namespace gardien
