// The daemon's output machinery in one place: the `prefix` writers on the daemon's own stdout and
// stderr, the file sinks (one per path, shared by every program that names it), and the ring
// buffers (one per instance name, so they outlive restarts). Programs get their pipes from open().
//
// The spawn side's seam:
//   auto opened = hub.open(instance, cfg.stdout_sink, cfg.stderr_sink, options);
//   if (!opened.output) -> spawn failure, reason opened.error
//   child: dup2(out->child_stdout(), 1); dup2(out->child_stderr(), 2)   (skip when equal)
//   parent, after fork/posix_spawn (success or not): out->close_child_ends()
//   after the child is reaped: out->drain(max_wait, on_drained); destroy it in/after on_drained
#pragma once

#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/file_sink.h"
#include "supervisord/output/log_ring.h"
#include "supervisord/output/prefix_writer.h"
#include "supervisord/output/program_output.h"
#include "supervisord/output/queued_writer.h"

namespace gardien {

// A program's output settings besides its two sinks.
struct OutputOptions {
  bool timestamps = false;                 // `timestamps`: RFC 3339 time before each line
  std::size_t log_buffer_size = 1u << 20;  // `log-buffer-size`: ring bytes; 0 = no ring
};

class OutputHub {
 public:
  struct Settings {
    int stdout_fd = STDOUT_FILENO;  // tests pass pipes
    int stderr_fd = STDERR_FILENO;
    bool route_daemon_log = true;  // the daemon's log goes through the stderr queue
    QueuedWriter::Limits prefix_limits;
    QueuedWriter::Limits file_limits;
  };

  struct Opened {
    std::unique_ptr<ProgramOutput> output;  // null on failure
    std::string error;                      // why ("cannot create a pipe: Too many open files")
  };

  OutputHub(EventLoop& loop, Settings settings);
  explicit OutputHub(EventLoop& loop) : OutputHub(loop, Settings{}) {}
  ~OutputHub();
  OutputHub(const OutputHub&) = delete;
  OutputHub& operator=(const OutputHub&) = delete;

  // Creates what one run of `instance` needs: pipes for prefix/file sinks (and for null when it
  // has a ring), /dev/null for null without a ring, nothing for inherit.
  Opened open(const std::string& instance, const OutputSink& out, const OutputSink& err,
              const OutputOptions& options = {});

  // Pads prefixed names to `width` (the longest configured instance name).
  void set_name_width(std::size_t width);
  static std::size_t name_width(const std::vector<std::string>& instance_names);

  // SIGUSR1 / `gardienctl reopen-logs`: every open log file is closed and opened again.
  void reopen_files();
  // The log files open now (each once, however many streams write to it).
  std::size_t file_count() const;

  // The ring of `instance`; null when it never had one.
  std::shared_ptr<LogRing> ring(std::string_view instance) const;
  std::vector<std::shared_ptr<LogRing>> rings() const;
  // A program removed by a reload: its ring goes (followers see no more lines).
  void forget(std::string_view instance);
  // An instance renamed by scaling from or to 1 (`web` <-> `web.0`) keeps its ring.
  void rename(std::string_view from, const std::string& to);

  // After the loop: gives queued lines up to `max_wait` to reach stdout/stderr and the files.
  bool flush_blocking(Duration max_wait);

  // Empty while the daemon's stdout/stderr take lines; else "stdout: Broken pipe".
  std::string problems() const;

  PrefixWriter& prefix_stdout() noexcept { return *prefix_out_; }
  PrefixWriter& prefix_stderr() noexcept { return *prefix_err_; }

 private:
  std::shared_ptr<LineSink> sink_for(const OutputSink& sink, Stream stream, std::string& label);
  std::shared_ptr<FileSink> file_sink(const OutputSink& sink);
  std::shared_ptr<QueuedWriter> daemon_queue(int fd, const char* name);

  EventLoop& loop_;
  Settings settings_;
  std::shared_ptr<PrefixWriter> prefix_out_;
  std::shared_ptr<PrefixWriter> prefix_err_;
  std::map<std::string, std::weak_ptr<FileSink>, std::less<>> files_;
  std::map<std::string, std::shared_ptr<LogRing>, std::less<>> rings_;
};

}  // namespace gardien
