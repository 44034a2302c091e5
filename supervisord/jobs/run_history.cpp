#include "supervisord/jobs/run_history.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace gardien {

namespace {

using json = nlohmann::json;
using protocol::JobRecord;

std::string line_of(std::string_view kind, const json& value) {
  json line = json::object();
  line[std::string(kind)] = value;
  // A task name or an argument may hold invalid UTF-8: replaced, never thrown on.
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// The run a line names, checked: a task, a number from 1, its id made from both.
std::optional<JobRecord> record_in(const json& value) {
  std::string error;
  std::optional<JobRecord> record = protocol::job_record_from_json(value, error);
  if (!record || record->task.empty() || record->number < 1) return std::nullopt;
  record->id = record->task + "#" + std::to_string(record->number);
  return record;
}

}  // namespace

HistoryKeep history_keep(const std::vector<TaskConfig>& tasks) {
  HistoryKeep keep;
  for (const TaskConfig& task : tasks) keep[task.name()] = task.history;
  return keep;
}

RunHistory::RunHistory(HistoryKeep keep) : keep_(std::move(keep)) {}

int RunHistory::keep_of(std::string_view task) const {
  auto it = keep_.find(task);
  return it == keep_.end() ? 0 : std::max(it->second, 0);
}

void RunHistory::set_keep(HistoryKeep keep) {
  keep_ = std::move(keep);
  for (auto it = finished_.begin(); it != finished_.end();) {
    auto& runs = it->second;
    while (runs.size() > static_cast<std::size_t>(keep_of(it->first))) runs.pop_front();
    it = runs.empty() ? finished_.erase(it) : std::next(it);
  }
  std::erase_if(running_, [&](const auto& entry) { return !keep_.count(entry.first.task); });
}

void RunHistory::note_number(const std::string& task, std::int64_t number) {
  std::int64_t& last = last_number_[task];
  last = std::max(last, number);
}

std::string RunHistory::started(const JobRecord& record) {
  std::string line = started_line(record);
  note_number(record.task, record.number);
  if (!keep_.count(record.task)) return line;
  RunKey key{record.task, record.number};
  if (!running_.count(key) && running_.size() >= kMaxRunning) {
    ++running_dropped_;
    return line;
  }
  running_.insert_or_assign(std::move(key), Kept{record, line});
  return line;
}

std::string RunHistory::ended(const JobRecord& record) {
  std::string line = ended_line(record);
  note_number(record.task, record.number);
  running_.erase(RunKey{record.task, record.number});
  int keep = keep_of(record.task);
  if (keep == 0) return line;
  auto& runs = finished_[record.task];
  // Written twice (a run recorded lost, then again): the later line wins, in its place.
  std::erase_if(runs, [&](const Kept& k) { return k.record.number == record.number; });
  runs.push_back(Kept{record, line});
  while (runs.size() > static_cast<std::size_t>(keep)) runs.pop_front();
  return line;
}

std::vector<JobRecord> RunHistory::end_running_as_lost(std::optional<std::int64_t> ended_ms) {
  std::vector<JobRecord> lost;
  for (auto& [key, kept] : running_) {
    JobRecord r = std::move(kept.record);
    r.state = protocol::JobState::finished;
    r.outcome = protocol::JobOutcome::lost;
    r.pid.reset();
    r.exit_code.reset();
    r.signal.reset();
    r.info = std::string(kLostInfo);
    // Never before it started, when the clock was set back meanwhile.
    r.ended_ms = ended_ms ? std::optional(std::max(*ended_ms, r.started_ms.value_or(*ended_ms)))
                          : std::nullopt;
    lost.push_back(std::move(r));
  }
  running_.clear();
  for (const JobRecord& r : lost) ended(r);
  return lost;
}

json RunHistory::numbers_to_keep() const {
  json numbers = json::object();
  std::size_t size = 0;
  for (const auto& [task, number] : last_number_) {
    // Removed tasks' numbers too (a task added back goes on from there), while the line stays
    // well under kMaxLine.
    if (!keep_.count(task) && size > kMaxLine / 2) continue;
    numbers[task] = number;
    size += task.size() + 24;
  }
  return numbers;
}

void RunHistory::apply_numbers(const json& numbers) {
  for (auto it = numbers.begin(); it != numbers.end(); ++it) {
    const json& number = it.value();
    if (it.key().empty() || !number.is_number_integer() || number.get<std::int64_t>() < 1) continue;
    note_number(it.key(), number.get<std::int64_t>());
  }
}

bool RunHistory::apply_line(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.size() != 1) return false;
  const std::string& kind = j.begin().key();
  const json& value = j.begin().value();
  if (kind == "numbers") {
    if (!value.is_object()) return false;
    apply_numbers(value);
    return true;
  }
  if (kind != "started" && kind != "ended") return false;
  std::optional<JobRecord> record = record_in(value);
  if (!record) return false;
  if (kind == "started") {
    started(*record);
  } else {
    if (!record->outcome) return false;  // a finished run says how it ended
    record->state = protocol::JobState::finished;
    ended(*record);
  }
  return true;
}

namespace {

// A record's line, never longer than the loader reads: huge arguments or info are cut (the run
// itself is what the history is for).
std::string fitted_line(std::string_view kind, const JobRecord& record) {
  std::string line = line_of(kind, protocol::to_json(record));
  if (line.size() <= RunHistory::kMaxLine) return line;
  JobRecord cut = record;
  std::size_t bytes = 0;
  for (const std::string& arg : cut.args) bytes += arg.size();
  std::string note = "(";  // built piece by piece: GCC 12 warns wrongly on a chain of + here
  note += std::to_string(record.args.size());
  note += " arguments, ";
  note += std::to_string(bytes);
  note += " bytes, not kept)";
  cut.args = {std::move(note)};
  if (cut.info.size() > 1024) cut.info.resize(1024);
  return line_of(kind, protocol::to_json(cut));
}

}  // namespace

std::string RunHistory::started_line(const JobRecord& record) {
  return fitted_line("started", record);
}

std::string RunHistory::ended_line(const JobRecord& record) {
  return fitted_line("ended", record);
}

std::string RunHistory::text() const {
  std::string out;
  // First, so that numbering goes on for tasks that keep no finished run.
  if (!last_number_.empty()) out += line_of("numbers", numbers_to_keep());
  for (const auto& [task, runs] : finished_) {
    for (const Kept& k : runs) out += k.line;
  }
  for (const auto& [key, kept] : running_) out += kept.line;
  return out;
}

void HistoryLineReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    bytes = nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1);
    bool line_ends = nl != std::string_view::npos;
    if (!skipping_ && partial_.size() + piece.size() > RunHistory::kMaxLine) {
      skipping_ = true;
      partial_.clear();
    }
    if (!skipping_) partial_.append(piece);
    if (!line_ends) return;
    end_line();
    partial_.clear();
    skipping_ = false;
  }
}

void HistoryLineReader::end_line() {
  if (!skipping_) return line(partial_);
  ++counts_.lines;
  ++counts_.too_long;
}

void HistoryLineReader::line(std::string_view text) {
  ++counts_.lines;
  if (text.empty()) return;
  if (!history_.apply_line(text)) ++counts_.garbage;
}

HistoryReadCounts HistoryLineReader::finish() {
  if (skipping_ || !partial_.empty()) {
    counts_.unterminated = true;
    end_line();
  }
  partial_.clear();
  skipping_ = false;
  return std::exchange(counts_, {});
}

std::vector<std::string> describe(const HistoryReadCounts& counts, const RunHistory& history,
                                  std::string_view path) {
  std::vector<std::string> out;
  std::string where = " in the task run history " + std::string(path);
  if (counts.garbage > 0)
    out.push_back(std::to_string(counts.garbage) + " unreadable line(s) skipped" + where);
  if (counts.too_long > 0)
    out.push_back(std::to_string(counts.too_long) + " line(s) longer than " +
                  std::to_string(RunHistory::kMaxLine / 1024) + " KiB skipped" + where);
  if (counts.unterminated)
    out.push_back("the last line" + where +
                  " has no end of line (a daemon killed while writing it); the file is rewritten");
  if (history.running_dropped() > 0)
    out.push_back(std::to_string(history.running_dropped()) + " unfinished run(s) beyond " +
                  std::to_string(RunHistory::kMaxRunning) + " skipped" + where);
  return out;
}

}  // namespace gardien
