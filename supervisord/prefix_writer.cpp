#include "supervisord/prefix_writer.h"

#include <cstring>

namespace gardien {

PrefixWriter::PrefixWriter(std::shared_ptr<QueuedWriter> queue, bool colour)
    : queue_(std::move(queue)) {
  style_.colour = colour;
}

void PrefixWriter::write(const LineBatch& batch) {
  if (batch.chunks.empty()) return;
  prefix_.clear();
  append_line_prefix(prefix_, style_, batch.instance, batch.timestamps ? &batch.time : nullptr);
  // Formatted into a fixed buffer, written (whole lines) each time it fills: a big read costs
  // no big allocation. Plain memcpy: this loop runs once per line, millions of times a second.
  if (!buffer_) buffer_.reset(new char[kBufferBytes]);  // not zeroed: untouched pages cost no RAM
  const std::size_t plen = prefix_.size();
  std::size_t used = 0;
  auto flush = [&] {
    if (used > 0) queue_->write(std::string_view(buffer_.get(), used));
    used = 0;
  };
  for_each_line(batch.chunks, [&](std::string_view line) {
    if (used + plen + line.size() > kBufferBytes) {
      flush();
      if (plen + line.size() > kBufferBytes) {  // a huge prefix and a long line: two parts
        iovec parts[] = {{prefix_.data(), plen}, {const_cast<char*>(line.data()), line.size()}};
        queue_->write(std::span<const iovec>(parts));
        return;
      }
    }
    std::memcpy(buffer_.get() + used, prefix_.data(), plen);
    std::memcpy(buffer_.get() + used + plen, line.data(), line.size());
    used += plen + line.size();
  });
  flush();
}

std::string PrefixWriter::problem() const {
  return queue_->error() ? std::strerror(queue_->error()) : std::string();
}

}  // namespace gardien
