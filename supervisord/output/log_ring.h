// A program instance's recent output, bounded in bytes, for `gardienctl logs [-n N] [-f]`.
// Rings are keyed by instance name (see OutputHub), so one survives its program's restarts and a
// `logs -f` subscriber keeps following across them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/stream.h"
#include "common/timestamp.h"
#include "supervisord/output/line_sink.h"

namespace gardien {

// One line as a subscriber sees it; the views live for the callback only.
struct LogEntry {
  WallClock::time_point time;
  Stream stream = Stream::out;
  std::string_view instance;
  std::string_view text;  // without '\n'
};

// One line copied out of a ring.
struct LogRecord {
  WallClock::time_point time;
  Stream stream = Stream::out;
  std::string instance;
  std::string text;  // without '\n'
  bool operator==(const LogRecord&) const = default;
};

class LogRing;

// A reader's place in a ring (LogRing::read): the next group of lines and how many of its lines
// were read already. Groups are numbered from 0, the first ever stored, so a place survives
// appends; a place whose lines were evicted moves on to the oldest kept.
struct LogCursor {
  std::uint64_t group = 0;
  std::size_t line = 0;
  // Where that group sits in the ring, valid for `layout` (set by the ring).
  std::size_t pos = 0;
  std::uint64_t layout = ~std::uint64_t(0);
};

// Unsubscribes when destroyed; harmless after the ring is gone.
class LogSubscription {
 public:
  LogSubscription() = default;
  LogSubscription(std::weak_ptr<LogRing> ring, std::uint64_t id)
      : ring_(std::move(ring)), id_(id) {}
  LogSubscription(LogSubscription&&) noexcept = default;
  LogSubscription& operator=(LogSubscription&& other) noexcept;
  ~LogSubscription();
  void reset();

 private:
  std::weak_ptr<LogRing> ring_;
  std::uint64_t id_ = 0;
};

class LogRing : public std::enable_shared_from_this<LogRing> {
 public:
  using Subscriber = std::function<void(const LogEntry&)>;
  // Lines are kept in groups (those read together, up to 4 KiB): each line costs its text and
  // its '\n', each group kEntryOverhead more (time, stream, size).
  static constexpr std::size_t kEntryOverhead = 16;

  static std::shared_ptr<LogRing> create(std::string instance, std::size_t capacity_bytes);

  const std::string& instance() const noexcept { return instance_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t used_bytes() const noexcept { return used_; }
  // Lines kept. Counted when asked (a walk over the ring), not at every append.
  std::size_t size() const noexcept;

  // Keeps the lines of `batch` (the oldest go when full) and hands each to the subscribers.
  // A chunk of many lines is copied in a few runs, one per group.
  void append(const LineBatch& batch);
  void append(WallClock::time_point time, Stream stream, std::string_view text);

  // The last `n` lines (all when n is 0), oldest first, optionally of one stream.
  std::vector<LogRecord> tail(std::size_t n, std::optional<Stream> only = std::nullopt) const;

  // Reading in pieces, for an answer built as the client takes it: copies the lines from
  // `cursor` up to `end` (a group number; end() when taken) of stream `only`, stopping once
  // `max_bytes` of text are out, and moves the cursor past them.
  std::vector<LogRecord> read(LogCursor& cursor, std::uint64_t end, std::size_t max_bytes,
                              std::optional<Stream> only = std::nullopt) const;
  std::uint64_t end() const noexcept { return end_group_; }
  // The oldest line kept.
  LogCursor begin() const noexcept { return LogCursor{first_group_, 0, tail_, layout_}; }
  // Where the last `n` lines of `rings` merged by time start in each ring (as merge_tails
  // counts them); a ring with none of them gets its end. Reads group headers, copies no text.
  static std::vector<LogCursor> tail_cursors(const std::vector<std::shared_ptr<LogRing>>& rings,
                                             std::size_t n, std::optional<Stream> only);

  // Keeps the newest lines that fit.
  void set_capacity(std::size_t capacity_bytes);

  // `subscriber` sees every line appended from now on, until the subscription is destroyed.
  [[nodiscard]] LogSubscription subscribe(Subscriber subscriber);
  std::size_t subscriber_count() const noexcept;

 private:
  friend class LogSubscription;
  LogRing(std::string instance, std::size_t capacity_bytes);
  void unsubscribe(std::uint64_t id) noexcept;
  void store_chunks(std::int64_t time_ns, Stream stream, std::span<const std::string_view> chunks);
  void store(std::int64_t time_ns, Stream stream, std::span<const std::string_view> pieces,
             std::size_t bytes);
  void evict_oldest();
  void copy_in(std::size_t pos, const void* src, std::size_t n);
  void copy_out(std::size_t pos, void* dst, std::size_t n) const;
  std::size_t count_lines_at(std::size_t pos, std::size_t n) const noexcept;
  std::size_t advance(std::size_t pos, std::size_t n) const noexcept;

  std::string instance_;
  std::size_t capacity_;
  // Groups live back to back in a byte ring, [header][lines with their '\n'], wrapping at the
  // end. The buffer grows by doubling up to capacity_, so a quiet program
  // costs little memory.
  std::vector<char> buffer_;
  std::size_t head_ = 0;  // where the next entry goes
  std::size_t tail_ = 0;  // the oldest entry
  std::size_t used_ = 0;
  std::uint64_t first_group_ = 0;        // the number of the oldest group kept
  std::uint64_t end_group_ = 0;          // the number the next group gets
  std::uint64_t layout_ = 0;             // changes when positions move (growth, set_capacity)
  std::vector<std::string_view> group_;  // the pieces of the group being stored

  struct Subscription {
    std::uint64_t id;
    std::shared_ptr<Subscriber> fn;  // null once unsubscribed
  };
  std::vector<Subscription> subscribers_;
  std::uint64_t next_id_ = 1;
  int dispatching_ = 0;  // unsubscribing inside a callback only clears the slot
};

// The last `n` lines of several rings merged by time (ties keep the rings' order).
std::vector<LogRecord> merge_tails(const std::vector<std::shared_ptr<LogRing>>& rings,
                                   std::size_t n, std::optional<Stream> only = std::nullopt);

}  // namespace gardien
