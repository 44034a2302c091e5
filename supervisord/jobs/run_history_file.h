// The task run history kept in the state directory (`[supervisor] state-dir`), so that finished
// runs and the run numbers survive a restart (docs/tasks.md "History"). One JSON object a line:
// {"started": RECORD} when a run starts, {"ended": RECORD} when it finishes, and
// {"numbers": {TASK: N}} first in a compacted file. Above a size limit the file is compacted:
// rewritten with only what is kept, through a temporary file renamed over it. Appends go through
// a QueuedWriter: a full disk or a write error is reported once, the newest lines wait in a
// bounded queue, writing resumes by itself, and the file is then rewritten from memory so that
// nothing lost meanwhile is missing. Without a usable state directory the daemon keeps its
// history in memory only (problem() says why); it never fails to start for it.
#pragma once

#include <cstdint>
#include <string>

#include "common/fd.h"
#include "common/protocol.h"
#include "supervisord/jobs/run_history.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/queued_writer.h"

namespace gardien {

class RunHistoryFile {
 public:
  static constexpr const char* kFileName = "task-runs.jsonl";
  struct Options {
    std::uint64_t compact_above = 1 << 20;  // bytes; the file is rewritten past it
    bool sync = false;                      // fsync the rewritten file before its rename
    QueuedWriter::Limits limits{.failing_limit = 64 * 1024};
  };

  // Reads `path` (a missing file is an empty history) into a history keeping `keep`. Runs
  // started and never ended come back finished as `lost`, ended at the file's last change.
  static LoadedHistory load(const std::string& path, const HistoryKeep& keep);

  // Creates `state_dir` (mode 0700, with its parents) if missing, takes it (one daemon per
  // state directory: destroy the previous object before making another on the same one), loads
  // its file, records the lost runs and opens the file for appending. Meant for the daemon's
  // start, before the loop runs: it reads the whole file.
  RunHistoryFile(EventLoop& loop, std::string state_dir, HistoryKeep keep, Options options);
  RunHistoryFile(EventLoop& loop, std::string state_dir, HistoryKeep keep)
      : RunHistoryFile(loop, std::move(state_dir), std::move(keep), Options{}) {}
  RunHistoryFile(const RunHistoryFile&) = delete;
  RunHistoryFile& operator=(const RunHistoryFile&) = delete;

  // What the daemon starts from (empty without a state directory); its warnings and lost runs
  // are already in the daemon's log.
  const LoadedHistory& loaded() const noexcept { return loaded_; }

  // A run's first attempt was spawned. A queued run has no line until it starts or ends: one
  // dropped from the queue (a shutdown, a cancel) is recorded by ended() alone.
  void started(const protocol::JobRecord& record);
  // A run finished (outcome set). The destructor writes what is still queued.
  void ended(const protocol::JobRecord& record);
  // After a reload: what each task keeps from now on (and in the next compaction).
  void set_keep(HistoryKeep keep) { history_.set_keep(std::move(keep)); }

  // Empty while the history is written; else why not, and what it means.
  std::string problem() const;
  const std::string& path() const noexcept { return path_; }
  // Written and queued bytes of the current file.
  std::uint64_t size() const noexcept;
  const RunHistory& history() const noexcept { return history_; }

 private:
  bool take_state_dir(const std::string& state_dir);
  void open_for_append(bool needs_newline);
  void append(const std::string& line);
  // Rewrites the file from memory; false (reported once) when it could not.
  bool compact();
  void on_write_error(int err, std::uint64_t dropped);
  void set_problem(std::string problem);

  std::string path_;
  Options options_;
  RunHistory history_;
  LoadedHistory loaded_;
  QueuedWriter writer_;
  Timer rewrite_soon_;
  Fd dir_lock_;
  bool persistent_ = false;    // the file is written
  bool rewritable_ = false;    // a regular file: compacted by a rename over it
  std::string setup_problem_;  // the state directory or the file could not be used
  std::string write_problem_;  // the last write or rewrite failed
  std::uint64_t size_at_open_ = 0;
  std::uint64_t written_at_open_ = 0;
  std::uint64_t next_compaction_ = 0;  // size past which the next compaction is tried
};

}  // namespace gardien
