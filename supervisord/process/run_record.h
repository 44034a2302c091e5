// What a daemon runs, kept in a file beside its control socket, so that the next daemon can stop
// what a killed one left behind: the programs' parent is gone, and nothing else would stop them.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/fd.h"
#include "supervisord/loop/event_loop.h"

namespace gardien {

// One instance's processes: its process group and, with kill-mode = "cgroup", its cgroup.
struct RecordedTree {
  std::string instance;
  pid_t pgid = 0;      // 0: none
  std::string cgroup;  // empty: none
  int stop_signal = 15;
  Duration stop_timeout{};
  bool operator==(const RecordedTree&) const = default;
};

struct RunRecordContent {
  pid_t daemon_pid = 0;
  // Every recorded process started after the daemon did: a process group number reused by a
  // stranger since is told apart by its start (the same boot only).
  unsigned long long daemon_start_ticks = 0;
  std::string boot_id;
  std::vector<RecordedTree> trees;
  bool operator==(const RunRecordContent&) const = default;
};

std::string to_text(const RunRecordContent& content);
// nullopt for anything that is not a record this version wrote.
std::optional<RunRecordContent> parse_run_record(std::string_view text);

// This boot's id (/proc/sys/kernel/random/boot_id); empty when unknown.
std::string current_boot_id();

// Keeps the file up to date: after mark_changed(), `snapshot` is asked for the trees on a later
// loop turn (one write per turn at most) and the file rewritten so that a reader finds the old
// record or the new, never a mix (in place within a page, else through a rename).
class RunRecord {
 public:
  RunRecord(EventLoop& loop, std::filesystem::path path,
            std::function<std::vector<RecordedTree>()> snapshot);
  // Removes the file: a daemon that exits cleanly leaves nothing to clean up.
  ~RunRecord();
  RunRecord(const RunRecord&) = delete;
  RunRecord& operator=(const RunRecord&) = delete;

  void mark_changed();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write();
  bool write_in_place(std::string text);

  std::filesystem::path path_;
  Fd file_;  // the record, for writes in place
  std::size_t file_length_ = 0;
  std::function<std::vector<RecordedTree>()> snapshot_;
  RunRecordContent content_;
  Timer write_soon_;
  bool failing_ = false;  // a failed write is logged once, until one succeeds
  bool written_ = false;  // the file holds content_
};

// Before anything is spawned: stops what the daemon that wrote `path` left running (stop signal
// + SIGCONT to each recorded group and cgroup, its stop-timeout, then SIGKILL), logging each,
// and removes the file. Blocks until they are gone (the longest stop-timeout at most). Leaves
// everything alone when its daemon still runs or the machine has rebooted since. Returns how
// many processes it found.
int stop_leftovers_of_predecessor(const std::filesystem::path& path);

}  // namespace gardien
