#include "supervisord/output/queued_writer.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

constexpr int kMaxIov = 64;
constexpr std::size_t kMaxWrite = 1 << 20;  // per write(2); keeps one call's latency bounded

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Trims `iov` to at most `limit` bytes.
void clamp_iov(std::vector<iovec>& iov, std::size_t limit) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < iov.size(); ++i) {
    if (total + iov[i].iov_len >= limit) {
      iov[i].iov_len = limit - total;
      iov.resize(i + 1);
      return;
    }
    total += iov[i].iov_len;
  }
}

// Drops the first `n` bytes of `iov`; returns the last byte dropped.
char advance_iov(std::vector<iovec>& iov, std::size_t n) {
  char last = '\n';
  std::size_t i = 0;
  while (n > 0 && i < iov.size()) {
    std::size_t take = std::min(n, iov[i].iov_len);
    last = static_cast<const char*>(iov[i].iov_base)[take - 1];
    iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + take;
    iov[i].iov_len -= take;
    n -= take;
    if (iov[i].iov_len == 0) ++i;
  }
  iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(i));
  return last;
}

std::size_t iov_bytes(std::span<const iovec> iov) {
  std::size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  return total;
}

// Position of the first '\n' at or after `from`, or -1.
ssize_t find_newline(const evbuffer* buf_const, std::size_t from) {
  auto* buf = const_cast<evbuffer*>(buf_const);  // evbuffer_search does not modify the buffer
  evbuffer_ptr start;
  if (evbuffer_ptr_set(buf, &start, from, EVBUFFER_PTR_SET) != 0) return -1;
  evbuffer_ptr found = evbuffer_search(buf, "\n", 1, &start);
  return found.pos;
}

// Position of the last '\n' among the first `len` bytes, or -1.
ssize_t find_last_newline(const evbuffer* buf, std::size_t len) {
  iovec vec[kMaxIov];
  std::size_t scanned = 0;
  ssize_t last = -1;
  auto* mutable_buf = const_cast<evbuffer*>(buf);  // evbuffer_peek does not modify the buffer
  evbuffer_ptr at;
  while (scanned < len && evbuffer_ptr_set(mutable_buf, &at, scanned, EVBUFFER_PTR_SET) == 0) {
    int n = evbuffer_peek(mutable_buf, static_cast<ev_ssize_t>(len - scanned), &at, vec, kMaxIov);
    if (n <= 0) break;
    std::vector<iovec> iov(vec, vec + std::min(n, kMaxIov));
    clamp_iov(iov, len - scanned);
    for (const iovec& v : iov) {
      const void* nl = ::memrchr(v.iov_base, '\n', v.iov_len);
      if (nl)
        last = static_cast<ssize_t>(scanned) +
               (static_cast<const char*>(nl) - static_cast<const char*>(v.iov_base));
      scanned += v.iov_len;
    }
  }
  return last;
}

}  // namespace

QueuedWriter::Target QueuedWriter::duplicate_for_writing(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return {};
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return {};
  if ((flags & O_ACCMODE) == O_RDONLY) {
    errno = EBADF;
    return {};
  }
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    return {Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3)), Mode::blocking};
  }
  if (S_ISSOCK(st.st_mode)) {
    return {Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3)), Mode::send_dontwait};
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  Fd own(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (flags & O_APPEND)));
  struct stat own_st;
  if (own && ::fstat(own.get(), &own_st) == 0 && same_file(st, own_st)) {
    return {std::move(own), Mode::nonblocking};
  }
  return {Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3)), Mode::poll_guarded};
}

QueuedWriter::QueuedWriter(EventLoop& loop, Limits limits)
    : loop_(loop),
      limits_(limits),
      queue_(evbuffer_new()),
      retry_timer_(loop, [this] { retry(); }) {
  if (!queue_) {
    log::error("libevent could not allocate a buffer");
    std::abort();
  }
}

QueuedWriter::~QueuedWriter() {
  // Last chance for what is queued, without calling back into an owner being destroyed.
  on_error_change_ = nullptr;
  on_retry_ = nullptr;
  on_queue_due_ = nullptr;
  producers_.clear();
  if (fd_ && !error_) flush();
  writable_.reset();
  evbuffer_free(queue_);
}

std::size_t QueuedWriter::queued() const noexcept {
  return evbuffer_get_length(queue_);
}

void QueuedWriter::set_target(Target target) {
  writable_.reset();
  fd_ = std::move(target.fd);
  mode_ = target.mode;
  if (!fd_) {
    set_failing(errno ? errno : EBADF);
    return;
  }
  if (mode_ != Mode::blocking) {
    writable_ =
        std::make_unique<FdEvent>(loop_, fd_.get(), EV_WRITE, [this](short) { flush_due(); });
  }
  if (error_ && queued() == 0) {
    recover();
  } else {
    flush_due();
  }
}

void QueuedWriter::fail(int err) {
  writable_.reset();
  fd_.reset();
  set_failing(err);
}

ssize_t QueuedWriter::write_once(const iovec* iov, int count) {
  switch (mode_) {
    case Mode::blocking:
    case Mode::nonblocking:
      return ::writev(fd_.get(), iov, count);
    case Mode::send_dontwait: {
      msghdr msg{};
      msg.msg_iov = const_cast<iovec*>(iov);
      msg.msg_iovlen = static_cast<std::size_t>(count);
      return ::sendmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    case Mode::poll_guarded: {
      // POLLOUT on a pipe promises room for PIPE_BUF bytes: a write that small cannot block.
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) {
        if (p.revents & (POLLERR | POLLHUP)) break;  // let write() report the error
        errno = EAGAIN;
        return -1;
      }
      std::vector<iovec> small(iov, iov + count);
      clamp_iov(small, PIPE_BUF);
      return ::writev(fd_.get(), small.data(), static_cast<int>(small.size()));
    }
  }
  return ::writev(fd_.get(), iov, count);
}

std::size_t QueuedWriter::push(std::vector<iovec>& iov, int& err) {
  err = 0;
  std::size_t done = 0;
  while (!iov.empty()) {
    std::vector<iovec> batch(iov.begin(),
                             iov.begin() + std::min<std::ptrdiff_t>(kMaxIov, iov.size()));
    clamp_iov(batch, kMaxWrite);
    ssize_t n = write_once(batch.data(), static_cast<int>(batch.size()));
    if (n > 0) {
      advance_iov(iov, static_cast<std::size_t>(n));
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    err = n < 0 ? errno : EIO;  // a 0-byte write of a non-empty buffer: no progress possible
    break;
  }
  return done;
}

void QueuedWriter::write(std::string_view bytes) {
  iovec v{const_cast<char*>(bytes.data()), bytes.size()};
  write(std::span<const iovec>(&v, 1));
}

void QueuedWriter::write(std::span<const iovec> parts) {
  std::size_t total = iov_bytes(parts);
  if (total == 0) return;
  if (queued() == 0 && fd_ && !error_ && !flushing_) {
    // Nothing waits before these lines: write straight from the caller's memory.
    std::vector<iovec> iov(parts.begin(), parts.end());
    int err = 0;
    std::size_t n = push(iov, err);
    char last = '\n';
    if (n > 0) {
      std::vector<iovec> done(parts.begin(), parts.end());
      last = advance_iov(done, n);
    }
    for (const iovec& v : iov) evbuffer_add(queue_, v.iov_base, v.iov_len);
    after_write(n, last, err);
    return;
  }
  for (const iovec& v : parts) evbuffer_add(queue_, v.iov_base, v.iov_len);
  if (error_) {
    drop_oldest_lines();
    update_congestion();
  } else if (!flushing_) {
    flush_due();
  }
}

void QueuedWriter::flush_due() {
  if (on_queue_due_) {
    on_queue_due_();
  } else {
    flush();
  }
}

std::size_t QueuedWriter::front_lines(std::size_t room) const {
  std::size_t len = queued();
  if (len <= room) return len;
  ssize_t first_end = find_newline(queue_, 0);
  std::size_t first = first_end < 0 ? len : static_cast<std::size_t>(first_end) + 1;
  ssize_t fit_end = find_last_newline(queue_, room);
  std::size_t fit = fit_end < 0 ? 0 : static_cast<std::size_t>(fit_end) + 1;
  return std::max(first, fit);
}

void QueuedWriter::flush(std::size_t max_bytes) {
  if (flushing_ || !fd_) return;
  flushing_ = true;
  std::size_t total = 0;
  char last = '\n';
  int err = 0;
  while (queued() > 0 && total < max_bytes) {
    std::size_t want = std::min({queued(), kMaxWrite, max_bytes - total});
    iovec vec[kMaxIov];
    int n = evbuffer_peek(queue_, static_cast<ev_ssize_t>(want), nullptr, vec, kMaxIov);
    std::vector<iovec> iov(vec, vec + std::min(n, kMaxIov));
    clamp_iov(iov, want);  // the last extent peeked may reach past `want`
    std::vector<iovec> copy = iov;
    std::size_t written = push(iov, err);
    if (written > 0) {
      last = advance_iov(copy, written);
      evbuffer_drain(queue_, written);
      total += written;
    }
    if (err) break;
  }
  flushing_ = false;
  after_write(total, last, err);
}

void QueuedWriter::after_write(std::size_t written, char last_byte, int err) {
  if (written > 0) {
    written_ += written;
    front_partial_ = last_byte != '\n';
    if (error_ && err != error_) recover();
  }
  if (err == EAGAIN || err == EWOULDBLOCK) {
    if (writable_ && !writable_->enabled()) writable_->enable();
  } else if (err != 0) {
    set_failing(err);
  } else if (writable_ && queued() == 0) {
    writable_->disable();
  }
  if (error_ && queued() == 0 && fd_ && err == 0) recover();
  update_congestion();
}

void QueuedWriter::set_failing(int err) {
  bool news = err != error_;
  error_ = err;
  if (writable_) writable_->disable();
  if ((fd_ || on_retry_) && !retry_timer_.armed()) retry_timer_.arm(limits_.retry);
  drop_oldest_lines();
  update_congestion();
  if (news && on_error_change_) on_error_change_(err, 0);
}

void QueuedWriter::recover() {
  error_ = 0;
  retry_timer_.cancel();
  std::uint64_t dropped = std::exchange(dropped_, 0);
  if (on_error_change_) on_error_change_(0, dropped);
}

void QueuedWriter::retry() {
  ++retries_;
  if (on_retry_) {
    on_retry_();
  } else {
    flush_due();
  }
  // Without a target and nobody to open one, there is nothing to retry.
  if (error_ && (fd_ || on_retry_) && !retry_timer_.armed()) retry_timer_.arm(limits_.retry);
}

void QueuedWriter::drop_oldest_lines() {
  if (queued() <= limits_.failing_limit) return;
  // A line already partly written stays whole: keep its rest in front.
  evbuffer* kept = nullptr;
  if (front_partial_) {
    ssize_t end = find_newline(queue_, 0);
    if (end < 0) return;
    kept = evbuffer_new();
    evbuffer_remove_buffer(queue_, kept, static_cast<std::size_t>(end) + 1);
  }
  std::size_t kept_len = kept ? evbuffer_get_length(kept) : 0;
  while (queued() > 0 && queued() + kept_len > limits_.failing_limit) {
    ssize_t end = find_newline(queue_, 0);
    evbuffer_drain(queue_, end < 0 ? queued() : static_cast<std::size_t>(end) + 1);
    ++dropped_;
    ++dropped_total_;
  }
  if (kept) {
    evbuffer_prepend_buffer(queue_, kept);
    evbuffer_free(kept);
  }
}

void QueuedWriter::update_congestion() {
  std::size_t len = queued();
  bool was = congested_;
  if (!congested_ && !error_ && len > limits_.high_water) congested_ = true;
  if (congested_ && (error_ || len <= limits_.low_water)) congested_ = false;
  if (was == congested_) return;
  std::vector<Producer*> producers = producers_;  // a callback may attach or detach
  for (Producer* p : producers) {
    if (congested_) {
      p->pause();
    } else {
      p->resume();
    }
  }
}

void QueuedWriter::attach(Producer& producer) {
  producers_.push_back(&producer);
  if (congested_) producer.pause();
}

void QueuedWriter::detach(Producer& producer) {
  std::erase(producers_, &producer);
}

bool QueuedWriter::flush_blocking(Duration max_wait) {
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  for (;;) {
    flush_due();
    if (queued() == 0) return true;
    if (!fd_ || error_ || mode_ == Mode::blocking) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_.get(), POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
  }
}

}  // namespace gardien
