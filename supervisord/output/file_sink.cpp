#include "supervisord/output/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

std::string rotated_name(const std::string& path, int n) {
  std::string name = path;
  name += '.';
  name += std::to_string(n);
  return name;
}

}  // namespace

FileSink::FileSink(EventLoop& loop, std::string path, Options options)
    : path_(std::move(path)),
      max_size_(options.max_size),
      keep_(options.keep < 0 ? 0 : options.keep),
      check_interval_(options.limits.retry),
      writer_(loop, options.limits) {
  writer_.on_error_change([this](int err, std::uint64_t dropped) {
    if (err) {
      log::error(
          "cannot write to log file; the program keeps running, its newest lines wait and "
          "older ones are dropped until it works again",
          {{"file", path_}, {"error", std::strerror(err)}});
    } else {
      log::info("writing to log file resumed", {{"file", path_}, {"dropped_lines", dropped}});
    }
  });
  writer_.on_retry([this] {
    struct stat st;
    if (!writer_.has_target() || (::fstat(writer_.fd(), &st) == 0 && st.st_nlink == 0)) {
      open_file();  // never opened, or deleted (a full disk frees the space only once closed)
    } else {
      write_queue();
    }
  });
  writer_.on_queue_due([this] { write_queue(); });
  open_file();
}

void FileSink::open_file() {
  // O_NONBLOCK: opening a FIFO nobody reads must not block (it fails with ENXIO: retried), and
  // writes to one must not either. It means nothing to regular files.
  Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
               0640));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    rotatable_ = false;
    writer_.fail(errno);
    return;
  }
  bool regular = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
  struct stat link_st;
  // Rotation renames PATH: only when PATH itself is this plain file (never /dev/stdout's link).
  rotatable_ = S_ISREG(st.st_mode) && ::lstat(path_.c_str(), &link_st) == 0 &&
               S_ISREG(link_st.st_mode) && link_st.st_dev == st.st_dev &&
               link_st.st_ino == st.st_ino;
  size_at_open_ = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  written_at_open_ = writer_.written_bytes();
  next_link_check_ = std::chrono::steady_clock::now() + check_interval_;
  writer_.set_target(
      {std::move(fd), regular ? QueuedWriter::Mode::blocking : QueuedWriter::Mode::nonblocking});
}

void FileSink::reopen() {
  log::debug("reopening log file", {{"file", path_}});
  open_file();
}

void FileSink::set_rotation(std::uint64_t max_size, int keep) {
  max_size_ = max_size;
  keep_ = keep < 0 ? 0 : keep;
}

std::string FileSink::problem() const {
  if (writer_.error()) return std::strerror(writer_.error());
  if (rotate_error_) {
    std::string p = "cannot rotate: ";
    p += std::strerror(rotate_error_);
    return p;
  }
  return {};
}

bool FileSink::rotate() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_rotate_try_) return false;
  int err = 0;
  for (int i = keep_; i >= 2 && !err; --i) {
    if (::rename(rotated_name(path_, i - 1).c_str(), rotated_name(path_, i).c_str()) != 0 &&
        errno != ENOENT) {
      err = errno;
    }
  }
  if (!err) {
    int rc = keep_ > 0 ? ::rename(path_.c_str(), rotated_name(path_, 1).c_str())
                       : ::unlink(path_.c_str());
    if (rc != 0 && errno != ENOENT) err = errno;
  }
  if (err) {
    // Keep appending to the current file; try again later, not at every line.
    next_rotate_try_ = now + check_interval_;
    if (err != rotate_error_) {
      log::error("cannot rotate log file; it keeps growing until it can",
                 {{"file", path_}, {"error", std::strerror(err)}});
    }
    rotate_error_ = err;
    return false;
  }
  if (rotate_error_) log::info("log file rotation works again", {{"file", path_}});
  rotate_error_ = 0;
  open_file();
  return true;
}

bool FileSink::would_overflow(std::uint64_t bytes) {
  if (!rotates() || file_size() + bytes <= max_size_) return false;
  refresh_size();
  return file_size() > 0 && file_size() + bytes > max_size_;
}

void FileSink::write_queue() {
  if (writing_queue_) return;  // a rotation's new file asks again from inside the loop below
  writing_queue_ = true;
  while (writer_.queued() > 0 && writer_.has_target()) {
    std::size_t before = writer_.queued();
    std::size_t n = writer_.queued();
    if (rotates()) {
      std::uint64_t used = file_size();
      n = writer_.front_lines(used < max_size_ ? max_size_ - used : 0);
      if (!writer_.front_partial() && would_overflow(n)) {
        if (rotate()) continue;
        n = writer_.queued();  // cannot rotate (reported): the file keeps growing
      }
    }
    writer_.flush(n);
    if (writer_.queued() >= before) break;  // failing: the retry timer comes back
  }
  writing_queue_ = false;
}

void FileSink::refresh_size() {
  // logrotate's copytruncate (or anyone) may have emptied the file behind our back.
  struct stat st;
  if (writer_.has_target() && ::fstat(writer_.fd(), &st) == 0 && S_ISREG(st.st_mode)) {
    size_at_open_ = static_cast<std::uint64_t>(st.st_size);
    written_at_open_ = writer_.written_bytes();
  }
}

void FileSink::check_still_linked() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_link_check_ || !writer_.has_target()) return;
  next_link_check_ = now + check_interval_;
  struct stat st;
  if (::fstat(writer_.fd(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0) {
    log::info("log file was deleted; creating it again", {{"file", path_}});
    open_file();
  }
}

void FileSink::write_segment() {
  if (segment_.empty()) return;
  writer_.write(std::span<const iovec>(segment_));
  segment_.clear();
}

void FileSink::add_to_segment(std::string_view bytes) {
  // Runs back to back in memory (the usual case) become one iovec: one write per batch.
  if (!segment_.empty() &&
      static_cast<const char*>(segment_.back().iov_base) + segment_.back().iov_len ==
          bytes.data()) {
    segment_.back().iov_len += bytes.size();
  } else {
    segment_.push_back(iovec{const_cast<char*>(bytes.data()), bytes.size()});
  }
}

void FileSink::write(const LineBatch& batch) {
  if (batch.chunks.empty()) return;
  check_still_linked();
  std::span<const std::string_view> chunks = batch.chunks;
  std::string_view stamped;
  if (batch.timestamps) {
    // One buffer for every file sink: it is written (or queued, copied) before write() returns.
    static std::string scratch;
    scratch.clear();
    for_each_line(chunks, [&](std::string_view line) {
      append_rfc3339(scratch, batch.time);
      scratch += ' ';
      scratch += line;
    });
    stamped = scratch;
    chunks = std::span(&stamped, 1);
  }
  // Older lines first, each in the file it fits in (while failing, the retry timer does it).
  if (writer_.queued() > 0 && !writer_.error()) write_queue();
  std::uint64_t size = this->size();
  for (std::string_view chunk : chunks) {
    if (!rotates() || size + chunk.size() <= max_size_) {  // the usual case: all of it fits
      add_to_segment(chunk);
      size += chunk.size();
      continue;
    }
    for_each_line(std::span(&chunk, 1), [&](std::string_view line) {
      if (rotates() && size > 0 && size + line.size() > max_size_) {
        write_segment();
        // While lines wait, this one waits behind them: write_queue() places it later.
        if (writer_.queued() == 0 && would_overflow(line.size())) rotate();
        size = this->size();
      }
      add_to_segment(line);
      size += line.size();
    });
  }
  write_segment();
}

}  // namespace gardien
