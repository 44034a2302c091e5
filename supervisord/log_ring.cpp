#include "supervisord/log_ring.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace gardien {

namespace {

struct EntryHeader {
  std::int64_t time_ns;
  std::uint32_t length;
  std::uint8_t stream;
  std::uint8_t pad[3];
};
static_assert(sizeof(EntryHeader) == LogRing::kEntryOverhead);

std::int64_t to_ns(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

WallClock::time_point from_ns(std::int64_t ns) {
  return WallClock::time_point(
      std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

LogSubscription& LogSubscription::operator=(LogSubscription&& other) noexcept {
  if (this != &other) {
    reset();
    ring_ = std::move(other.ring_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

LogSubscription::~LogSubscription() {
  reset();
}

void LogSubscription::reset() {
  if (auto ring = ring_.lock()) ring->unsubscribe(id_);
  ring_.reset();
  id_ = 0;
}

std::shared_ptr<LogRing> LogRing::create(std::string instance, std::size_t capacity_bytes) {
  return std::shared_ptr<LogRing>(new LogRing(std::move(instance), capacity_bytes));
}

LogRing::LogRing(std::string instance, std::size_t capacity_bytes)
    : instance_(std::move(instance)), capacity_(std::max(capacity_bytes, kEntryOverhead + 1)) {}

void LogRing::copy_in(std::uint64_t at, const void* src, std::size_t n) {
  std::size_t size = buffer_.size();
  auto pos = static_cast<std::size_t>(at % size);
  std::size_t first = std::min(n, size - pos);
  std::memcpy(buffer_.data() + pos, src, first);
  if (first < n) std::memcpy(buffer_.data(), static_cast<const char*>(src) + first, n - first);
}

void LogRing::copy_out(std::uint64_t at, void* dst, std::size_t n) const {
  std::size_t size = buffer_.size();
  auto pos = static_cast<std::size_t>(at % size);
  std::size_t first = std::min(n, size - pos);
  std::memcpy(dst, buffer_.data() + pos, first);
  if (first < n) std::memcpy(static_cast<char*>(dst) + first, buffer_.data(), n - first);
}

void LogRing::evict_oldest() {
  EntryHeader h;
  copy_out(tail_, &h, sizeof h);
  tail_ += sizeof h + h.length;
  --count_;
}

void LogRing::store(std::int64_t time_ns, Stream stream, std::string_view text) {
  // A line larger than the whole ring keeps its beginning.
  if (text.size() > capacity_ - sizeof(EntryHeader)) {
    text = text.substr(0, capacity_ - sizeof(EntryHeader));
  }
  std::size_t need = sizeof(EntryHeader) + text.size();
  if (buffer_.size() < capacity_ && head_ + need > buffer_.size()) {
    // Still linear (nothing evicted, offsets are positions): grow.
    std::size_t grown = std::max<std::size_t>(buffer_.size() * 2, 4096);
    grown = std::max<std::size_t>(grown, static_cast<std::size_t>(head_ + need));
    buffer_.resize(std::min(grown, capacity_));
  }
  while (head_ + need - tail_ > buffer_.size()) evict_oldest();
  EntryHeader h{
      time_ns, static_cast<std::uint32_t>(text.size()), static_cast<std::uint8_t>(stream), {}};
  copy_in(head_, &h, sizeof h);
  if (!text.empty()) copy_in(head_ + sizeof h, text.data(), text.size());
  head_ += need;
  ++count_;
}

void LogRing::append(const LineBatch& batch) {
  std::int64_t ns = to_ns(batch.time);
  for (std::string_view line : batch.lines) {
    std::string_view text = line.substr(0, line.size() - 1);  // without the '\n'
    store(ns, batch.stream, text);
    if (!subscribers_.empty()) {
      LogEntry entry{batch.time, batch.stream, instance_, text};
      ++dispatching_;
      // By index with a reference held: a callback may subscribe or unsubscribe.
      // Those subscribed during this dispatch start with the next line.
      for (std::size_t i = 0, n = subscribers_.size(); i < n; ++i) {
        if (std::shared_ptr<Subscriber> fn = subscribers_[i].fn) (*fn)(entry);
      }
      if (--dispatching_ == 0) {
        std::erase_if(subscribers_, [](const Subscription& s) { return !s.fn; });
      }
    }
  }
}

void LogRing::append(WallClock::time_point time, Stream stream, std::string_view text) {
  std::string line(text);
  line += '\n';
  std::string_view view(line);
  append(LineBatch{instance_, stream, time, false, std::span<const std::string_view>(&view, 1)});
}

std::vector<LogRecord> LogRing::tail(std::size_t n, std::optional<Stream> only) const {
  // Walk oldest -> newest remembering matching offsets, then copy the last n.
  std::vector<std::uint64_t> offsets;
  offsets.reserve(count_);
  for (std::uint64_t at = tail_; at < head_;) {
    EntryHeader h;
    copy_out(at, &h, sizeof h);
    if (!only || static_cast<Stream>(h.stream) == *only) offsets.push_back(at);
    at += sizeof h + h.length;
  }
  std::size_t first = (n == 0 || n >= offsets.size()) ? 0 : offsets.size() - n;
  std::vector<LogRecord> out;
  out.reserve(offsets.size() - first);
  for (std::size_t i = first; i < offsets.size(); ++i) {
    EntryHeader h;
    copy_out(offsets[i], &h, sizeof h);
    LogRecord r{from_ns(h.time_ns), static_cast<Stream>(h.stream), instance_,
                std::string(h.length, '\0')};
    if (h.length > 0) copy_out(offsets[i] + sizeof h, r.text.data(), h.length);
    out.push_back(std::move(r));
  }
  return out;
}

void LogRing::set_capacity(std::size_t capacity_bytes) {
  capacity_bytes = std::max(capacity_bytes, kEntryOverhead + 1);
  if (capacity_bytes == capacity_) return;
  std::vector<LogRecord> kept = tail(0);
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_ = tail_ = 0;
  count_ = 0;
  capacity_ = capacity_bytes;
  for (const LogRecord& r : kept) store(to_ns(r.time), r.stream, r.text);
}

LogSubscription LogRing::subscribe(Subscriber subscriber) {
  std::uint64_t id = next_id_++;
  subscribers_.push_back({id, std::make_shared<Subscriber>(std::move(subscriber))});
  return LogSubscription(weak_from_this(), id);
}

std::size_t LogRing::subscriber_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                                [](const Subscription& s) { return bool(s.fn); }));
}

void LogRing::unsubscribe(std::uint64_t id) noexcept {
  for (auto& s : subscribers_) {
    if (s.id == id) s.fn.reset();
  }
  if (dispatching_ == 0) std::erase_if(subscribers_, [](const Subscription& s) { return !s.fn; });
}

std::vector<LogRecord> merge_tails(const std::vector<std::shared_ptr<LogRing>>& rings,
                                   std::size_t n, std::optional<Stream> only) {
  std::vector<LogRecord> all;
  for (const auto& ring : rings) {
    if (!ring) continue;
    auto part = ring->tail(n, only);
    all.insert(all.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const LogRecord& a, const LogRecord& b) { return a.time < b.time; });
  if (n != 0 && all.size() > n) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(n));
  return all;
}

}  // namespace gardien
