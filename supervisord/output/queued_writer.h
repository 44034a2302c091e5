// Bytes on their way to one fd. Whole lines go into a queue written when the fd is ready, so the
// loop never blocks on a slow reader and lines never interleave mid-line. Above high_water the
// attached producers are paused (back-pressure: nothing lost), at low_water resumed. While the
// target fails (ENOSPC, EPIPE, no file), the queue keeps the newest whole lines up to
// failing_limit and drops older ones, counting them, and a timer retries.
#pragma once

#include <event2/buffer.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/fd.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/line_sink.h"

namespace gardien {

class QueuedWriter {
 public:
  enum class Mode {
    blocking,       // a regular file or block device: write(2) waits for the disk, never a reader
    nonblocking,    // an open file description of our own, O_NONBLOCK
    send_dontwait,  // a socket shared with others: send(MSG_DONTWAIT) leaves its flags alone
    poll_guarded,   // a shared blocking pipe/tty (no /proc): poll, then at most PIPE_BUF bytes
  };
  struct Target {
    Fd fd;
    Mode mode = Mode::blocking;
  };
  struct Limits {
    std::size_t high_water = 512 * 1024;     // above: producers paused
    std::size_t low_water = 128 * 1024;      // at or below: producers resumed
    std::size_t failing_limit = 256 * 1024;  // kept while the target fails; older lines dropped
    Duration retry = std::chrono::seconds(1);
  };
  // err != 0: the target started failing (or fails differently); err == 0: it works again and
  // `dropped` lines were lost meanwhile.
  using ErrorHandler = std::function<void(int err, std::uint64_t dropped)>;

  // A target that writes to what `fd` refers to without touching `fd`'s own flags: O_NONBLOCK
  // lives on the open file description, shared with every child that inherited `fd`, so it is
  // never set on `fd` itself. Pipes, ttys and character devices are reopened through
  // /proc/self/fd/N, which makes a new description we may make non-blocking; regular files
  // (the disk may be waited for) and sockets (reopening them fails with ENXIO; send() takes
  // MSG_DONTWAIT per call instead) use a dup. Without /proc: poll_guarded. No fd: errno set.
  static Target duplicate_for_writing(int fd);

  QueuedWriter(EventLoop& loop, Limits limits);
  ~QueuedWriter();
  QueuedWriter(const QueuedWriter&) = delete;
  QueuedWriter& operator=(const QueuedWriter&) = delete;

  // (Re)targets the writer; the queue is kept and goes to the new target.
  void set_target(Target target);
  // The owner could not open a target: drop the old one and fail with `err` until set_target.
  void fail(int err);
  bool has_target() const noexcept { return bool(fd_); }
  int fd() const noexcept { return fd_.get(); }
  Mode mode() const noexcept { return mode_; }

  // Takes whole lines (the bytes end with '\n') and writes what the target accepts now.
  void write(std::span<const iovec> parts);
  void write(std::string_view bytes);
  // Writes what the target accepts now, at most `max_bytes` of it.
  void flush(std::size_t max_bytes = SIZE_MAX);
  // The bytes at the queue's front that go to the current target within `room`: whole lines,
  // at least the first one. The rest of a line partly written always counts in full: it belongs
  // to the target that took its start.
  std::size_t front_lines(std::size_t room) const;
  // The queue starts with the rest of a line partly written.
  bool front_partial() const noexcept { return front_partial_; }
  // After the loop has stopped: waits up to `max_wait` for the queue to empty. True if it did.
  bool flush_blocking(Duration max_wait);

  std::size_t queued() const noexcept;
  bool congested() const noexcept { return congested_; }
  int error() const noexcept { return error_; }
  std::uint64_t written_bytes() const noexcept { return written_; }
  std::uint64_t dropped_lines() const noexcept { return dropped_total_; }
  std::uint64_t retries() const noexcept { return retries_; }

  void attach(Producer& producer);
  void detach(Producer& producer);
  void on_error_change(ErrorHandler handler) { on_error_change_ = std::move(handler); }
  // Called by the retry timer while failing instead of a plain flush() (to reopen a file).
  void on_retry(std::function<void()> handler) { on_retry_ = std::move(handler); }
  // Called instead of flush() whenever queued lines are due (a new target, the retry timer, the
  // fd writable, lines added behind a queue): an owner that decides where each line goes (a file
  // that rotates) writes them itself, with flush(max_bytes).
  void on_queue_due(std::function<void()> handler) { on_queue_due_ = std::move(handler); }

 private:
  // Writes from `iov` until done, EAGAIN or an error; returns the bytes written, `err` the errno.
  std::size_t push(std::vector<iovec>& iov, int& err);
  ssize_t write_once(const iovec* iov, int count);
  void after_write(std::size_t written, char last_byte, int err);
  void set_failing(int err);
  void recover();
  void drop_oldest_lines();
  void update_congestion();
  void retry();
  void flush_due();

  EventLoop& loop_;
  Limits limits_;
  Fd fd_;
  Mode mode_ = Mode::blocking;
  evbuffer* queue_;
  std::unique_ptr<FdEvent> writable_;
  Timer retry_timer_;
  int error_ = 0;
  std::uint64_t dropped_ = 0;        // during the current failure
  std::uint64_t dropped_total_ = 0;  // ever
  std::uint64_t written_ = 0;
  std::uint64_t retries_ = 0;
  bool congested_ = false;
  bool front_partial_ = false;  // the queue starts with the rest of a line partly written
  bool flushing_ = false;       // a log line written from inside flush() only queues
  std::vector<Producer*> producers_;
  ErrorHandler on_error_change_;
  std::function<void()> on_retry_;
  std::function<void()> on_queue_due_;
};

}  // namespace gardien
