// What the output machinery passes around: a batch of framed lines, the sinks that take them, and
// the producers a congested sink pauses (back-pressure instead of loss or blocking).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/stream.h"
#include "common/timestamp.h"

namespace gardien {

// The lines one read(2) of a program's pipe completed. Every line ends with '\n' and is at most
// LineFramer::kMaxLine bytes before it; the views live until write() returns.
struct LineBatch {
  std::string_view instance;  // "web.1"
  Stream stream = Stream::out;
  WallClock::time_point time;  // when the daemon read them
  bool timestamps = false;     // the program asked for an RFC 3339 time before each line
  std::span<const std::string_view> lines;
};

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
