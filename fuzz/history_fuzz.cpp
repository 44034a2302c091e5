// libFuzzer target for the task run history's reader (docs/fuzzing.md): any file content is read
// the same whole or in pieces, keeps at most each task's `history` of checked records, and the
// compacted text it gives reads back without a skipped line into the same text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "supervisord/jobs/run_history.h"

namespace {

using gardien::HistoryKeep;
using gardien::HistoryLineReader;
using gardien::HistoryReadCounts;
using gardien::RunHistory;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "history_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

const HistoryKeep kKeep = {{"t", 3}, {"migrate", 1}, {"none", 0}, {"a", 20}};

HistoryReadCounts read(RunHistory& history, std::string_view text, std::size_t piece) {
  HistoryLineReader reader(history);
  for (std::size_t at = 0; at < text.size(); at += piece) reader.feed(text.substr(at, piece));
  return reader.finish();
}

void check_kept(const RunHistory& history) {
  for (const auto& [task, runs] : history.finished()) {
    auto keep = kKeep.find(task);
    check(keep != kKeep.end() && runs.size() <= static_cast<std::size_t>(keep->second),
          "only kept tasks, at most their history");
    for (const auto& [r, line] : runs) {
      check(line == RunHistory::ended_line(r), "a kept line is the record's");
      check(r.task == task && r.number >= 1, "a kept record has its task and a number");
      check(r.id == task + "#" + std::to_string(r.number), "a kept record's id is task#number");
      check(r.outcome.has_value(), "a finished record says how it ended");
      check(history.last_numbers().at(task) >= r.number, "the last number is the highest");
    }
  }
  check(history.running() <= RunHistory::kMaxRunning, "unfinished runs are bounded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RunHistory whole(kKeep), pieces(kKeep);
  HistoryReadCounts counts = read(whole, text, text.size() + 1);
  HistoryReadCounts counted = read(pieces, text, 7);
  check(counts.lines == counted.lines && counts.garbage == counted.garbage &&
            counts.too_long == counted.too_long,
        "pieces read like the whole");
  check(whole.text() == pieces.text(), "pieces keep what the whole keeps");
  check_kept(whole);

  whole.end_running_as_lost(1'000);
  check(whole.running() == 0, "every unfinished run ends lost");
  check_kept(whole);
  std::string compacted = whole.text();
  RunHistory again(kKeep);
  HistoryReadCounts reread = read(again, compacted, compacted.size() + 1);
  check(reread.garbage == 0 && reread.too_long == 0 && !reread.unterminated,
        "the compacted text reads back whole");
  check(again.text() == compacted, "the compacted text reads back into itself");
  return 0;
}
