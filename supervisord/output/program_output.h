// The output side of one running program instance: the fds its stdout and stderr go to, and the
// readers that carry its pipes' lines to their sinks and ring buffer. Made by OutputHub::open().
#pragma once

#include <memory>
#include <string>

#include "common/duration.h"
#include "common/fd.h"
#include "supervisord/output/log_ring.h"
#include "supervisord/output/output_reader.h"

namespace gardien {

class ProgramOutput {
 public:
  explicit ProgramOutput(EventLoop& loop) : loop_(&loop) {}
  ~ProgramOutput();
  ProgramOutput(const ProgramOutput&) = delete;
  ProgramOutput& operator=(const ProgramOutput&) = delete;

  // What the child must have as fd 1 and fd 2: dup2() these in the child. They are O_CLOEXEC
  // here (dup2 clears that on the copy); STDOUT_FILENO/STDERR_FILENO mean "inherit the daemon's".
  int child_stdout() const noexcept { return child_out_ ? child_out_.get() : STDOUT_FILENO; }
  int child_stderr() const noexcept;

  // Call once the child exists (or failed to start): closes the daemon's copies of the child's
  // ends, so that EOF arrives when the program and everything it forked have closed them.
  void close_child_ends() noexcept;

  // After the program exited: calls `on_drained` once, on a later loop turn (never from inside
  // drain()), when its pipes reached EOF or after `max_wait` (see OutputReader::drain).
  void drain(Duration max_wait, std::function<void()> on_drained);
  // Every pipe reached EOF: nothing the program started can write here any more.
  bool drained() const noexcept;

  // Empty when every sink works; else e.g. "stdout file: No space left on device".
  std::string problems() const;
  // The instance's ring buffer, shared with its earlier and later runs; null when none.
  const std::shared_ptr<LogRing>& ring() const noexcept { return ring_; }

 private:
  friend class OutputHub;
  EventLoop* loop_;
  Fd child_out_;  // pipe write end or /dev/null; empty: inherit fd 1
  Fd child_err_;  // pipe write end or /dev/null; empty: inherit fd 2 (or merged, see below)
  bool err_to_out_ = false;  // `stderr = "stdout"`: fd 2 is the same as fd 1
  std::unique_ptr<OutputReader> out_reader_;
  std::unique_ptr<OutputReader> err_reader_;
  std::string out_label_;  // "stdout file", "stderr prefix"
  std::string err_label_;
  std::shared_ptr<LogRing> ring_;
  int pending_drains_ = 0;
  std::function<void()> on_drained_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gardien
