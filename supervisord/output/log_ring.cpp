#include "supervisord/output/log_ring.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "supervisord/output/line_framer.h"

namespace gardien {

namespace {

// A group: lines read together (same time and stream), up to kGroupBytes, each with its '\n'.
// Its lines are counted only when asked (tail, size): appending is a copy and nothing more.
struct GroupHeader {
  std::int64_t time_ns;
  std::uint32_t bytes;  // of text, '\n's included
  std::uint8_t stream;
  std::uint8_t pad[3];
};
static_assert(sizeof(GroupHeader) == LogRing::kEntryOverhead);

// Per-line bookkeeping would cost more than the copy at 10 million lines a second: lines are
// kept in groups of about this size.
constexpr std::size_t kGroupBytes = 4096;

// True when `pieces` (runs of whole lines) hold more than one line.
bool several_lines(std::span<const std::string_view> pieces) {
  return pieces.size() > 1 || (!pieces.empty() && pieces[0].size() > 1 &&
                               std::memchr(pieces[0].data(), '\n', pieces[0].size() - 1));
}

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

void LogRing::copy_in(std::size_t pos, const void* src, std::size_t n) {
  std::size_t first = std::min(n, buffer_.size() - pos);
  std::memcpy(buffer_.data() + pos, src, first);
  if (first < n) std::memcpy(buffer_.data(), static_cast<const char*>(src) + first, n - first);
}

void LogRing::copy_out(std::size_t pos, void* dst, std::size_t n) const {
  std::size_t first = std::min(n, buffer_.size() - pos);
  std::memcpy(dst, buffer_.data() + pos, first);
  if (first < n) std::memcpy(static_cast<char*>(dst) + first, buffer_.data(), n - first);
}

std::size_t LogRing::advance(std::size_t pos, std::size_t n) const noexcept {
  pos += n;
  return pos >= buffer_.size() ? pos - buffer_.size() : pos;
}

void LogRing::evict_oldest() {
  GroupHeader h;
  copy_out(tail_, &h, sizeof h);
  std::size_t size = sizeof h + h.bytes;
  tail_ = advance(tail_, size);
  used_ -= size;
  ++first_group_;
}

std::size_t LogRing::count_lines_at(std::size_t pos, std::size_t n) const noexcept {
  std::size_t first = std::min(n, buffer_.size() - pos);
  return count_lines(std::string_view(buffer_.data() + pos, first)) +
         count_lines(std::string_view(buffer_.data(), n - first));
}

void LogRing::store(std::int64_t time_ns, Stream stream, std::span<const std::string_view> pieces,
                    std::size_t bytes) {
  if (sizeof(GroupHeader) + bytes > capacity_) {
    if (several_lines(pieces)) {  // a tiny ring: one line at a time
      std::vector<std::string_view> lines;
      for_each_line(pieces, [&](std::string_view line) { lines.push_back(line); });
      for (std::string_view line : lines) store(time_ns, stream, std::span(&line, 1), line.size());
      return;
    }
    // A line larger than the whole ring keeps its beginning.
    std::string cut(pieces[0].substr(0, capacity_ - sizeof(GroupHeader) - 1));
    cut += '\n';
    std::string_view view(cut);
    store(time_ns, stream, std::span(&view, 1), view.size());
    return;
  }
  std::size_t need = sizeof(GroupHeader) + bytes;
  if (buffer_.size() < capacity_ && used_ + need > buffer_.size()) {
    // Nothing was evicted yet (groups sit at [0, used_)): grow instead.
    std::size_t grown = std::max<std::size_t>(buffer_.size() * 2, 16384);
    buffer_.resize(std::min(std::max(grown, used_ + need), capacity_));
    head_ = used_;  // it may have wrapped to 0 when the last group ended exactly at the end
    ++layout_;
  }
  while (used_ + need > buffer_.size()) evict_oldest();
  GroupHeader h{time_ns, static_cast<std::uint32_t>(bytes), static_cast<std::uint8_t>(stream), {}};
  copy_in(head_, &h, sizeof h);
  std::size_t pos = advance(head_, sizeof h);
  for (std::string_view piece : pieces) {
    copy_in(pos, piece.data(), piece.size());
    pos = advance(pos, piece.size());
  }
  head_ = pos;
  used_ += need;
  ++end_group_;
}

void LogRing::store_chunks(std::int64_t time_ns, Stream stream,
                           std::span<const std::string_view> chunks) {
  // Groups of whole lines up to kGroupBytes (a longer line is a group of its own), cut out of
  // the chunks with a backwards search per group.
  group_.clear();
  std::size_t bytes = 0;
  auto close_group = [&] {
    if (group_.empty()) return;
    store(time_ns, stream, group_, bytes);
    group_.clear();
    bytes = 0;
  };
  for (std::string_view chunk : chunks) {
    while (!chunk.empty()) {
      std::size_t room = kGroupBytes - bytes;
      if (chunk.size() <= room) {
        group_.push_back(chunk);
        bytes += chunk.size();
        break;
      }
      const void* nl = room > 0 ? ::memrchr(chunk.data(), '\n', room) : nullptr;
      if (!nl && !group_.empty()) {  // the next line does not fit this group: start another
        close_group();
        continue;
      }
      if (!nl) nl = std::memchr(chunk.data(), '\n', chunk.size());
      std::size_t take =
          nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data()) + 1
             : chunk.size();
      group_.push_back(chunk.substr(0, take));
      bytes += take;
      chunk.remove_prefix(take);
      close_group();
    }
  }
  close_group();
}

void LogRing::append(const LineBatch& batch) {
  store_chunks(to_ns(batch.time), batch.stream, batch.chunks);
  if (subscribers_.empty()) return;
  ++dispatching_;
  for_each_line(batch.chunks, [&](std::string_view line) {
    LogEntry entry{batch.time, batch.stream, instance_, line.substr(0, line.size() - 1)};
    // By index with a reference held: a callback may subscribe or unsubscribe. Those
    // subscribed during this dispatch start with the next batch.
    for (std::size_t k = 0, n = subscribers_.size(); k < n; ++k) {
      if (std::shared_ptr<Subscriber> fn = subscribers_[k].fn) (*fn)(entry);
    }
  });
  if (--dispatching_ == 0) {
    std::erase_if(subscribers_, [](const Subscription& s) { return !s.fn; });
  }
}

void LogRing::append(WallClock::time_point time, Stream stream, std::string_view text) {
  std::string line(text);
  line += '\n';
  std::string_view view(line);
  append(LineBatch{instance_, stream, time, false, std::span<const std::string_view>(&view, 1)});
}

std::size_t LogRing::size() const noexcept {
  std::size_t lines = 0;
  for (std::size_t pos = tail_, seen = 0; seen < used_;) {
    GroupHeader h;
    copy_out(pos, &h, sizeof h);
    lines += count_lines_at(advance(pos, sizeof h), h.bytes);
    seen += sizeof h + h.bytes;
    pos = advance(pos, sizeof h + h.bytes);
  }
  return lines;
}

std::vector<LogRecord> LogRing::tail(std::size_t n, std::optional<Stream> only) const {
  // Walk the groups oldest -> newest, remembering the matching ones.
  struct Found {
    std::size_t pos;
    GroupHeader h;
    std::size_t lines = 0;
  };
  std::vector<Found> groups;
  for (std::size_t pos = tail_, seen = 0; seen < used_;) {
    GroupHeader h;
    copy_out(pos, &h, sizeof h);
    if (!only || static_cast<Stream>(h.stream) == *only) groups.push_back({pos, h});
    seen += sizeof h + h.bytes;
    pos = advance(pos, sizeof h + h.bytes);
  }
  // Newest first, count lines until there are enough.
  std::size_t first = groups.size(), lines = 0;
  while (first > 0 && (n == 0 || lines < n)) {
    Found& g = groups[--first];
    g.lines = count_lines_at(advance(g.pos, sizeof g.h), g.h.bytes);
    lines += g.lines;
  }
  std::size_t skip = (n == 0 || n >= lines) ? 0 : lines - n;
  std::vector<LogRecord> out;
  out.reserve(lines - skip);
  std::string text;
  for (std::size_t k = first; k < groups.size(); ++k) {
    const Found& g = groups[k];
    if (skip >= g.lines) {
      skip -= g.lines;
      continue;
    }
    text.resize(g.h.bytes);
    copy_out(advance(g.pos, sizeof g.h), text.data(), g.h.bytes);
    std::size_t start = 0;
    for (std::size_t line = 0; line < g.lines; ++line) {
      std::size_t end = text.find('\n', start);
      if (line >= skip) {
        out.push_back({from_ns(g.h.time_ns), static_cast<Stream>(g.h.stream), instance_,
                       text.substr(start, end - start)});
      }
      start = end + 1;
    }
    skip = 0;
  }
  return out;
}

std::vector<LogRecord> LogRing::read(LogCursor& cursor, std::uint64_t end, std::size_t max_bytes,
                                     std::optional<Stream> only) const {
  std::vector<LogRecord> out;
  if (cursor.group < first_group_ || cursor.layout != layout_) {
    std::uint64_t wanted = std::max(cursor.group, first_group_);
    if (wanted != cursor.group) cursor.line = 0;
    cursor.group = first_group_;
    cursor.pos = tail_;
    cursor.layout = layout_;
    while (cursor.group < wanted && cursor.group < end_group_) {
      GroupHeader h;
      copy_out(cursor.pos, &h, sizeof h);
      cursor.pos = advance(cursor.pos, sizeof h + h.bytes);
      ++cursor.group;
    }
  }
  end = std::min(end, end_group_);
  std::size_t bytes = 0;
  std::string text;
  while (cursor.group < end && bytes < max_bytes) {
    GroupHeader h;
    copy_out(cursor.pos, &h, sizeof h);
    if (!only || static_cast<Stream>(h.stream) == *only) {
      text.resize(h.bytes);
      copy_out(advance(cursor.pos, sizeof h), text.data(), h.bytes);
      std::size_t start = 0;
      for (std::size_t line = 0; start < text.size(); ++line) {
        std::size_t eol = text.find('\n', start);
        if (eol == std::string::npos) eol = text.size();
        if (line >= cursor.line) {
          if (bytes >= max_bytes) {
            cursor.line = line;
            return out;
          }
          out.push_back({from_ns(h.time_ns), static_cast<Stream>(h.stream), instance_,
                         text.substr(start, eol - start)});
          bytes += eol - start + 1;
        }
        start = eol + 1;
      }
    }
    cursor.pos = advance(cursor.pos, sizeof h + h.bytes);
    ++cursor.group;
    cursor.line = 0;
  }
  return out;
}

std::vector<LogCursor> LogRing::tail_cursors(const std::vector<std::shared_ptr<LogRing>>& rings,
                                             std::size_t n, std::optional<Stream> only) {
  struct Group {
    std::uint64_t number;
    std::size_t pos;
    std::int64_t time_ns;
    std::uint32_t bytes;
  };
  std::vector<std::vector<Group>> groups(rings.size());
  std::vector<LogCursor> out(rings.size());
  for (std::size_t r = 0; r < rings.size(); ++r) {
    const LogRing& ring = *rings[r];
    out[r] = LogCursor{ring.end_group_, 0, ring.head_, ring.layout_};
    std::size_t pos = ring.tail_;
    for (std::uint64_t g = ring.first_group_; g < ring.end_group_; ++g) {
      GroupHeader h;
      ring.copy_out(pos, &h, sizeof h);
      if (!only || static_cast<Stream>(h.stream) == *only)
        groups[r].push_back({g, pos, h.time_ns, h.bytes});
      pos = ring.advance(pos, sizeof h + h.bytes);
    }
  }
  // Every line holds at least its '\n': asked for as many lines as there are bytes, they want
  // everything, and nothing needs counting.
  std::size_t bytes = 0;
  for (const auto& list : groups) {
    for (const Group& g : list) bytes += g.bytes;
  }
  if (n >= bytes) {
    for (std::size_t r = 0; r < rings.size(); ++r) {
      if (!groups[r].empty())
        out[r] = LogCursor{groups[r][0].number, 0, groups[r][0].pos, rings[r]->layout_};
    }
    return out;
  }
  // Newest first across the rings (on equal times the later ring's lines come last, as in
  // merge_tails), counting lines until there are n.
  std::vector<std::size_t> left(rings.size());
  for (std::size_t r = 0; r < rings.size(); ++r) left[r] = groups[r].size();
  std::size_t lines = 0;
  while (lines < n) {
    std::optional<std::size_t> newest;
    for (std::size_t r = 0; r < rings.size(); ++r) {
      if (left[r] == 0) continue;
      if (!newest || groups[r][left[r] - 1].time_ns >= groups[*newest][left[*newest] - 1].time_ns)
        newest = r;
    }
    if (!newest) break;
    std::size_t r = *newest;
    const Group& g = groups[r][--left[r]];
    const LogRing& ring = *rings[r];
    lines += ring.count_lines_at(ring.advance(g.pos, sizeof(GroupHeader)), g.bytes);
    out[r] = LogCursor{g.number, lines > n ? lines - n : 0, g.pos, ring.layout_};
  }
  return out;
}

void LogRing::set_capacity(std::size_t capacity_bytes) {
  capacity_bytes = std::max(capacity_bytes, kEntryOverhead + 1);
  if (capacity_bytes == capacity_) return;
  std::vector<LogRecord> kept = tail(0);
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_ = tail_ = used_ = 0;
  first_group_ = end_group_;  // readers start again at the oldest kept line
  ++layout_;
  capacity_ = capacity_bytes;
  std::vector<std::string> owned;
  std::vector<std::string_view> views;
  // Lines of one group shared time and stream: regroup them so the ring costs the same.
  for (std::size_t i = 0; i < kept.size();) {
    std::size_t j = i;
    owned.clear();
    while (j < kept.size() && kept[j].time == kept[i].time && kept[j].stream == kept[i].stream) {
      owned.push_back(kept[j].text + "\n");
      ++j;
    }
    views.assign(owned.begin(), owned.end());
    store_chunks(to_ns(kept[i].time), kept[i].stream, views);
    i = j;
  }
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
