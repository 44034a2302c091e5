// What the output machinery passes around: a batch of framed lines, the sinks that take them, and
// the producers a congested sink pauses (back-pressure instead of loss or blocking).
#pragma once

#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "common/stream.h"
#include "common/timestamp.h"

namespace gardien {

// The lines one read(2) of a program's pipe completed, in chunks: each chunk is a run of one or
// more whole lines, every line ending with '\n' and at most LineFramer::kMaxLine bytes before it.
// A read of many short lines is one chunk, so a sink that needs no per-line work (a file, the
// ring) handles it with one copy or one write. The views live until write() returns.
struct LineBatch {
  std::string_view instance;  // "web.1"
  Stream stream = Stream::out;
  WallClock::time_point time;  // when the daemon read them
  bool timestamps = false;     // the program asked for an RFC 3339 time before each line
  std::span<const std::string_view> chunks;
};

// Calls `f(line)` for every line (with its '\n') of `chunks`, in order.
template <typename F>
void for_each_line(std::span<const std::string_view> chunks, F&& f) {
  for (std::string_view chunk : chunks) {
    while (!chunk.empty()) {
      const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
      std::size_t len =
          nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data()) + 1
             : chunk.size();
      f(chunk.substr(0, len));
      chunk.remove_prefix(len);
    }
  }
}

// Something that reads a source and can stop while a sink it feeds is congested.
class Producer {
 public:
  virtual void pause() = 0;
  virtual void resume() = 0;

 protected:
  ~Producer() = default;
};

class LineSink {
 public:
  virtual ~LineSink() = default;
  virtual void write(const LineBatch& batch) = 0;
  // A producer is paused once per congestion episode (at once when attached during one) and
  // resumed when it ends; detach before the producer goes away.
  virtual void attach(Producer& producer) = 0;
  virtual void detach(Producer& producer) = 0;
  // Empty while the sink works; else why it does not ("No space left on device").
  virtual std::string problem() const = 0;
};

}  // namespace gardien
