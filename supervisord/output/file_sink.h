// The file sink: lines appended to PATH (O_APPEND), rotated by size (PATH -> PATH.1 ... PATH.keep,
// the oldest dropped), reopened on request for external logrotate. A target that is not a plain
// file (a FIFO, /dev/stdout, a tty) just works, with no rotation. A failing target (disk full,
// permission denied, directory gone) is reported once; the program keeps running, the newest
// lines wait in a bounded queue, and writing resumes by itself (a retry timer, and a reopen when
// the file was deleted). Queued lines rotate like the others: a file passes max_size only when it
// holds a single line longer than that.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "supervisord/loop/event_loop.h"
#include "supervisord/output/line_sink.h"
#include "supervisord/output/queued_writer.h"

namespace gardien {

class FileSink : public LineSink {
 public:
  struct Options {
    std::uint64_t max_size = 50ull << 20;  // 0: never rotate
    int keep = 10;                         // rotated files kept besides PATH
    QueuedWriter::Limits limits;           // limits.retry also paces deletion checks
  };

  FileSink(EventLoop& loop, std::string path, Options options);
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(const LineBatch& batch) override;
  void attach(Producer& producer) override { writer_.attach(producer); }
  void detach(Producer& producer) override { writer_.detach(producer); }
  std::string problem() const override;

  // Closes and opens PATH again (after an external rename); what is queued goes to the new file.
  void reopen();
  void set_rotation(std::uint64_t max_size, int keep);

  const std::string& path() const noexcept { return path_; }
  // Open on a plain regular file (not a symlink like /dev/stdout) and max_size > 0.
  bool rotates() const noexcept { return rotatable_ && max_size_ > 0; }
  // The current file's size, queued bytes included.
  std::uint64_t size() const noexcept { return file_size() + writer_.queued(); }
  QueuedWriter& writer() noexcept { return writer_; }

 private:
  void open_file();
  // False when PATH could not be renamed (reported; tried again later): keep appending to it.
  bool rotate();
  void check_still_linked();
  void refresh_size();
  // What the current file holds (written, not queued).
  std::uint64_t file_size() const noexcept {
    return size_at_open_ + (writer_.written_bytes() - written_at_open_);
  }
  // Adding `bytes` would pass max_size (the size measured again: it may have been truncated).
  bool would_overflow(std::uint64_t bytes);
  // Writes what is queued, each line in the file it fits in, rotating between lines.
  void write_queue();
  void add_to_segment(std::string_view bytes);
  void write_segment();

  std::string path_;
  std::uint64_t max_size_;
  int keep_;
  Duration check_interval_;
  QueuedWriter writer_;
  bool rotatable_ = false;
  std::uint64_t size_at_open_ = 0;
  std::uint64_t written_at_open_ = 0;
  int rotate_error_ = 0;
  bool writing_queue_ = false;
  std::chrono::steady_clock::time_point next_rotate_try_{};
  std::chrono::steady_clock::time_point next_link_check_{};
  std::vector<iovec> segment_;  // what the next write(2) takes
};

}  // namespace gardien
