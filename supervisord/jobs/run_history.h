// The task run history as the state file holds it (docs/tasks.md "History"), without the file:
// per task the newest finished runs (as many as its `history` keeps), the runs started and not
// yet ended, and the highest run number ever given. The loader feeds it the file's lines, the
// daemon its runs as they start and end, and the compacted file is its text().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/protocol.h"

namespace gardien {

// Finished runs kept per task (its `history`); a task missing from it keeps nothing.
using HistoryKeep = std::map<std::string, int, std::less<>>;
HistoryKeep history_keep(const std::vector<TaskConfig>& tasks);

// What a daemon starts from.
struct LoadedHistory {
  // Per task, its newest finished runs, oldest first (lost ones included).
  std::map<std::string, std::vector<protocol::JobRecord>> finished;
  // Per task, the highest run number given: the next run is one more.
  std::map<std::string, std::int64_t> last_number;
  // The runs that were running when the previous daemon ended, now finished as `lost`.
  std::vector<protocol::JobRecord> lost;
  // What was skipped or could not be read, one line each, for the daemon's log.
  std::vector<std::string> warnings;
};

class RunHistory {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;  // longer lines are skipped, never kept
  static constexpr std::size_t kMaxRunning = 4096;    // started and not ended, all tasks
  static constexpr std::string_view kLostInfo = "the daemon ended while it ran";

  // A run and its line in the file, made once: a compaction only joins lines.
  struct Kept {
    protocol::JobRecord record;
    std::string line;
  };

  explicit RunHistory(HistoryKeep keep = {});

  // Changes what is kept; finished runs beyond a smaller `history` are forgotten.
  void set_keep(HistoryKeep keep);

  // One line of the file, without its '\n'. False when it is not a history line.
  bool apply_line(std::string_view line);
  // Each returns the run's line for the file.
  std::string started(const protocol::JobRecord& record);
  std::string ended(const protocol::JobRecord& record);
  // Ends every run started and not ended as `lost` at `ended_ms`, and returns them.
  std::vector<protocol::JobRecord> end_running_as_lost(std::optional<std::int64_t> ended_ms);

  const std::map<std::string, std::deque<Kept>, std::less<>>& finished() const { return finished_; }
  const std::map<std::string, std::int64_t, std::less<>>& last_numbers() const {
    return last_number_;
  }
  std::size_t running() const noexcept { return running_.size(); }
  // Runs skipped because kMaxRunning were already running.
  std::uint64_t running_dropped() const noexcept { return running_dropped_; }

  // Everything kept, as the lines of a compacted file (each ending in '\n').
  std::string text() const;

  // One line each, at most kMaxLine with its '\n': huge arguments or info are cut to fit.
  static std::string started_line(const protocol::JobRecord& record);
  static std::string ended_line(const protocol::JobRecord& record);

 private:
  struct RunKey {
    std::string task;
    std::int64_t number;
    auto operator<=>(const RunKey&) const = default;
  };
  int keep_of(std::string_view task) const;
  void note_number(const std::string& task, std::int64_t number);
  void apply_numbers(const nlohmann::json& numbers);
  nlohmann::json numbers_to_keep() const;

  HistoryKeep keep_;
  std::map<std::string, std::deque<Kept>, std::less<>> finished_;
  std::map<RunKey, Kept> running_;
  std::map<std::string, std::int64_t, std::less<>> last_number_;
  std::uint64_t running_dropped_ = 0;
};

// Reads a whole file's text into `history`, line by line, bounded: an over-long line or one that
// is not a history line is skipped and counted; a last line without '\n' (a daemon killed while
// it wrote) is read if it is whole. The warnings say what was skipped.
struct HistoryReadCounts {
  std::uint64_t lines = 0;
  std::uint64_t garbage = 0;
  std::uint64_t too_long = 0;
  bool unterminated = false;  // the text does not end with '\n'
};
class HistoryLineReader {
 public:
  explicit HistoryLineReader(RunHistory& history) : history_(history) {}
  // Any piece of the text, in order.
  void feed(std::string_view bytes);
  // After the last piece.
  HistoryReadCounts finish();

 private:
  void line(std::string_view text);
  // The line being read is complete: counted as too long, or read.
  void end_line();
  RunHistory& history_;
  std::string partial_;
  bool skipping_ = false;  // the current line passed kMaxLine: drop it up to its '\n'
  HistoryReadCounts counts_;
};

// What the reader skipped, for the log ("3 unreadable lines skipped"); empty when nothing was.
std::vector<std::string> describe(const HistoryReadCounts& counts, const RunHistory& history,
                                  std::string_view path);

}  // namespace gardien
