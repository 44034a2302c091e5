// Reads one pipe of a program (its stdout, its stderr, or both merged) without blocking, frames
// the bytes into lines and hands each batch to the program's sink and ring buffer. A congested
// sink pauses it (the program then blocks on its full pipe). It reads until the last writer has
// closed the pipe, so the last line, even without a newline, is never lost.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/stream.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/line_framer.h"
#include "supervisord/output/line_sink.h"
#include "supervisord/output/log_ring.h"

namespace gardien {

class OutputReader final : public Producer {
 public:
  static constexpr std::size_t kReadSize = 64 * 1024;

  // `read_end` must be O_NONBLOCK. `sink` and `ring` may be null (a `null` sink, no ring).
  OutputReader(EventLoop& loop, Fd read_end, Stream stream, std::string instance, bool timestamps,
               std::shared_ptr<LineSink> sink, std::shared_ptr<LogRing> ring);
  ~OutputReader();
  OutputReader(const OutputReader&) = delete;
  OutputReader& operator=(const OutputReader&) = delete;

  // Calls `on_done` once, on a later loop turn: at EOF, or after `max_wait` when a process the
  // program left still holds the pipe (or the sink is congested). Reading goes on to EOF either
  // way: a survivor's late lines still reach the sinks, and it never meets a closed pipe.
  void drain(Duration max_wait, std::function<void()> on_done);
  bool finished() const noexcept { return !fd_; }
  bool paused() const noexcept { return pauses_ > 0; }
  Stream stream() const noexcept { return stream_; }
  const std::shared_ptr<LineSink>& sink() const noexcept { return sink_; }

  void pause() override;
  void resume() override;

 private:
  void on_readable();
  // One read(2); false when nothing more can be read now (EAGAIN, EOF, error).
  bool read_once();
  void deliver();
  void finish();
  void call_on_done();

  EventLoop& loop_;
  Fd fd_;
  Stream stream_;
  std::string instance_;
  bool timestamps_;
  std::shared_ptr<LineSink> sink_;
  std::shared_ptr<LogRing> ring_;
  FdEvent readable_;
  Timer drain_timer_;
  LineFramer framer_;
  std::vector<std::string_view> chunks_;  // what the framer made of the last read
  int pauses_ = 0;
  std::function<void()> on_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred callbacks
};

}  // namespace gardien
