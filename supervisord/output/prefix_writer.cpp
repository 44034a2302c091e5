#include "supervisord/output/prefix_writer.h"

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
  // no big allocation. This loop runs once per line, ten million times per GiB of short lines:
  // raw pointers, and a short prefix copied as one fixed 32-byte block (the line's copy then
  // overwrites what went past it; the buffer has kSlack bytes spare for that).
  if (!buffer_) buffer_.reset(new char[kBufferBytes + kSlack]);  // not zeroed: untouched pages
  const std::size_t plen = prefix_.size();
  char block[kSlack] = {};
  const bool short_prefix = plen <= kSlack;
  if (short_prefix) std::memcpy(block, prefix_.data(), plen);
  char* const start = buffer_.get();
  char* out = start;
  for (std::string_view chunk : batch.chunks) {
    const char* p = chunk.data();
    const char* const end = p + chunk.size();
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
      const char* next = nl ? static_cast<const char*>(nl) + 1 : end;
      auto len = static_cast<std::size_t>(next - p);
      if (static_cast<std::size_t>(out - start) + plen + len > kBufferBytes) {
        if (out > start)
          queue_->write(std::string_view(start, static_cast<std::size_t>(out - start)));
        out = start;
        if (plen + len > kBufferBytes) {  // a huge prefix and a long line: two parts
          iovec parts[] = {{prefix_.data(), plen}, {const_cast<char*>(p), len}};
          queue_->write(std::span<const iovec>(parts));
          p = next;
          continue;
        }
      }
      if (short_prefix) {
        std::memcpy(out, block, kSlack);
      } else {
        std::memcpy(out, prefix_.data(), plen);
      }
      std::memcpy(out + plen, p, len);
      out += plen + len;
      p = next;
    }
  }
  if (out > start) queue_->write(std::string_view(start, static_cast<std::size_t>(out - start)));
}

std::string PrefixWriter::problem() const {
  return queue_->error() ? std::strerror(queue_->error()) : std::string();
}

}  // namespace gardien
