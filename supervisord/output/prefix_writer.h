// The `prefix` sink: each line on one of the daemon's own fds as "[TIME ]NAME<pad> | line",
// coloured only when that fd is a terminal. Lines go through a QueuedWriter: the loop never
// blocks, lines of different programs never interleave mid-line, and a reader that cannot keep
// up pauses the programs (back-pressure) instead of losing lines.
#pragma once

#include <memory>
#include <string>

#include "common/line_prefix.h"
#include "supervisord/output/line_sink.h"
#include "supervisord/output/queued_writer.h"

namespace gardien {

class PrefixWriter : public LineSink {
 public:
  // `queue` may be shared by two writers (fd 1 and fd 2 on the same pipe or tty).
  PrefixWriter(std::shared_ptr<QueuedWriter> queue, bool colour);

  void write(const LineBatch& batch) override;
  void attach(Producer& producer) override { queue_->attach(producer); }
  void detach(Producer& producer) override { queue_->detach(producer); }
  std::string problem() const override;

  void set_name_width(std::size_t width) { style_.name_width = width; }
  const LinePrefixStyle& style() const noexcept { return style_; }
  QueuedWriter& queue() noexcept { return *queue_; }

 private:
  std::shared_ptr<QueuedWriter> queue_;
  LinePrefixStyle style_;
  static constexpr std::size_t kBufferBytes = 128 * 1024;
  static constexpr std::size_t kSlack = 32;
  std::string prefix_;              // the same for every line of a batch
  std::unique_ptr<char[]> buffer_;  // formatted lines, kBufferBytes once the first batch comes
};

}  // namespace gardien
