#include "supervisord/prefix_writer.h"

#include <cstring>

namespace gardien {

PrefixWriter::PrefixWriter(std::shared_ptr<QueuedWriter> queue, bool colour)
    : queue_(std::move(queue)) {
  style_.colour = colour;
}

void PrefixWriter::write(const LineBatch& batch) {
  if (batch.lines.empty()) return;
  prefix_.clear();
  append_line_prefix(prefix_, style_, batch.instance, batch.timestamps ? &batch.time : nullptr);
  std::size_t total = 0;
  for (std::string_view line : batch.lines) total += prefix_.size() + line.size();
  scratch_.clear();
  scratch_.reserve(total);
  for (std::string_view line : batch.lines) {
    scratch_ += prefix_;
    scratch_ += line;
  }
  queue_->write(std::string_view(scratch_));
}

std::string PrefixWriter::problem() const {
  return queue_->error() ? std::strerror(queue_->error()) : std::string();
}

}  // namespace gardien
